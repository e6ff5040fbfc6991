"""Cut long text into chunks that each fit a model's token budget.

A model tells us what fits either as a predicate `fits(text) -> bool` (the backend knows its
position budget with a given voice prompt) or as `count_tokens(text) -> int` plus `max_tokens`.
Chunks are packed greedily from whole sentences; a sentence that alone is too long is cut at
clauses, then at words (Chinese and Japanese, which have no spaces between words: at characters),
so nothing the user typed is dropped and order is kept. Each chunk is a piece of the
whitespace-normalized text as it stands (no space is added between sentences that had none).
"""
from __future__ import annotations

import re
from typing import Callable

from engine.text.sentences import Span, clause_spans, is_wide, sentence_spans

_WORD = re.compile(r"\S+")


class TextTooLongError(ValueError):
    """A single word does not fit the model's budget (e.g. the voice prompt leaves no room)."""


def _make_fits(fits: Callable[[str], bool] | None, count_tokens: Callable[[str], int] | None,
               max_tokens: int | None) -> Callable[[str], bool]:
    if fits is not None:
        return fits
    if count_tokens is None or max_tokens is None:
        raise ValueError("chunk_text needs fits=..., or count_tokens=... with max_tokens=...")
    return lambda text: count_tokens(text) <= max_tokens


def _pack(text: str, pieces: list[Span], fits: Callable[[str], bool]) -> list[Span]:
    """Greedy: join consecutive pieces while the text from the first to the last still fits."""
    chunks: list[Span] = []
    current: Span | None = None
    for start, end in pieces:
        if current is not None and fits(text[current[0]:end]):
            current = (current[0], end)
        else:
            if current is not None:
                chunks.append(current)
            current = (start, end)
    if current is not None:
        chunks.append(current)
    return chunks


def _split_oversized(text: str, sentence: Span, fits: Callable[[str], bool]) -> list[Span]:
    """Pieces of a sentence that each fit: clauses first, words when a clause is still too long, and
    for a CJK run with no spaces, characters."""
    pieces: list[Span] = []
    for start, end in clause_spans(text, *sentence):
        if fits(text[start:end]):
            pieces.append((start, end))
            continue
        for m in _WORD.finditer(text, start, end):
            word = m.group()
            if fits(word):
                pieces.append(m.span())
            elif is_wide(word):  # no spaces to cut at: any character boundary will do
                pieces += _pack(text, [(i, i + 1) for i in range(m.start(), m.end())], fits)
            else:
                raise TextTooLongError(
                    f"The word {word[:40]!r} alone is longer than the model can say in one go "
                    "(try a shorter reference clip)")
    return _pack(text, pieces, fits)


def chunk_text(text: str, *, fits: Callable[[str], bool] | None = None,
               count_tokens: Callable[[str], int] | None = None,
               max_tokens: int | None = None) -> list[str]:
    """Chunks of `text` (whitespace-normalized) each accepted by `fits`, in order, nothing dropped."""
    fits_fn = _make_fits(fits, count_tokens, max_tokens)
    text = " ".join(text.split())
    pieces: list[Span] = []
    for s, e in sentence_spans(text):
        pieces.extend([(s, e)] if fits_fn(text[s:e]) else _split_oversized(text, (s, e), fits_fn))
    return [text[s:e] for s, e in _pack(text, pieces, fits_fn)]
