"""Our Qwen2 tokenizer (tokenizers, built from vocab.json + merges.txt) splits text as transformers'
Qwen2 tokenizer does, multilingual text included, and writes the chat form qwen-tts builds."""
from __future__ import annotations

import pytest

from engine.backends.qwen3_text import QwenTextTokenizer
from engine.hub.checkpoint import CheckpointError
from tests.engine.qwen3_ref.tiny import write_tokenizer

transformers = pytest.importorskip("transformers")
TEXTS = ["Hello there, this is a tiny test voice.", "  Numbers 1234 and 5.6 don't merge!\n\nNew line",
         "Grüße aus München — ça va? ¿Qué tal?", "你好，世界。こんにちは 안녕하세요 Привет",
         "tabs\tand   spaces\r\nCRLF"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    f = tmp_path_factory.mktemp("qwen-tok")
    write_tokenizer(f)
    return f


def test_ids_equal_transformers_qwen2_tokenizer(folder):
    import json

    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    merges = [tuple(m.split(" ")) for m in (folder / "merges.txt").read_text(encoding="utf-8").splitlines()
              if m and not m.startswith("#version")]
    ref = transformers.Qwen2TokenizerFast(vocab=vocab, merges=merges)
    ours = QwenTextTokenizer(folder)
    for text in TEXTS:
        assert ours.encode(text) == ref(text, add_special_tokens=False)["input_ids"], text


def test_chat_form_and_missing_files(folder, tmp_path):
    tok = QwenTextTokenizer(folder)
    ids = tok.target("Hi")
    assert ids[:3] == [151644, tok.assistant, tok.newline] and ids[-5:] == [151645, tok.newline, 151644,
                                                                            tok.assistant, tok.newline]
    assert tok.encode("<|im_start|>") != [151644]  # typed text never becomes a chat token
    with pytest.raises(CheckpointError, match="vocab.json"):
        QwenTextTokenizer(tmp_path)
