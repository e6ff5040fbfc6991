"""Destructive edits as pure functions on numpy arrays (the UI keeps the undo history).

Indices are sample indices; arrays are [T] or [T, C]; every function returns a new array.
"""
from __future__ import annotations

import numpy as np

_FRAME_S = 0.01  # energy frame for silence detection: fine enough to trim within ~10 ms


def _check_range(x: np.ndarray, start: int, end: int) -> tuple[int, int]:
    n = len(x)
    s, e = int(start), int(end)
    if not (0 <= s <= e <= n):
        raise ValueError(f"selection {s}..{e} is outside the clip (0..{n})")
    return s, e


def trim(x: np.ndarray, start: int, end: int) -> np.ndarray:
    """Keep only [start, end)."""
    s, e = _check_range(x, start, end)
    return np.array(x[s:e], copy=True)


def cut(x: np.ndarray, start: int, end: int) -> np.ndarray:
    """Remove [start, end) and join the two sides."""
    s, e = _check_range(x, start, end)
    return np.concatenate([x[:s], x[e:]])


def frame_db(x: np.ndarray, sr: int, frame_s: float = _FRAME_S) -> np.ndarray:
    """RMS level in dBFS of consecutive non-overlapping frames: [n_frames] float32."""
    mono = x.mean(axis=1) if x.ndim == 2 else x
    hop = max(1, int(round(frame_s * sr)))
    n = len(mono) // hop
    if n == 0:
        ms = np.array([np.mean(np.square(mono, dtype=np.float64))]) if len(mono) else np.zeros(1)
    else:
        frames = mono[: n * hop].reshape(n, hop).astype(np.float32)
        ms = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / hop
        if len(mono) > n * hop:  # keep the tail so the end of the clip is never ignored
            tail = mono[n * hop:].astype(np.float64)
            ms = np.append(ms, np.mean(tail * tail))
    return (10.0 * np.log10(np.maximum(ms, 1e-12))).astype(np.float32)


def silence_bounds(x: np.ndarray, sr: int, threshold_db: float | None = None) -> tuple[int, int]:
    """First and last sample (end exclusive) of the non-silent part.

    Without `threshold_db`, the threshold follows the recording's own noise floor (10th percentile
    of frame levels) + 12 dB, but stays at least 20 dB under the loud frames, so a hissy room and a
    silent studio both trim where speech starts. A clip with nothing above the threshold returns
    (0, len(x)): trimming it all would lose the user's audio.
    """
    n = len(x)
    if n == 0:
        return 0, 0
    levels = frame_db(x, sr)
    hop = max(1, int(round(_FRAME_S * sr)))
    if threshold_db is None:
        floor = float(np.percentile(levels, 10))
        loud = float(np.percentile(levels, 99))
        threshold_db = min(floor + 12.0, loud - 20.0)
        if loud < -70.0:  # digital silence or near it: nothing to trim to
            return 0, n
    above = np.flatnonzero(levels > threshold_db)
    if len(above) == 0:
        return 0, n
    return int(above[0] * hop), int(min(n, (above[-1] + 1) * hop))


def auto_trim(x: np.ndarray, sr: int, pad_s: float = 0.1) -> tuple[np.ndarray, int, int]:
    """Trim leading/trailing silence, keeping `pad_s` of air on each side; returns (y, start, end)."""
    s, e = silence_bounds(x, sr)
    pad = int(round(pad_s * sr))
    s, e = max(0, s - pad), min(len(x), e + pad)
    return np.array(x[s:e], copy=True), s, e
