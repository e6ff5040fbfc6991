"""Multi-resolution mel images, so a 60-minute spectrogram draws as fast as a 5 s one.

Built once off the GUI thread; the GUI then slices at most a few thousand columns per redraw.
(The waveform's min/max pyramid is `engine.audio.peaks`.)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class MelPyramid:
    """Time-max-pooled copies of a mel spectrogram [n_mels, frames] (max keeps transients visible)."""

    levels: list[tuple[int, np.ndarray]]  # (frames per column, db [n_mels, cols])

    @classmethod
    def build(cls, db: np.ndarray, factor: int = 4) -> "MelPyramid":
        levels = [(1, np.ascontiguousarray(db, dtype=np.float32))]
        cur, size = levels[0][1], 1
        while cur.shape[1] >= 2 * factor * 1000:
            m = cur.shape[1] // factor
            cur = cur[:, : m * factor].reshape(cur.shape[0], m, factor).max(axis=2)
            size *= factor
            levels.append((size, cur))
        return cls(levels)

    def view(self, f0: int, f1: int, max_cols: int = 4000) -> tuple[int, int, np.ndarray]:
        """(first frame, frames per column, db [n_mels, cols]) covering frames [f0, f1)."""
        for size, db in self.levels:
            if (f1 - f0) / size <= max_cols or size == self.levels[-1][0]:
                c0 = max(0, f0 // size)
                c1 = min(db.shape[1], -(-f1 // size))
                return c0 * size, size, db[:, c0:max(c1, c0 + 1)]
        raise AssertionError("unreachable")
