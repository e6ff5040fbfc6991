"""Parse what the user typed into speech and explicit silences.

`[pause 1.5s]`, `[pause 500ms]` or `[pause]` insert silence; a blank line between paragraphs
inserts `default_pause_s`. Everything else is speech, in order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_PAUSE = re.compile(r"\[\s*pause(?:\s+(\d+(?:\.\d+)?)\s*(ms|s|sec|secs|seconds)?)?\s*\]", re.IGNORECASE)
_BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")
MAX_PAUSE_S = 30.0  # a typo like [pause 1500s] should not produce 25 minutes of silence


class ScriptError(ValueError):
    """The text has nothing to say (empty, or only pauses)."""


@dataclass(frozen=True)
class Speech:
    text: str


@dataclass(frozen=True)
class Pause:
    seconds: float


ScriptPart = Speech | Pause


def _pause_seconds(m: re.Match, default_s: float) -> float:
    if m.group(1) is None:
        return default_s
    value = float(m.group(1))
    seconds = value / 1000.0 if (m.group(2) or "s").lower() == "ms" else value
    return min(seconds, MAX_PAUSE_S)


def parse_script(text: str, *, default_pause_s: float = 0.6) -> list[ScriptPart]:
    """Speech and Pause parts in order; adjacent pauses merge; leading/trailing pauses are kept
    (the user asked for them). Raises ScriptError when there is no speech at all."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    parts: list[ScriptPart] = []

    def add_speech(s: str) -> None:
        for i, para in enumerate(_BLANK_LINE.split(s)):
            if i > 0:
                add_pause(default_pause_s)
            para = " ".join(para.split())
            if para:
                parts.append(Speech(para))

    def add_pause(seconds: float) -> None:
        if seconds <= 0:
            return
        if parts and isinstance(parts[-1], Pause):
            parts[-1] = Pause(min(parts[-1].seconds + seconds, MAX_PAUSE_S))
        else:
            parts.append(Pause(seconds))

    pos = 0
    for m in _PAUSE.finditer(text):
        add_speech(text[pos:m.start()])
        add_pause(_pause_seconds(m, default_pause_s))
        pos = m.end()
    add_speech(text[pos:])
    if not any(isinstance(p, Speech) for p in parts):
        raise ScriptError("There is no text to speak" + (" (only pauses)" if parts else ""))
    return parts
