"""The Synthesize preview's Pocket TTS chunk rule (engine/backends/pocket_split.py, torch-free) gives
exactly the chunks generation uses (the pocket-tts package's split, PocketBackend.split_text), with each
config's text rules, on a tokenizer in the repos' format."""
from __future__ import annotations

import subprocess
import sys

import pytest

from engine.backends.pocket_files import package_config_dir
from engine.backends.pocket_split import TextRules, load_tokenizer, split
from tests.engine.tiny_pocket import write_tokenizer

TEXTS = [
    "Hello there. How are you today? I am fine, thanks!",
    "It costs 3.50 dollars; that is cheap. Really cheap.",
    "one two three",
    "A very long sentence that keeps going, with a comma here, a semicolon there; and a colon: "
    "until it is far longer than any single chunk can hold without being cut somewhere sensible",
    "\u201cQuoted,\u201d she said \u2014 and left\u2026 Then nothing",
    "Short. " * 12,
    "   ",
]


@pytest.fixture(scope="module")
def tokenizer_json(tmp_path_factory):
    return write_tokenizer(tmp_path_factory.mktemp("tok") / "tokenizer.json", 160)


@pytest.mark.parametrize("variant", ["english", "french", "english_2026-01"])
def test_the_preview_rule_equals_the_packages_split(tokenizer_json, variant):
    pytest.importorskip("torch")
    from pocket_tts.models.text_chunking import split_into_best_sentences
    from pocket_tts.modules.text_conditioner import JsonTokenizer

    rules = TextRules.from_config(package_config_dir() / f"{variant}.yaml")
    theirs = JsonTokenizer(160, str(tokenizer_json))
    encode, decode = load_tokenizer(tokenizer_json)
    for text in TEXTS:
        want = [] if not text.strip() else split_into_best_sentences(
            theirs, text, 50, rules.pad_with_spaces_for_short_inputs, rules.remove_semicolons,
            rules.append_terminal_punctuation, rules.capitalize_first_letter, dict(rules.replace_characters))
        assert split(text, encode, decode, rules) == want, text
    assert len(split(TEXTS[3], encode, decode, rules)) >= 2  # the long sentence really is cut


def test_french_rules_come_from_its_config():
    assert TextRules.from_config(package_config_dir() / "french.yaml").remove_semicolons
    assert not TextRules.from_config(package_config_dir() / "english.yaml").remove_semicolons


def test_the_rule_loads_without_torch(tokenizer_json):
    code = ("import sys; from engine.backends.pocket_split import load_tokenizer, split; "
            f"e, d = load_tokenizer({str(tokenizer_json)!r}); print(len(split('One. Two.', e, d)), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "False"]
