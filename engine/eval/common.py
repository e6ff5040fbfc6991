"""Small helpers shared by the evaluators: input checking and resampling to a model's rate."""
from __future__ import annotations

import numpy as np


class NotScorable(Exception):
    """This metric cannot be computed for this audio; the message says why, for the user
    (e.g. "silent", "too short: 0.10 s, needs at least 1.0 s")."""


def as_mono_float32(audio: np.ndarray) -> np.ndarray:
    """[T] or [T, C] (or [C, T] with C < T) -> [T] float32 with NaN/inf replaced by 0."""
    x = np.asarray(audio)
    if x.ndim == 2:
        # Channels are the short axis whichever way round the caller stored them.
        x = x.mean(axis=1 if x.shape[0] >= x.shape[1] else 0)
    elif x.ndim != 1:
        raise NotScorable(f"audio must be 1-D or 2-D, got shape {x.shape}")
    if x.dtype.kind in "iu":
        x = x.astype(np.float32) / float(np.iinfo(x.dtype).max)
    x = np.nan_to_num(x.astype(np.float32, copy=False), nan=0.0, posinf=0.0, neginf=0.0)
    return x


def to_rate(audio: np.ndarray, sr: int, target_sr: int) -> np.ndarray:
    """Mono float32 at `target_sr` (soxr)."""
    x = as_mono_float32(audio)
    if sr <= 0:
        raise NotScorable(f"invalid sample rate {sr}")
    if sr != target_sr and len(x):
        import soxr

        x = soxr.resample(x, sr, target_sr).astype(np.float32, copy=False)
    return x


def is_silent(x: np.ndarray, threshold_dbfs: float = -60.0) -> bool:
    """True when the peak is below `threshold_dbfs` (digital silence or near it)."""
    return len(x) == 0 or float(np.max(np.abs(x))) < 10 ** (threshold_dbfs / 20)
