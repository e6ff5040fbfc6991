"""Show where the script will be cut: chunk boundaries and pauses as coloured spans in the editor.

Before generation the split is a preview: the chosen model's own rule when it has a torch-free one
(Pocket TTS: sentences grouped by its token count; Qwen3-TTS: its KV cache positions with the voice's
reference), else a character budget close to CSM's position budget with a typical reference; after
generation the take's own chunks replace it.
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit

PREVIEW_CHARS = 260  # ~2048 positions minus a 10 s reference (125 frames) minus 30 s of speech frames
_PAUSE = re.compile(r"\[\s*pause[^\]]*\]|\n[ \t]*\n", re.IGNORECASE)
_COLOURS = ("#27414a", "#3a3350")  # alternate chunks; pauses in amber


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str  # "chunk" or "pause"
    index: int  # chunk number (0-based) or pause number


def preview_chunks(text: str, budget_chars: int = PREVIEW_CHARS,
                   rule: Callable[[str], list[str]] | None = None) -> list[str]:
    """The chunks of each spoken part of the script (pauses cut too), by `rule` when given."""
    from engine.text.chunking import chunk_text
    from engine.text.script import Pause, ScriptError, parse_script

    try:
        parts = parse_script(text)
    except ScriptError:
        return []
    out: list[str] = []
    for p in parts:
        if isinstance(p, Pause):
            continue
        try:
            out += rule(p.text) if rule is not None else chunk_text(p.text, fits=lambda t: len(t) <= budget_chars)
        except ValueError:  # one word longer than the budget: show it as its own chunk (generation says why)
            out.append(p.text)
    return out


def _letters(text: str) -> tuple[str, list[int]]:
    """The letters and digits of `text` as a model's normalizer leaves them (NFKC, lower case), and the
    index in `text` each one comes from."""
    chars: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        for f in unicodedata.normalize("NFKC", ch).lower():
            if f.isalnum():
                chars.append(f)
                where.append(i)
    return "".join(chars), where


def locate(text: str, chunks: list[str]) -> list[Span]:
    """Where each chunk (and each pause marker) sits in the raw text, in order."""
    pauses = [Span(m.start(), m.end(), "pause", i) for i, m in enumerate(_PAUSE.finditer(text))]
    found: list[tuple[int, int] | None] = []
    pos = 0
    letters: tuple[str, list[int]] | None = None
    for chunk in chunks:
        words = chunk.split()
        hit = None
        if words:
            m = re.compile(r"\s+".join(re.escape(w) for w in words)).search(text, pos)
            if m is None:  # a model's normalized chunk: its first letter capitalized, a final period added
                loose = [re.escape(w) for w in words[:-1]] + [re.escape(words[-1].rstrip("."))]
                m = re.compile(r"\s+".join(loose), re.IGNORECASE).search(text, pos)
            if m is None:  # normalized punctuation (Chinese ，！？ read as , ! ?): match letters and digits
                letters = letters or _letters(text)
                hit = _find_letters(text, chunk, pos, letters) or _find_by_tail(text, chunk, pos, letters, pauses)
            else:
                hit = m.span()
        found.append(hit)
        pos = hit[1] if hit else pos
    _fill_gaps(text, found, pauses)
    spans = pauses + [Span(f[0], f[1], "chunk", i) for i, f in enumerate(found) if f is not None]
    return sorted(spans, key=lambda s: s.start)


def _find_letters(text: str, chunk: str, pos: int, letters: tuple[str, list[int]]) -> tuple[int, int] | None:
    key = "".join(c for c in unicodedata.normalize("NFKC", chunk).lower() if c.isalnum())
    j = letters[0].find(key, bisect.bisect_left(letters[1], pos)) if key else -1
    if j < 0:
        return None
    start, end = letters[1][j], letters[1][j + len(key) - 1] + 1
    while end < len(text) and unicodedata.category(text[end])[0] == "P" and text[end] != "[":
        end += 1  # the chunk's closing punctuation (。 ” ...)
    return start, end


def _find_by_tail(text: str, chunk: str, pos: int, letters: tuple[str, list[int]],
                  pauses: list[Span]) -> tuple[int, int] | None:
    """A chunk the normalizer rewrote inside ("In 1998, Dr. Lee" read as "In nineteen ninety-eight, Doctor
    Lee") starts where the text goes on after `pos` and ends where its last words are."""
    key = "".join(c for c in unicodedata.normalize("NFKC", chunk).lower() if c.isalnum())
    tail = key[-24:]
    chars, where = letters
    first = bisect.bisect_left(where, pos)
    while first < len(where) and any(p.start <= where[first] < p.end for p in pauses):
        first += 1  # "[pause 1s]" is not speech
    # Spelled-out numbers and abbreviations make the chunk longer than the typed text, never 3x longer.
    j = chars.find(tail, first + (len(key) - len(tail)) // 3, first + 3 * len(key)) if tail else -1
    if j < 0:
        return None
    end = where[j + len(tail) - 1] + 1
    while end < len(text) and unicodedata.category(text[end])[0] == "P" and text[end] != "[":
        end += 1
    return where[first], end


def _fill_gaps(text: str, found: list[tuple[int, int] | None], pauses: list[Span]) -> None:
    """Chunks the normalizer rewrote ("1998" read as "nineteen ninety-eight") are not found in the typed
    text, but they are what lies between their neighbours: a run of such chunks gets the pieces of the
    gap between the pause markers in it, when there are as many pieces as chunks."""
    i = 0
    while i < len(found):
        if found[i] is not None:
            i += 1
            continue
        j = i
        while j < len(found) and found[j] is None:
            j += 1
        lo = found[i - 1][1] if i else 0
        hi = found[j][0] if j < len(found) else len(text)
        cuts = [lo] + [x for p in pauses if lo <= p.start and p.end <= hi for x in (p.start, p.end)] + [hi]
        pieces = [_strip(text, a, b) for a, b in zip(cuts[::2], cuts[1::2]) if text[a:b].strip()]
        if len(pieces) == j - i:
            found[i:j] = pieces
        i = j


def _strip(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def paint(editor: QPlainTextEdit, spans: list[Span]) -> None:
    selections = []
    for s in spans:
        fmt = QTextCharFormat()
        fmt.setBackground(QColor("#5a4a1c" if s.kind == "pause" else _COLOURS[s.index % 2]))
        sel = QTextEdit.ExtraSelection()
        sel.format = fmt
        cur = QTextCursor(editor.document())
        cur.setPosition(s.start)
        cur.setPosition(s.end, QTextCursor.KeepAnchor)
        sel.cursor = cur
        selections.append(sel)
    editor.setExtraSelections(selections)
