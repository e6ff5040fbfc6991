"""Split text into sentences and clauses, the natural places to cut long text for a TTS model.

Chinese and Japanese are written without spaces: a sentence ends at 。！？ (or at . ! ? right after a
CJK character, which is what NFKC makes of the fullwidth ！？．) with or without a space after it,
and a clause at ，、；：. Latin-script sentences end at . ! ? followed by a space.
"""
from __future__ import annotations

import re

# Words whose trailing period does not end a sentence (normalization usually expands these first,
# but split_sentences is also used on raw text).
_NON_FINAL = {"mr", "mrs", "ms", "dr", "st", "prof", "jr", "sr", "vs", "etc", "e.g", "i.e", "no",
              "fig", "approx", "inc", "ltd", "co", "mt", "u.s", "a.m", "p.m"}
# Han, kana and Hangul: scripts whose sentences may run on without a space after their punctuation.
WIDE = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7a3"
_WIDE_LETTER = re.compile(f"[{WIDE}]")
_CLOSERS = "\"')\\]\u300d\u300f\u201d\u2019\uff09\u300b\u3011\u3009"  # " ' ) ] 」 』 ” ’ ） 》 】 〉
_SENTENCE_END = re.compile(rf"""([.!?]+["')\]]*)\s+|((?:[。！？]|(?<=[{WIDE}])[.!?])[。！？.!?]*[{_CLOSERS}]*)\s*""")
_CLAUSE_END = re.compile(rf"""([,;:]["')\]]*)\s+|((?:[，、；：]|(?<=[{WIDE}])[,;:])[{_CLOSERS}]*)\s*""")

Span = tuple[int, int]  # [start, end) in the whitespace-normalized text


def is_wide(text: str) -> bool:
    """Whether `text` holds a Han, kana or Hangul character."""
    return _WIDE_LETTER.search(text) is not None


def sentence_spans(text: str) -> list[Span]:
    """Where each sentence of `text` (whitespace-normalized by the caller) starts and ends; an
    abbreviation ("Dr. Smith") or initial does not end one."""
    out: list[Span] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if m.group(1) is not None:  # ". " in Latin script: abbreviations and initials go on
            candidate = text[start:m.end(1)]
            last_word = candidate.rsplit(" ", 1)[-1].rstrip(".!?\"')]").lower()
            nxt = text[m.end():m.end() + 1]
            if m.group(1).startswith(".") and (last_word in _NON_FINAL
                                               or (len(last_word) == 1 and not is_wide(last_word))):
                continue  # abbreviation or initial ("J. Smith")
            if nxt and nxt.islower():
                continue  # "e.g. this" / "3 p.m. today": the sentence goes on
        end = m.end(1) if m.group(1) is not None else m.end(2)
        if end > start:
            out.append((start, end))
        start = m.end()
    if text[start:].strip():
        out.append((start, len(text.rstrip())))
    return out


def clause_spans(text: str, start: int, end: int) -> list[Span]:
    """Pieces of the sentence text[start:end] cut after , ; : ， 、 ； ： (each keeps its punctuation)."""
    out: list[Span] = []
    pos = start
    for m in _CLAUSE_END.finditer(text, start, end):
        cut = m.end(1) if m.group(1) is not None else m.end(2)
        if cut > pos:
            out.append((pos, cut))
        pos = m.end()
    if text[pos:end].strip():
        out.append((pos, end))
    return out


def split_sentences(text: str) -> list[str]:
    """Sentences in order, each stripped; an abbreviation ("Dr. Smith") or initial does not split."""
    text = " ".join(text.split())
    return [text[s:e] for s, e in sentence_spans(text)]


def split_clauses(sentence: str) -> list[str]:
    """Pieces of one sentence cut after , ; : (each keeps its punctuation)."""
    sentence = " ".join(sentence.split())
    return [sentence[s:e] for s, e in clause_spans(sentence, 0, len(sentence))]
