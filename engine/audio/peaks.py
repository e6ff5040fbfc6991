"""Min/max peak pyramid (Audacity's summary blocks, Reaper's peak files), built while streaming.

Level 0 holds (min, max) of every 256 samples, level k of every 256 * 4**k; each level is reduced
from the one below, so an entry is EXACTLY the min/max of the raw samples in its span (the last,
partial span included once the signal is complete). A waveform view then draws ~2 points per pixel
from the level that fits, whatever the file length.

Streaming: the builder owns arrays sized for the whole file and is told how many samples of the
sample buffer are valid (`advance(n)`). `snapshot()` returns a `PeakPyramid` that only ever reads
entries already written, so a GUI thread may draw it while the worker keeps filling: the envelope
grows left to right and never shows a wrong picture. Pure numpy, no Qt.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BASE_SPAN = 256  # samples per level-0 entry (numpy reduces a 256-wide axis ~20x faster than 16)
FACTOR = 4       # entries of level k-1 per entry of level k


@dataclass(frozen=True)
class PeakLevel:
    span: int           # samples per entry
    mins: np.ndarray    # [capacity] float32; entries [0, count) are valid
    maxs: np.ndarray    # [capacity] float32
    count: int          # valid entries (whole spans, plus the partial tail once complete)


@dataclass(frozen=True)
class PeakPyramid:
    """A consistent read-only view: `samples[:n_valid]` and every level's first `count` entries."""

    samples: np.ndarray  # [T] float32 (may still be filling beyond n_valid)
    n_valid: int
    levels: tuple[PeakLevel, ...]
    complete: bool

    @property
    def total(self) -> int:
        return int(self.samples.size)

    def envelope(self, start: int, end: int, max_pairs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(centres [k] in samples, mins [k], maxs [k]) for samples [start, end) with k <= max_pairs.

        Each pair is the exact min/max over its span of samples. Spans are whole level entries,
        grouped g at a time (aligned), or raw samples reduced on the fly when the view is too
        fine for level 0.
        """
        start = max(0, int(start))
        end = min(self.n_valid, int(end))
        max_pairs = max(1, int(max_pairs))
        if end <= start:
            e = np.zeros(0, np.float32)
            return np.zeros(0), e, e
        block = -(-(end - start) // max_pairs)  # samples per pair wanted
        parts = []
        pos, first = start, True
        # Coarsest fitting level first; while streaming a coarse level lags behind n_valid by up
        # to one span, so the rest of the range comes from finer levels, then raw samples.
        for lv in reversed([lv for lv in self.levels if lv.span <= block]):
            cover = min(lv.count * lv.span, self.n_valid)
            if cover > pos:
                parts.append(self._from_level(lv, pos, min(end, cover), block, align=first))
                pos, first = min(end, cover), False
            if pos >= end:
                break
        if pos < end:
            parts.append(self._from_raw(pos, end, min(block, end - pos) if not first else block))
        if len(parts) == 1:
            return parts[0]
        return tuple(np.concatenate(a) for a in zip(*parts))  # type: ignore[return-value]

    def _from_raw(self, start: int, end: int, block: int):
        """Finer than level 0: reduce raw samples (at most 256 per pair), blocks aligned to `block`."""
        b0 = start // block * block
        n = -(-(end - b0) // block)
        stop = min(self.n_valid, b0 + n * block)
        seg = self.samples[b0:stop]
        full = seg.size // block
        mins = np.empty(n, np.float32)
        maxs = np.empty(n, np.float32)
        if full:
            r = seg[: full * block].reshape(full, block)
            r.min(axis=1, out=mins[:full])
            r.max(axis=1, out=maxs[:full])
        if full < n:
            mins[full], maxs[full] = seg[full * block:].min(), seg[full * block:].max()
        lo = b0 + np.arange(n) * block
        hi = np.minimum(lo + block, stop)
        return (lo + hi) / 2.0, mins, maxs

    def _from_level(self, level: PeakLevel, start: int, end: int, block: int, align: bool):
        span = level.span
        g = max(1, -(-block // span))  # entries per pair (rounded up: never over budget)
        i0 = start // span // g * g if align else start // span
        i1 = min(level.count, -(-end // span))
        n = -(-(i1 - i0) // g)
        mins = np.empty(n, np.float32)
        maxs = np.empty(n, np.float32)
        full = (i1 - i0) // g
        if full:
            level.mins[i0: i0 + full * g].reshape(full, g).min(axis=1, out=mins[:full])
            level.maxs[i0: i0 + full * g].reshape(full, g).max(axis=1, out=maxs[:full])
        if full < n:
            mins[full] = level.mins[i0 + full * g: i1].min()
            maxs[full] = level.maxs[i0 + full * g: i1].max()
        lo = (i0 + np.arange(n) * g) * span
        hi = np.minimum(lo + g * span, self.n_valid)
        return (lo + hi) / 2.0, mins, maxs


class PeakBuilder:
    """Fills the pyramid for `samples` as its prefix becomes valid; call `advance(n)` in order."""

    def __init__(self, samples: np.ndarray):
        self.samples = samples
        total = int(samples.size)
        self._spans: list[int] = []
        self._mins: list[np.ndarray] = []
        self._maxs: list[np.ndarray] = []
        self._counts: list[int] = []
        span = BASE_SPAN
        while True:
            cap = -(-total // span)
            if cap < 1:
                break
            self._spans.append(span)
            self._mins.append(np.empty(cap, np.float32))
            self._maxs.append(np.empty(cap, np.float32))
            self._counts.append(0)
            if cap <= 2 * FACTOR:
                break
            span *= FACTOR
        self.n_valid = 0
        self.complete = False

    def advance(self, n_valid: int) -> None:
        """Samples [0, n_valid) are final: add every whole span they complete (and the partial
        tails when n_valid reaches the end)."""
        n_valid = min(int(n_valid), int(self.samples.size))
        self.n_valid = n_valid
        done = n_valid == self.samples.size
        if not self._spans:
            self.complete = done
            return
        # Level 0 from raw samples.
        c = self._counts[0]
        full = n_valid // BASE_SPAN
        if full > c:
            r = self.samples[c * BASE_SPAN: full * BASE_SPAN].reshape(full - c, BASE_SPAN)
            r.min(axis=1, out=self._mins[0][c:full])
            r.max(axis=1, out=self._maxs[0][c:full])
            c = full
        if done and c < self._mins[0].size:
            tail = self.samples[c * BASE_SPAN: n_valid]
            self._mins[0][c], self._maxs[0][c] = tail.min(), tail.max()
            c += 1
        self._counts[0] = c
        # Level k from level k-1 (its tail entry is included only when the signal is complete).
        for k in range(1, len(self._spans)):
            below, c = self._counts[k - 1], self._counts[k]
            full = below // FACTOR
            if full > c:
                self._mins[k - 1][c * FACTOR: full * FACTOR].reshape(-1, FACTOR).min(axis=1, out=self._mins[k][c:full])
                self._maxs[k - 1][c * FACTOR: full * FACTOR].reshape(-1, FACTOR).max(axis=1, out=self._maxs[k][c:full])
                c = full
            if done and c < self._mins[k].size:
                self._mins[k][c] = self._mins[k - 1][c * FACTOR: below].min()
                self._maxs[k][c] = self._maxs[k - 1][c * FACTOR: below].max()
                c += 1
            self._counts[k] = c
        self.complete = done

    def snapshot(self) -> PeakPyramid:
        levels = tuple(PeakLevel(s, mn, mx, c) for s, mn, mx, c in
                       zip(self._spans, self._mins, self._maxs, self._counts))
        return PeakPyramid(self.samples, self.n_valid, levels, self.complete)


def build_peaks(samples: np.ndarray) -> PeakPyramid:
    """The complete pyramid of a [T] float32 signal (one pass, ~0.1 s per hour at 48 kHz)."""
    x = np.ascontiguousarray(samples, dtype=np.float32)
    b = PeakBuilder(x)
    b.advance(x.size)
    return b.snapshot()
