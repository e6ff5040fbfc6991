"""Text normalization for WER/CER: both the prompt and the ASR hypothesis go through the same steps,
so that "Mr. Smith paid $5 on the 21st" and "mister smith paid five dollars on the twenty first"
count as equal. Errors left after this are real differences a listener would hear.

Steps: unicode folding -> symbols/abbreviations -> numbers to words -> contractions expanded ->
hyphens split -> punctuation dropped -> lower case, single spaces.
"""
from __future__ import annotations

import re
import unicodedata

# Spelled with hyphens ("twenty-one"); the hyphen step below splits them like any other.
from engine.text.numbers import int_to_words, ordinal_to_words, year_to_words

# Contractions whose expansion is unambiguous. "'s" (is/has/possessive) and "'d" (would/had) are
# ambiguous, so they stay attached to the word: both sides are normalized identically anyway.
_CONTRACTIONS = {
    "won't": "will not", "can't": "can not", "cannot": "can not", "shan't": "shall not",
    "ain't": "is not", "let's": "let us", "y'all": "you all",
}
_SUFFIXES = [("n't", " not"), ("'re", " are"), ("'ll", " will"), ("'ve", " have"), ("'m", " am")]

# Only unambiguous ones: "St." (saint/street) and "No." (number/no) are left alone.
_ABBREVIATIONS = {
    "mr": "mister", "mrs": "missus", "dr": "doctor", "jr": "junior", "vs": "versus",
    "etc": "et cetera", "ok": "okay",
}
_DOTTED = {"e.g": "for example", "i.e": "that is"}
# British spellings folded to American ones, since English Whisper models write American spelling.
_BRITISH = {"colour": "color", "favour": "favor", "honour": "honor", "neighbour": "neighbor",
            "behaviour": "behavior", "labour": "labor", "flavour": "flavor", "humour": "humor",
            "harbour": "harbor", "rumour": "rumor", "vapour": "vapor", "armour": "armor",
            "centre": "center", "theatre": "theater", "metre": "meter", "grey": "gray",
            "travelled": "traveled", "travelling": "traveling", "jewellery": "jewelry"}
_SYMBOLS = {"&": " and ", "%": " percent ", "+": " plus ", "=": " equals ", "@": " at "}
_CURRENCY = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
             "€": ("euro", "euros", "cent", "cents")}


def _looks_like_year(digits: str) -> bool:
    # Four digits without a thousands separator in the usual range: read as a year, as both
    # Whisper's output ("in 1455") and human transcripts ("in fourteen fifty five") mean it.
    return len(digits) == 4 and 1100 <= int(digits) <= 2099


def _number_match_to_words(m: re.Match) -> str:
    currency, whole, frac, suffix = m.group("cur"), m.group("int"), m.group("frac"), m.group("suf")
    digits = whole.replace(",", "")
    suffix = (suffix or "").lower()
    if suffix in ("st", "nd", "rd", "th"):
        return " " + ordinal_to_words(int(digits)) + " "
    if currency:
        unit, units, sub, subs = _CURRENCY[currency]
        n = int(digits)
        out = int_to_words(n) + " " + (unit if n == 1 else units)
        if frac and int(frac) > 0:
            cents = int((frac + "0")[:2])
            out += " " + int_to_words(cents) + " " + (sub if cents == 1 else subs)
        return " " + out + " "
    if frac is not None:
        return " " + int_to_words(int(digits)) + " point " + " ".join(int_to_words(int(d)) for d in frac) + " "
    if "," not in whole and _looks_like_year(digits):
        words = year_to_words(int(digits))
    else:
        words = int_to_words(int(digits))
    if suffix == "s":  # "1990s" -> "nineteen nineties"
        words = words[:-1] + "ies" if words.endswith("y") else words + "s"
    return " " + words + " "


_NUMBER_RE = re.compile(
    r"(?P<cur>[$£€])?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?(?P<suf>st|nd|rd|th|s)?\b",
    re.IGNORECASE)


def normalize_text(text: str) -> str:
    """Lower-case words separated by single spaces; see the module docstring for the steps."""
    t = unicodedata.normalize("NFKC", text)
    t = t.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    t = "".join(c for c in unicodedata.normalize("NFKD", t) if not unicodedata.combining(c))
    t = t.lower()
    for sym, words in _SYMBOLS.items():
        t = t.replace(sym, words)
    t = _NUMBER_RE.sub(_number_match_to_words, t)
    # Abbreviations with their trailing dot ("mr." / "etc."), before punctuation is dropped.
    t = re.sub(r"\b(e\.g|i\.e)\.?", lambda m: " " + _DOTTED[m.group(1)] + " ", t)
    t = re.sub(r"\b[a-z]+\b", lambda m: _ABBREVIATIONS.get(m.group(0), m.group(0)), t)
    # Hyphens and slashes join words that ASR writes either way ("forty-two", "super-imposition"):
    # split them; `merge_compounds` later rejoins words one side wrote closed up.
    t = re.sub(r"[-\u2010-\u2015/]", " ", t)
    words = []
    for w in re.findall(r"[a-z0-9']+", t):
        w = w.strip("'")
        if not w:
            continue
        if w in _CONTRACTIONS:
            words.extend(_CONTRACTIONS[w].split())
            continue
        for suf, repl in _SUFFIXES:
            if w.endswith(suf) and len(w) > len(suf):
                w = w[: -len(suf)] + repl
                break
        for part in w.split():
            words.append(_american(part))
    return " ".join(words)


def _american(word: str) -> str:
    if word in _BRITISH:
        return _BRITISH[word]
    for suffix in ("s", "ed", "ing", "ful", "ite", "ites"):  # colours, coloured, favourite...
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and stem in _BRITISH:
            return _BRITISH[stem] + suffix
    return word


def merge_compounds(ref_words: list[str], hyp_words: list[str]) -> tuple[list[str], list[str]]:
    """Join adjacent words on one side when the other side wrote them as one word
    ("super imposition" vs "superimposition", "every one" vs "everyone"), so a spelling choice
    does not count as two errors."""
    return _merge_into(ref_words, set(hyp_words)), _merge_into(hyp_words, set(ref_words))


def _merge_into(words: list[str], vocab: set[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        if (i + 1 < len(words) and words[i] + words[i + 1] in vocab
                and (words[i] not in vocab or words[i + 1] not in vocab)):
            out.append(words[i] + words[i + 1])
            i += 2
        else:
            out.append(words[i])
            i += 1
    return out
