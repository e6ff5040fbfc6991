"""Which of Qwen3-TTS's 10 languages a text is in, from its script and its commonest words.

Cheap and dependency-free, for choosing a take's language by default (the user can always pick one):
- Hangul -> Korean; any kana -> Japanese (Japanese mixes kanji and kana; Chinese has no kana); other
  Han characters -> Chinese; Cyrillic -> Russian.
- Latin text: each language scores its frequent short words and its own letters (ß, ñ, ã/õ...); the
  best score wins, English when nothing else speaks up.
Returns an ISO 639-1 code, or None when the text has no letters at all (digits, punctuation).
"""
from __future__ import annotations

import re
import unicodedata

CODES = ("zh", "en", "ja", "ko", "de", "fr", "ru", "pt", "es", "it")
# The names Qwen3-TTS's config uses (`codec_language_id`) for each code, and back.
NAMES = {"zh": "chinese", "en": "english", "ja": "japanese", "ko": "korean", "de": "german", "fr": "french",
         "ru": "russian", "pt": "portuguese", "es": "spanish", "it": "italian"}
CODE_OF = {v: k for k, v in NAMES.items()}
LABELS = {"zh": "Chinese", "en": "English", "ja": "Japanese", "ko": "Korean", "de": "German", "fr": "French",
          "ru": "Russian", "pt": "Portuguese", "es": "Spanish", "it": "Italian"}

_WORDS = {
    "en": "the and is are was of to in it you that this with for have be not on at by what i my your we they he she",
    "de": "der die das und ist nicht ich sie es ein eine zu mit den auf für von dem sich auch wir ist ihr bin "
          "hat haben wie noch aber nur schon sehr",
    "fr": "le la les et est un une des du je pas que qui dans pour sur avec ce il elle vous nous au aux ne "
          "mais ou son sa ses cette c'est j'ai",
    "es": "el la los las y es un una que de en por para con no se del al está lo como pero muy yo tu más "
          "este esta son hay",
    "pt": "o a os as e é um uma que de em não para com do da dos das no na se por mais muito eu você são "
          "isso está uma ele ela",
    "it": "il lo la gli le e è un una che di in non per con del della sono ho io tu lui lei ma come questo "
          "questa anche molto",
}
_WORDS = {k: set(v.split()) for k, v in _WORDS.items()}
# Letters that (among these six) belong to one language or a few; each hit adds this weight.
_LETTERS = {
    "de": ("äöüß", 2.0),
    "fr": ("èêëçœîïûùÿâ", 1.0),
    "es": ("ñ¿¡", 3.0),
    "pt": ("ãõ", 3.0),
    "it": ("ìò", 1.0),
}
_ACCENTED_ALSO = {"es": "áíóú", "pt": "áâêôçà", "it": "àèù", "fr": "é"}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def _script_counts(text: str) -> dict[str, int]:
    counts = {"hangul": 0, "kana": 0, "han": 0, "cyrillic": 0, "latin": 0}
    for ch in text:
        if not ch.isalpha():
            continue
        o = ord(ch)
        if 0xAC00 <= o <= 0xD7A3 or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
            counts["hangul"] += 1
        elif 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9D:
            counts["kana"] += 1
        elif 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF:
            counts["han"] += 1
        elif 0x0400 <= o <= 0x04FF:
            counts["cyrillic"] += 1
        elif "LATIN" in unicodedata.name(ch, ""):
            counts["latin"] += 1
    return counts


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of `text`'s language among Qwen3-TTS's 10, or None when it has no letters."""
    c = _script_counts(text)
    if not any(c.values()):
        return None
    if c["hangul"] and c["hangul"] >= c["kana"]:
        return "ko"
    if c["kana"]:
        return "ja"
    if c["han"] and c["han"] >= c["latin"] / 4:
        return "zh"
    if c["cyrillic"] and c["cyrillic"] >= c["latin"]:
        return "ru"
    low = text.lower()
    words = _WORD.findall(low)
    scores = {k: float(sum(w in vocab for w in words)) for k, vocab in _WORDS.items()}
    for lang, (letters, weight) in _LETTERS.items():
        scores[lang] += weight * sum(low.count(ch) for ch in letters)
    for lang, letters in _ACCENTED_ALSO.items():
        scores[lang] += 0.5 * sum(low.count(ch) for ch in letters)
    best = max(scores, key=lambda k: (scores[k], k == "en"))
    return best if scores[best] > 0 else "en"


def take_language(text: str) -> str:
    """The language a Qwen3-TTS take asks for when it is detected from its text, by the model's name
    for it ("german"), as a take's recipe stores it; "auto" (the model's own guess) when the text has no
    letters to tell. The Synthesize workspace and `mynah synth` both choose with this."""
    code = detect_language(text)
    return NAMES.get(code, "auto") if code else "auto"
