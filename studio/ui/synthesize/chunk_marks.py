"""Show where the script will be cut: chunk boundaries and pauses as coloured spans in the editor.

Before generation the split is a preview: the chosen model's own rule when it has a torch-free one
(Pocket TTS: sentences grouped by its token count), else a character budget close to CSM's position
budget with a typical reference; after generation the take's own chunks replace it.
"""
from __future__ import annotations

import re
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
        if not isinstance(p, Pause) and rule is not None:
            out += rule(p.text)
        elif not isinstance(p, Pause):
            try:
                out += chunk_text(p.text, fits=lambda t: len(t) <= budget_chars)
            except ValueError:  # one word longer than the budget: show it as its own chunk
                out.append(p.text)
    return out


def locate(text: str, chunks: list[str]) -> list[Span]:
    """Where each chunk (and each pause marker) sits in the raw text, in order."""
    spans = [Span(m.start(), m.end(), "pause", i) for i, m in enumerate(_PAUSE.finditer(text))]
    pos = 0
    for i, chunk in enumerate(chunks):
        words = chunk.split()
        if not words:
            continue
        m = re.compile(r"\s+".join(re.escape(w) for w in words)).search(text, pos)
        if m is None:  # a model's normalized chunk: its first letter capitalized, a final period added
            loose = [re.escape(w) for w in words[:-1]] + [re.escape(words[-1].rstrip("."))]
            m = re.compile(r"\s+".join(loose), re.IGNORECASE).search(text, pos)
        if m is None:  # normalized text that no longer matches the raw script: skip the mark
            continue
        spans.append(Span(m.start(), m.end(), "chunk", i))
        pos = m.end()
    return sorted(spans, key=lambda s: s.start)


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
