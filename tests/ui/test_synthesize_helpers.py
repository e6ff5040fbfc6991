"""Shared helpers for the Synthesize/Compare/Models workspace tests (holds no tests itself)."""
from __future__ import annotations

import numpy as np

from studio.core.library import Library
from studio.core.paths import get_paths
from studio.core.settings import Settings


class SilentPlayer:
    """Stands in for studio.core.player.Player where a test does not listen (no audio device).
    Tracks position by wall clock, like the real one, so lane switches keep a real playhead."""

    def __init__(self, device=None):
        import time
        self._time = time.perf_counter
        self.samples, self.sr = None, 0
        self._t0, self._offset, self._playing = 0.0, 0.0, False
        self.sources = []  # length of every buffer handed over, in order

    @property
    def position_s(self):
        if not self._playing:
            return self._offset
        return min(self.duration_s, self._offset + self._time() - self._t0)

    @property
    def duration_s(self):
        return len(self.samples) / self.sr if self.samples is not None and self.sr else 0.0

    @property
    def is_playing(self):
        return self._playing and self.position_s < self.duration_s

    def play(self, samples, sr, start_s=0.0):
        self.samples, self.sr = np.asarray(samples), int(sr)
        self.sources.append(len(self.samples))
        self._offset, self._t0, self._playing = start_s, self._time(), True

    def set_source(self, samples, sr):
        pos = self.position_s
        self.samples, self.sr = np.asarray(samples), int(sr)
        self.sources.append(len(self.samples))
        self._offset, self._t0 = pos, self._time()

    def pause(self):
        self._offset, self._playing = self.position_s, False

    def resume(self):
        self._t0, self._playing = self._time(), True

    def seek(self, seconds):
        self._offset, self._t0 = seconds, self._time()

    def stop(self):
        self._playing, self._offset = False, 0.0

    error = None


def make_ctx(player=None):
    from studio.ui.context import StudioContext

    paths = get_paths()
    ctx = StudioContext(paths=paths, library=Library(paths.library_db), settings=Settings())
    ctx._player = player if player is not None else SilentPlayer()
    return ctx


def speechlike(sr=24000, seconds=2.0, pitch=140.0, seed=0):
    t = np.arange(int(sr * seconds)) / sr
    env = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None) ** 2
    rng = np.random.default_rng(seed)
    x = sum(np.sin(2 * np.pi * pitch * k * t + rng.uniform(0, 6)) / k for k in (1, 2, 3, 5))
    return (0.25 * x * env).astype(np.float32)
