"""Normalization: what a TTS model is given to read."""
from __future__ import annotations

import pytest

from engine.text.normalize import normalize_for_tts
from engine.text.numbers import int_to_words, ordinal_to_words, spell_numbers, year_to_words


@pytest.mark.parametrize("n, words", [
    (0, "zero"), (7, "seven"), (13, "thirteen"), (40, "forty"), (42, "forty-two"),
    (100, "one hundred"), (305, "three hundred five"), (1000, "one thousand"),
    (1250, "one thousand two hundred fifty"), (2_000_017, "two million seventeen"), (-3, "minus three"),
])
def test_integers(n, words):
    assert int_to_words(n) == words


@pytest.mark.parametrize("n, words", [(1, "first"), (2, "second"), (3, "third"), (12, "twelfth"),
                                      (20, "twentieth"), (21, "twenty-first"), (101, "one hundred first")])
def test_ordinals(n, words):
    assert ordinal_to_words(n) == words


@pytest.mark.parametrize("n, words", [(1990, "nineteen ninety"), (2005, "two thousand five"),
                                      (1900, "nineteen hundred"), (1905, "nineteen oh five"),
                                      (2024, "twenty twenty-four")])
def test_years(n, words):
    assert year_to_words(n) == words


def test_numbers_in_context():
    assert spell_numbers("It costs $3.50 today") == "It costs three dollars and fifty cents today"
    assert spell_numbers("$1 and 10%") == "one dollar and ten percent"
    assert spell_numbers("pi is 3.14") == "pi is three point one four"
    assert spell_numbers("the 2nd of 3,000 runs") == "the second of three thousand runs"
    assert spell_numbers("born in 1984") == "born in nineteen eighty-four"


def test_normalize_keeps_prosody_punctuation_and_drops_what_cannot_be_spoken():
    out = normalize_for_tts("“Hello”—said Dr. Smith… it’s *great* 😀!  Visit https://x.org now?")
    assert out == "\"Hello\", said Doctor Smith... it's great! Visit link now?"


def test_normalize_collapses_whitespace_and_can_keep_digits():
    assert normalize_for_tts("  a\n\tb   c  ") == "a b c"
    assert normalize_for_tts("room 101", spell_out_numbers=False) == "room 101"
    assert normalize_for_tts("😀 🎉") == ""


def test_a_non_english_take_keeps_its_numbers_and_words():
    """A multilingual model reads "3 Äpfel & 2 Birnen" itself: English words would be wrong."""
    out = normalize_for_tts("Ich habe 3 Äpfel & 2 Birnen… „gut“ 😀", language="de")
    assert out == 'Ich habe 3 Äpfel & 2 Birnen... "gut"'
    assert normalize_for_tts("Ich habe 3 Äpfel") == "Ich habe three Äpfel"  # the English default


def test_the_worker_normalises_by_the_takes_language():
    from engine.backends.base import SamplingParams
    from engine.jobs import Synthesize
    from engine.worker_synth import plan_items

    def said(language):
        opts = {} if language is None else {"language": language}
        req = Synthesize(text="Es sind 3 Katzen.", params=SamplingParams(options=opts))
        return " ".join(i.text for i in plan_items(req, lambda t: [t]) if i.text)

    assert said(None) == "Es sind three Katzen." and said("english") == "Es sind three Katzen."
    assert said("german") == "Es sind 3 Katzen." and said("auto") == "Es sind 3 Katzen."
