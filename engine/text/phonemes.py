"""Phoneme coverage of a prompt script (and of what is recorded so far) with the CMU dictionary.

pocketsphinx ships cmudict (ARPABET without stress marks, 39 phones); we read it directly so no
speech model is loaded. Words it does not know are reported, not guessed.
"""
from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Iterable

ARPABET = ("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH "
           "UH UW V W Y Z ZH").split()
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_lock = threading.Lock()
_dict: dict[str, tuple[str, ...]] | None = None


def cmudict_path() -> Path | None:
    spec = find_spec("pocketsphinx")
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / "model" / "en-us" / "cmudict-en-us.dict"
    return p if p.is_file() else None


def load_cmudict() -> dict[str, tuple[str, ...]]:
    """word (lower case) -> phones of its first pronunciation; {} when pocketsphinx is absent."""
    global _dict
    with _lock:
        if _dict is None:
            d: dict[str, tuple[str, ...]] = {}
            path = cmudict_path()
            if path is not None:
                with open(path, encoding="utf-8", errors="replace") as f:
                    for line in f:
                        parts = line.split()
                        if len(parts) < 2 or "(" in parts[0]:  # "(2)" = alternative pronunciation
                            continue
                        d.setdefault(parts[0].lower(), tuple(parts[1:]))
            _dict = d
        return _dict


@dataclass
class Coverage:
    counts: Counter = field(default_factory=Counter)  # phone -> occurrences
    words: int = 0
    unknown_words: Counter = field(default_factory=Counter)

    @property
    def covered(self) -> set[str]:
        return {p for p in ARPABET if self.counts[p] > 0}

    @property
    def missing(self) -> list[str]:
        return [p for p in ARPABET if self.counts[p] == 0]

    @property
    def fraction(self) -> float:
        return len(self.covered) / len(ARPABET)

    def summary(self) -> str:
        s = f"{len(self.covered)}/{len(ARPABET)} phonemes"
        if self.missing:
            s += " (missing " + " ".join(self.missing) + ")"
        if self.unknown_words:
            s += f"; {sum(self.unknown_words.values())} words not in the dictionary"
        return s


def text_phones(text: str, d: dict[str, tuple[str, ...]] | None = None) -> tuple[list[str], list[str]]:
    """(phones, unknown words) of one text."""
    d = load_cmudict() if d is None else d
    phones: list[str] = []
    unknown: list[str] = []
    for w in _WORD.findall(text):
        p = d.get(w.lower())
        if p is None:
            unknown.append(w.lower())
        else:
            phones.extend(p)
    return phones, unknown


def coverage(texts: Iterable[str]) -> Coverage:
    d = load_cmudict()
    cov = Coverage()
    for t in texts:
        phones, unknown = text_phones(t, d)
        cov.counts.update(phones)
        cov.unknown_words.update(unknown)
        cov.words += len(_WORD.findall(t))
    return cov
