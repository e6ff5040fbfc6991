"""Normalize text before a TTS model reads it.

Token LMs trained on transcripts read plain words best: typographic quotes, odd dashes, emoji,
markup and digits are either mispronounced or trigger babble. Normalization keeps the meaning and
the punctuation that shapes prosody (. , ? ! ; :).
"""
from __future__ import annotations

import re
import unicodedata

from engine.text.numbers import spell_numbers

_REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2013": ", ", "\u2014": ", ", "\u2015": ", ", "\u2212": "-",
    "\u2026": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u200b": "",
}
_ENGLISH_SYMBOLS = {"&": " and ", "@": " at ", "+": " plus "}
_ABBREVIATIONS = {
    "Mr.": "Mister", "Mrs.": "Missus", "Ms.": "Miz", "Dr.": "Doctor", "St.": "Saint",
    "Prof.": "Professor", "Jr.": "Junior", "Sr.": "Senior", "vs.": "versus", "etc.": "etcetera",
    "e.g.": "for example", "i.e.": "that is",
}
_URL = re.compile(r"https?://\S+|www\.\S+")
_MARKUP = re.compile(r"[*_~`#<>|\\^]")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")
_REPEATED_COMMA = re.compile(r"(,\s*){2,}")


def _drop_symbols(text: str) -> str:
    # Emoji and other symbols (So/Sk/Cs/Co) have no spoken form a TTS model knows.
    return "".join(c for c in text if unicodedata.category(c) not in ("So", "Sk", "Cs", "Co", "Cc")
                   or c in "\n\t")


def is_english(language: str | None) -> bool:
    """English-only models (CSM) name no language; "auto" (a multilingual model's guess) is not English."""
    return (language or "en").strip().lower() in ("en", "english")


def normalize_for_tts(text: str, *, spell_out_numbers: bool = True, language: str | None = "en") -> str:
    """One clean line of speakable text (newlines become spaces; pauses are handled by script.py).

    English words (abbreviations, "and" for &, spelled-out numbers, "link" for URLs) only for English:
    a French or German model must not read "etcetera" or "three" (multilingual models read digits in
    their own language)."""
    english = is_english(language)
    text = unicodedata.normalize("NFKC", text)
    for src, dst in (_REPLACEMENTS | _ENGLISH_SYMBOLS if english else _REPLACEMENTS).items():
        text = text.replace(src, dst)
    text = _URL.sub(" link " if english else " ", text)
    if english:
        for src, dst in _ABBREVIATIONS.items():
            text = re.sub(r"(?<!\w)" + re.escape(src), dst, text)
    text = _MARKUP.sub(" ", text)
    text = _drop_symbols(text)
    if spell_out_numbers and english:
        text = spell_numbers(text)
    text = " ".join(text.split())
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _REPEATED_COMMA.sub(", ", text)
    return text.strip(" ,")
