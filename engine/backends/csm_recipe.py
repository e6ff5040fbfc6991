"""How CSM lays out a prompt: text rows, reference audio rows, the EOS frame, the position budget.

Sequence for one synthesis (one row = one backbone position, see csm_model.py):
    [text rows of "[0]<reference transcript>"] [reference audio frames] [EOS frame]
    [text rows of "[0]<text to say>"] -> generated frames...
Text rows are the Llama-3 tokens of `[speaker]text` wrapped in <|begin_of_text|>/<|end_of_text|>,
as sesame's generator does. Everything, generated frames included, must fit `max_positions` (2048).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.hub.checkpoint import CheckpointError

FRAME_RATE = 12.5  # Mimi frames per second (80 ms)
SPEAKER = 0  # the cloned voice speaks as speaker 0, in the reference and in the new text
MIN_SECONDS = 3.0  # a generous floor so a single word still has room to be said
SECONDS_PER_CHAR = 0.125  # slow speech is ~8 characters/s; past that a take is a runaway


class PromptTooLongError(ValueError):
    """Text plus voice reference plus the audio to generate exceed the model's position budget."""


@dataclass
class PromptRows:
    tokens: np.ndarray  # [S, K+1] int64
    mask: np.ndarray  # [S, K+1] bool

    def __len__(self) -> int:
        return self.tokens.shape[0]

    @staticmethod
    def concat(parts: list["PromptRows"]) -> "PromptRows":
        return PromptRows(np.concatenate([p.tokens for p in parts]), np.concatenate([p.mask for p in parts]))


def text_rows(ids: list[int], n_codebooks: int) -> PromptRows:
    tokens = np.zeros((len(ids), n_codebooks + 1), dtype=np.int64)
    mask = np.zeros_like(tokens, dtype=bool)
    tokens[:, -1] = ids
    mask[:, -1] = True
    return PromptRows(tokens, mask)


def audio_rows(codes: np.ndarray, eos: int = 0) -> PromptRows:
    """codes: [K, T] -> T audio rows plus the all-`eos` frame that closes a reference segment."""
    k, t = codes.shape
    tokens = np.full((t + 1, k + 1), eos, dtype=np.int64)
    tokens[:t, :k] = codes.T
    tokens[:, -1] = 0
    mask = np.zeros_like(tokens, dtype=bool)
    mask[:, :k] = True
    return PromptRows(tokens, mask)


class TextTokenizer:
    """Llama-3 tokenizer.json -> ids of one `[speaker]text` turn with begin/end of text."""

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer  # light, but only the engine thread needs it

        path = Path(path)
        if not path.is_file():
            raise CheckpointError(f"tokenizer.json is missing from {path.parent}")
        try:
            self._tok = Tokenizer.from_file(str(path))
        except Exception as e:  # tokenizers raises plain Exception on bad files
            raise CheckpointError(f"{path.name} could not be read: {e}") from None
        self.bos = self._tok.token_to_id("<|begin_of_text|>")
        self.eos = self._tok.token_to_id("<|end_of_text|>")

    def encode_turn(self, text: str, speaker: int = SPEAKER) -> list[int]:
        ids = self._tok.encode(f"[{speaker}]{text}", add_special_tokens=False).ids
        return ([self.bos] if self.bos is not None else []) + ids + ([self.eos] if self.eos is not None else [])


def max_frames_for_text(text: str, max_audio_seconds: float | None = None) -> int:
    """Frames a take of this text may use before it counts as a runaway."""
    seconds = max_audio_seconds if max_audio_seconds else MIN_SECONDS + SECONDS_PER_CHAR * len(text.strip())
    return max(1, math.ceil(seconds * FRAME_RATE))


def check_budget(prompt_len: int, max_frames: int, max_positions: int) -> None:
    if prompt_len + max_frames > max_positions:
        raise PromptTooLongError(
            f"text, voice reference and audio to generate need {prompt_len + max_frames} model positions "
            f"({prompt_len} for the prompt, {max_frames} for up to {max_frames / FRAME_RATE:.1f} s of "
            f"audio), but the model has {max_positions}. Use a shorter reference clip or split the text.")
