"""Spell numbers as words, because token LMs read "1,250" and "$3.50" unreliably.

English only (the CSM recipe is English); other languages pass text through unchanged.
"""
from __future__ import annotations

import re

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
         "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = [(10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand")]
_ORDINAL_IRREGULAR = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                      "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}


def int_to_words(n: int) -> str:
    if n < 0:
        return "minus " + int_to_words(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + ("-" + _ONES[ones] if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return _ONES[hundreds] + " hundred" + (" " + int_to_words(rest) if rest else "")
    for value, name in _SCALES:
        if n >= value:
            head, rest = divmod(n, value)
            return int_to_words(head) + " " + name + (" " + int_to_words(rest) if rest else "")
    raise AssertionError("unreachable")


def ordinal_to_words(n: int) -> str:
    words = int_to_words(n)
    head, sep, last = words.rpartition(" ")
    prefix, dash, unit = last.rpartition("-")
    if unit in _ORDINAL_IRREGULAR:
        unit = _ORDINAL_IRREGULAR[unit]
    elif unit.endswith("y"):
        unit = unit[:-1] + "ieth"
    else:
        unit += "th"
    return head + sep + prefix + dash + unit


def year_to_words(n: int) -> str:
    """1990 -> "nineteen ninety", 2005 -> "two thousand five", 1900 -> "nineteen hundred"."""
    if 2000 <= n < 2010 or n % 1000 == 0:
        return int_to_words(n)
    head, tail = divmod(n, 100)
    if tail == 0:
        return int_to_words(head) + " hundred"
    if tail < 10:
        return int_to_words(head) + " oh " + int_to_words(tail)
    return int_to_words(head) + " " + int_to_words(tail)


def _decimal(whole: str, frac: str) -> str:
    return int_to_words(int(whole or "0")) + " point " + " ".join(_ONES[int(d)] for d in frac)


def _money(m: re.Match) -> str:
    whole = int(m.group(1).replace(",", ""))
    cents = int((m.group(2) or "0").ljust(2, "0")[:2])
    unit = "dollar" if whole == 1 else "dollars"
    out = f"{int_to_words(whole)} {unit}"
    if cents:
        out += f" and {int_to_words(cents)} cent" + ("" if cents == 1 else "s")
    return out


_MONEY = re.compile(r"\$(\d[\d,]*)(?:\.(\d{1,2}))?\b")
_PERCENT = re.compile(r"\b(\d+(?:\.\d+)?)\s?%")
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(1[1-9]\d\d|20\d\d)\b(?![.,]\d)")
_DECIMAL = re.compile(r"\b(\d+)\.(\d+)\b")
_GROUPED = re.compile(r"\b\d{1,3}(?:,\d{3})+\b")
_INT = re.compile(r"\b\d+\b")


def spell_numbers(text: str) -> str:
    """Replace digits with words: money, percents, ordinals, years, decimals, then integers."""
    text = _MONEY.sub(_money, text)
    text = _PERCENT.sub(lambda m: _spell_plain(m.group(1)) + " percent", text)
    text = _ORDINAL.sub(lambda m: ordinal_to_words(int(m.group(1))), text)
    text = _YEAR.sub(lambda m: year_to_words(int(m.group(1))), text)
    text = _DECIMAL.sub(lambda m: _decimal(m.group(1), m.group(2)), text)
    text = _GROUPED.sub(lambda m: int_to_words(int(m.group(0).replace(",", ""))), text)
    return _INT.sub(lambda m: int_to_words(int(m.group(0))), text)


def _spell_plain(s: str) -> str:
    whole, _, frac = s.partition(".")
    return _decimal(whole, frac) if frac else int_to_words(int(whole))
