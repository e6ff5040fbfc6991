"""Split text into sentences and clauses, the natural places to cut long text for a TTS model."""
from __future__ import annotations

import re

# Words whose trailing period does not end a sentence (normalization usually expands these first,
# but split_sentences is also used on raw text).
_NON_FINAL = {"mr", "mrs", "ms", "dr", "st", "prof", "jr", "sr", "vs", "etc", "e.g", "i.e", "no",
              "fig", "approx", "inc", "ltd", "co", "mt", "u.s", "a.m", "p.m"}
_SENTENCE_END = re.compile(r"""([.!?]+["')\]]*)\s+""")
_CLAUSE_END = re.compile(r"""([,;:]["')\]]*)\s+""")


def split_sentences(text: str) -> list[str]:
    """Sentences in order, each stripped; an abbreviation ("Dr. Smith") or initial does not split."""
    text = " ".join(text.split())
    if not text:
        return []
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        candidate = text[start:m.end(1)]
        last_word = candidate.rsplit(" ", 1)[-1].rstrip(".!?\"')]").lower()
        nxt = text[m.end():m.end() + 1]
        if m.group(1).startswith(".") and (last_word in _NON_FINAL or len(last_word) == 1):
            continue  # abbreviation or initial ("J. Smith")
        if nxt and nxt.islower():
            continue  # "e.g. this" / "3 p.m. today": the sentence goes on
        out.append(candidate.strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def split_clauses(sentence: str) -> list[str]:
    """Pieces of one sentence cut after , ; : (each keeps its punctuation)."""
    parts: list[str] = []
    start = 0
    for m in _CLAUSE_END.finditer(sentence):
        parts.append(sentence[start:m.end(1)].strip())
        start = m.end()
    tail = sentence[start:].strip()
    if tail:
        parts.append(tail)
    return [p for p in parts if p]
