"""Multi-resolution min/max views of long signals, so a 60-minute file draws as fast as a 5 s one.

Built once off the GUI thread; the GUI then slices at most a few thousand points per redraw.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# numpy reduces a 256-wide inner axis ~20x faster per sample than a 16-wide one, so level 1 starts
# at 256 samples per (min, max) pair; spans finer than that draw raw samples instead.
_BASE_BLOCK = 256
_FACTOR = 4  # each further level summarizes 4 blocks of the previous one
_RAW_FACTOR = 64  # up to max_points * 64 raw samples go to pyqtgraph, whose peak mode thins them


@dataclass
class MinMaxPyramid:
    """levels[i] = (block_samples, mins [n_i], maxs [n_i]); level 0 is the raw signal."""

    samples: np.ndarray  # [T] float32 mono
    levels: list[tuple[int, np.ndarray, np.ndarray]] = field(default_factory=list)

    @classmethod
    def build(cls, x: np.ndarray) -> "MinMaxPyramid":
        x = np.ascontiguousarray(x, dtype=np.float32)
        pyr = cls(x)
        n = x.size // _BASE_BLOCK
        if n < 2:
            return pyr
        blocks = x[: n * _BASE_BLOCK].reshape(n, _BASE_BLOCK)  # [n, 16] view, no copy
        mins, maxs = blocks.min(axis=1), blocks.max(axis=1)
        size = _BASE_BLOCK
        pyr.levels.append((size, mins, maxs))
        while mins.size >= 2 * _FACTOR:
            m = mins.size // _FACTOR
            mins = mins[: m * _FACTOR].reshape(m, _FACTOR).min(axis=1)
            maxs = maxs[: m * _FACTOR].reshape(m, _FACTOR).max(axis=1)
            size *= _FACTOR
            pyr.levels.append((size, mins, maxs))
        return pyr

    def view(self, start: int, end: int, max_points: int = 6000) -> tuple[np.ndarray, np.ndarray]:
        """Sample positions and values to draw for samples [start, end), at most ~max_points.

        Coarse levels come back as interleaved (min, max) pairs, which keeps every peak visible.
        """
        start = max(0, int(start))
        end = min(self.samples.size, int(end))
        if end <= start:
            return np.zeros(0), np.zeros(0, np.float32)
        span = end - start
        if span <= max_points * _RAW_FACTOR or not self.levels:
            return np.arange(start, end, dtype=np.float64), self.samples[start:end]
        for size, mins, maxs in self.levels:
            if span / size <= max_points or size == self.levels[-1][0]:
                i0, i1 = start // size, min(mins.size, -(-end // size))
                k = i1 - i0
                y = np.empty(2 * k, np.float32)
                y[0::2], y[1::2] = mins[i0:i1], maxs[i0:i1]
                x = np.repeat(np.arange(i0, i1, dtype=np.float64) * size + size / 2, 2)
                return x, y
        return np.arange(start, end, dtype=np.float64), self.samples[start:end]


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
