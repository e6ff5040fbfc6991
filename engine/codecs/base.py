"""The Codec protocol: what the studio and backends need from a neural audio codec, at numpy level.

No torch here: the studio imports this at start-up to type-check against, while the codec itself
(torch) only ever lives on the engine worker thread.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


class CodecInputError(ValueError):
    """Bad audio or codes handed to a codec. The message is meant for the user."""


@runtime_checkable
class Codec(Protocol):
    sample_rate: int  # Hz of the audio the codec works at (24000 for Mimi)
    frame_rate: float  # code frames per second (12.5 for Mimi)
    num_codebooks: int  # RVQ levels available (32 for Mimi)
    codebook_size: int  # distinct values per level (2048 for Mimi)

    def encode_np(self, audio: np.ndarray, sr: int, n_codebooks: int | None = None) -> np.ndarray:
        """float32 mono [T] at any rate (resampled inside) -> int64 codes [K, F]."""
        ...

    def decode_np(self, codes: np.ndarray, n_codebooks: int | None = None) -> np.ndarray:
        """int codes [K, F] -> float32 mono [F * sample_rate / frame_rate] audio at `sample_rate`,
        using only the first `n_codebooks` levels when given."""
        ...
