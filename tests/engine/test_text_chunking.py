"""Sentence splitting and long-text chunking under a token budget."""
from __future__ import annotations

import pytest

from engine.text.chunking import TextTooLongError, chunk_text
from engine.text.sentences import split_clauses, split_sentences

STORY = ("Mynah listens first. Then it speaks, slowly and clearly, in a voice you chose. "
         "Dr. Lee asked whether it could read a whole chapter! It can: the text is cut at sentence "
         "boundaries, and a sentence that is far too long for the model is cut at its commas, "
         "and then, only if it must, between words. Nothing is dropped?")


def words(n: str) -> int:
    return len(n.split())


def test_sentences_respect_abbreviations_and_initials():
    assert split_sentences("Dr. Smith met J. Doe at 3 p.m. today. They talked! Why? Because.") == [
        "Dr. Smith met J. Doe at 3 p.m. today.", "They talked!", "Why?", "Because."]
    assert split_sentences('He said "stop." Then left.') == ['He said "stop."', "Then left."]
    assert split_sentences("  ") == []


def test_clauses():
    assert split_clauses("First, second; third: fourth") == ["First,", "second;", "third:", "fourth"]


@pytest.mark.parametrize("budget", [6, 12, 25, 200])
def test_chunks_fit_keep_order_and_drop_nothing(budget):
    chunks = chunk_text(STORY, count_tokens=words, max_tokens=budget)
    assert all(words(c) <= budget for c in chunks)
    assert " ".join(chunks).split() == STORY.split()
    if budget == 200:
        assert chunks == [" ".join(STORY.split())]


def test_chunks_prefer_sentence_boundaries():
    chunks = chunk_text(STORY, count_tokens=words, max_tokens=25)
    # Every chunk but the cut-up long sentence ends at sentence punctuation.
    assert chunks[0] == ("Mynah listens first. Then it speaks, slowly and clearly, in a voice you chose. "
                         "Dr. Lee asked whether it could read a whole chapter!")
    assert sum(c[-1] in ".!?" for c in chunks) >= len(chunks) - 1


def test_fits_predicate_form_and_errors():
    chunks = chunk_text("aaa bbb. ccc ddd.", fits=lambda t: len(t) <= 8)
    assert chunks == ["aaa bbb.", "ccc ddd."]
    with pytest.raises(TextTooLongError, match="longer than the model"):
        chunk_text("supercalifragilistic", fits=lambda t: len(t) <= 5)
    with pytest.raises(ValueError, match="needs fits"):
        chunk_text("x")
    assert chunk_text("", fits=lambda t: True) == []


def test_chinese_and_japanese_sentences_end_at_their_own_punctuation():
    assert split_sentences("你好。我很好！你呢？圆周率是3.14。他说：“走吧。”然后走了。") == [
        "你好。", "我很好！", "你呢？", "圆周率是3.14。", "他说：“走吧。”", "然后走了。"]
    assert split_sentences("你好!我很好? 好的.Hello there. OK") == ["你好!", "我很好?", "好的.", "Hello there.", "OK"]
    assert split_sentences("今日は晴れです。散歩しましょう。") == ["今日は晴れです。", "散歩しましょう。"]
    assert split_clauses("第一，第二、第三;第四:第五") == ["第一，", "第二、", "第三;", "第四:", "第五"]


def test_cjk_chunks_keep_the_text_as_written():
    text = "今天天气很好，我们去公园散步。" * 20
    chunks = chunk_text(text, fits=lambda t: len(t) <= 50)
    assert "".join(chunks) == text and all(c.endswith("。") and len(c) <= 50 for c in chunks)
    run = "一二三四五六七八九十" * 10  # no punctuation at all: cut between characters
    chunks = chunk_text(run, fits=lambda t: len(t) <= 23)
    assert "".join(chunks) == run and all(len(c) <= 23 for c in chunks)
