"""Qwen2 text tokenizer for Qwen3-TTS prompts (vocab.json + merges.txt, or tokenizer.json).

Built with the `tokenizers` library the way Qwen2's fast tokenizer is: NFC, Qwen2's split regex,
byte-level BPE. The chat tokens (<|im_start|>, <|im_end|>) are written as ids (from
tokenizer_config.json, else Qwen2's), never parsed from text, so a transcript cannot inject them.
"""
from __future__ import annotations

import json
from pathlib import Path

from engine.hub.errors import CheckpointError

# Qwen2's pre-tokenizer split (letters, numbers one by one, punctuation runs, newlines, spaces).
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")
IM_START, IM_END = 151644, 151645


class QwenTextTokenizer:
    def __init__(self, folder: Path) -> None:
        from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

        folder = Path(folder)
        try:
            if (folder / "tokenizer.json").is_file():
                self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
            else:
                vocab, merges = folder / "vocab.json", folder / "merges.txt"
                for f in (vocab, merges):
                    if not f.is_file():
                        raise CheckpointError(f"{f.name} is missing from {folder} (the Qwen2 text tokenizer)")
                tok = Tokenizer(models.BPE.from_file(str(vocab), str(merges)))
                tok.normalizer = normalizers.NFC()
                tok.pre_tokenizer = pre_tokenizers.Sequence([
                    pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated"),
                    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
                tok.decoder = decoders.ByteLevel()
                self._tok = tok
        except CheckpointError:
            raise
        except Exception as e:  # tokenizers raises plain Exception on bad files
            raise CheckpointError(f"the text tokenizer in {folder} could not be read: {e}") from None
        specials = _added_tokens(folder / "tokenizer_config.json")
        self.im_start = specials.get("<|im_start|>", IM_START)
        self.im_end = specials.get("<|im_end|>", IM_END)
        self.assistant, self.user, self.newline = (self._one(w) for w in ("assistant", "user", "\n"))

    def _one(self, word: str) -> int:
        ids = self._tok.encode(word, add_special_tokens=False).ids
        if len(ids) != 1:
            raise CheckpointError(f"the text tokenizer splits {word!r} into {len(ids)} tokens; Qwen's has one")
        return ids[0]

    def encode(self, text: str) -> list[int]:
        return self._tok.encode(text, add_special_tokens=False).ids

    def target(self, text: str) -> list[int]:
        """<|im_start|>assistant\\n{text}<|im_end|>\\n<|im_start|>assistant\\n"""
        return ([self.im_start, self.assistant, self.newline] + self.encode(text)
                + [self.im_end, self.newline, self.im_start, self.assistant, self.newline])

    def reference(self, text: str) -> list[int]:
        """<|im_start|>assistant\\n{text}<|im_end|>\\n"""
        return [self.im_start, self.assistant, self.newline] + self.encode(text) + [self.im_end, self.newline]

    def instruction(self, text: str) -> list[int]:
        """<|im_start|>user\\n{text}<|im_end|>\\n"""
        return [self.im_start, self.user, self.newline] + self.encode(text) + [self.im_end, self.newline]


def _added_tokens(path: Path) -> dict[str, int]:
    if not path.is_file():
        return {}
    try:
        added = json.loads(path.read_text(encoding="utf-8")).get("added_tokens_decoder") or {}
        return {v["content"]: int(k) for k, v in added.items() if isinstance(v, dict) and "content" in v}
    except (OSError, ValueError, AttributeError):
        raise CheckpointError(f"{path} is not a valid tokenizer config") from None
