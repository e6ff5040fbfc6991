"""Sample-rate conversion (soxr): the one place audio changes rate, so quality is uniform."""
from __future__ import annotations

import numpy as np
import soxr


def resample(x: np.ndarray, sr_in: int, sr_out: int, *, quality: str = "HQ") -> np.ndarray:
    """Resample [T] or [T, C] audio; returns float32 (a copy even when the rates match).

    `quality="QQ"` is much faster and fine for display (mel/waveform overviews), not for export.
    """
    a = np.ascontiguousarray(x, dtype=np.float32)
    if sr_in <= 0 or sr_out <= 0:
        raise ValueError(f"sample rates must be positive (got {sr_in} -> {sr_out})")
    if int(sr_in) == int(sr_out) or len(a) == 0:
        return a.copy()
    return np.ascontiguousarray(soxr.resample(a, int(sr_in), int(sr_out), quality=quality), dtype=np.float32)
