"""Cut long text into chunks that each fit a model's token budget.

A model tells us what fits either as a predicate `fits(text) -> bool` (the backend knows its
position budget with a given voice prompt) or as `count_tokens(text) -> int` plus `max_tokens`.
Chunks are packed greedily from whole sentences; a sentence that alone is too long is cut at
clauses, then at words, so nothing the user typed is dropped and order is kept.
"""
from __future__ import annotations

from typing import Callable

from engine.text.sentences import split_clauses, split_sentences


class TextTooLongError(ValueError):
    """A single word does not fit the model's budget (e.g. the voice prompt leaves no room)."""


def _make_fits(fits: Callable[[str], bool] | None, count_tokens: Callable[[str], int] | None,
               max_tokens: int | None) -> Callable[[str], bool]:
    if fits is not None:
        return fits
    if count_tokens is None or max_tokens is None:
        raise ValueError("chunk_text needs fits=..., or count_tokens=... with max_tokens=...")
    return lambda text: count_tokens(text) <= max_tokens


def _pack(pieces: list[str], fits: Callable[[str], bool]) -> list[str]:
    """Greedy: join consecutive pieces while the joined text still fits."""
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current} {piece}" if current else piece
        if fits(candidate):
            current = candidate
        else:
            if current:
                chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks


def _split_oversized(sentence: str, fits: Callable[[str], bool]) -> list[str]:
    """Pieces of a sentence that each fit: clauses first, words when a clause is still too long."""
    pieces: list[str] = []
    for clause in split_clauses(sentence):
        if fits(clause):
            pieces.append(clause)
            continue
        for word in clause.split():
            if not fits(word):
                raise TextTooLongError(
                    f"The word {word[:40]!r} alone is longer than the model can say in one go "
                    "(try a shorter reference clip)")
            pieces.append(word)
    return _pack(pieces, fits)


def chunk_text(text: str, *, fits: Callable[[str], bool] | None = None,
               count_tokens: Callable[[str], int] | None = None,
               max_tokens: int | None = None) -> list[str]:
    """Chunks of `text` (whitespace-normalized) each accepted by `fits`, in order, nothing dropped."""
    fits_fn = _make_fits(fits, count_tokens, max_tokens)
    pieces: list[str] = []
    for sentence in split_sentences(text):
        pieces.extend([sentence] if fits_fn(sentence) else _split_oversized(sentence, fits_fn))
    return _pack(pieces, fits_fn)
