"""WER normalization and the aligned word diff (no models)."""
from __future__ import annotations

import pytest

from engine.eval.text_norm import int_to_words, normalize_text
from engine.eval.wer import EmptyReferenceError, compute_wer, corpus_wer, format_diff


@pytest.mark.parametrize("written, spoken", [
    ("Mr. Smith paid $5.50 on the 21st.", "mister smith paid five dollars fifty cents on the twenty first"),
    ("In 1455, 42 people came.", "in fourteen fifty five forty two people came"),
    ("It's 1,000,042 or 3.14", "it's one million forty two or three point one four"),
    ("I won't go; they're here and we'll see.", "i will not go they are here and we will see"),
    ("The forty-two line Bible", "the forty two line bible"),
    ("Rock & roll, 50% etc.", "rock and roll fifty percent et cetera"),
    ("the 1990s and 2007", "the nineteen nineties and two thousand seven"),
    ("the coloured band", "the colored band"),
    ("\u201cQuoted\u201d \u2014 caf\u00e9\u2019s", "quoted cafe's"),
])
def test_written_and_spoken_forms_normalize_alike(written, spoken):
    assert normalize_text(written) == normalize_text(spoken) == spoken


def test_numbers_in_words():
    assert int_to_words(0) == "zero"
    assert int_to_words(115) == "one hundred fifteen"
    assert int_to_words(2_000_019) == "two million nineteen"


def test_same_sentence_with_other_punctuation_and_case_scores_zero():
    r = compute_wer("Not at this particular case, Tom, apologized Whittemore.",
                    "not at this particular case tom apologized whittemore")
    assert r.wer == 0.0 and r.cer == 0.0 and r.errors == 0


def test_hyphen_or_closed_compound_is_not_an_error():
    r = compute_wer("the effect of super-imposition of bows", "The effect of superimposition of bows.")
    assert r.wer == 0.0


def test_diff_shows_dropped_repeated_and_substituted_words():
    r = compute_wer("the quick brown fox jumps over the lazy dog",
                    "the quick fox jumps jumps over a lazy dog")
    assert r.dropped_words == ["brown"]
    assert r.repeated_words == ["jumps"]
    subs = [op for op in r.ops if op.kind == "substitute"]
    assert [(op.ref, op.hyp) for op in subs] == [(("the",), ("a",))]
    assert (r.substitutions, r.deletions, r.insertions) == (1, 1, 1)
    assert r.wer == pytest.approx(3 / 9)
    # Every reference and hypothesis word is covered exactly once, in order (the diff view relies on it).
    assert [w for op in r.ops for w in op.ref] == r.ref_words
    assert [w for op in r.ops for w in op.hyp] == r.hyp_words
    assert "[-brown-]" in format_diff(r) and "{+jumps+}(repeat)" in format_diff(r)


def test_empty_hypothesis_drops_every_word_and_empty_reference_is_refused():
    r = compute_wer("three words here", "")
    assert r.wer == 1.0 and r.dropped_words == ["three", "words", "here"]
    with pytest.raises(EmptyReferenceError):
        compute_wer(" ... ", "something")


def test_runaway_take_can_exceed_100_percent():
    r = compute_wer("hello", "hello hello hello there")
    assert r.wer == pytest.approx(3.0)


def test_corpus_wer_pools_words_instead_of_averaging_clips():
    short = compute_wer("yes", "no")  # 1 error / 1 word
    long = compute_wer("one two three four five six seven eight nine", "one two three four five six seven eight nine")
    assert corpus_wer([short, long]) == pytest.approx(1 / 10)
