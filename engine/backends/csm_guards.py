"""Stopping CSM when it will not stop itself.

CSM ends an utterance with an all-zero frame, but often does not: it runs on with silence, breath or
a stuck token. Three guards, each with a `stop_reason` the studio shows:
- "max_frames": a frame budget derived from the text length (csm_recipe.max_frames_for_text);
- "repetition": codebook 0 (the semantic token) identical for `repeat_frames` frames in a row;
- "silence_tail": decoded audio silent for `silence_tail_s` seconds. Silent audio is held back
  while it lasts, released if speech resumes, and dropped (but for a short pad) at the end, so a
  take never ends with a long silent tail.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GuardSettings:
    repeat_frames: int = 25  # 2 s of one semantic token: no speech does that
    silence_dbfs: float = -50.0
    silence_tail_s: float = 2.0
    keep_tail_s: float = 0.15  # natural decay kept after the last sound


class RunawayGuard:
    """Looks at each generated code frame; says why to stop, or None."""

    def __init__(self, max_frames: int, eos: int = 0, settings: GuardSettings = GuardSettings()) -> None:
        self.max_frames = max_frames
        self.eos = eos
        self.settings = settings
        self._last_c0: int | None = None
        self._run = 0
        self.frames = 0

    def is_eos(self, codes: np.ndarray) -> bool:
        return bool(np.all(codes == self.eos))

    def after_frame(self, codes: np.ndarray) -> str | None:
        """codes: [K] of a frame that was kept. Returns a stop reason or None."""
        self.frames += 1
        c0 = int(codes[0])
        self._run = self._run + 1 if c0 == self._last_c0 else 1
        self._last_c0 = c0
        if self._run >= self.settings.repeat_frames:
            return "repetition"
        if self.frames >= self.max_frames:
            return "max_frames"
        return None


def _window_dbfs(x: np.ndarray, window: int) -> np.ndarray:
    n = len(x) // window
    if n == 0:
        return np.zeros(0)
    rms = np.sqrt(np.mean(np.square(x[: n * window].reshape(n, window), dtype=np.float64), axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-10))


class SilenceTrimmer:
    """Streams audio through, holding back a trailing silent stretch (see module docstring)."""

    def __init__(self, sample_rate: int, frame_rate: float, settings: GuardSettings = GuardSettings()) -> None:
        self.sr = sample_rate
        self.window = max(1, int(round(sample_rate / frame_rate)))
        self.settings = settings
        self._pending: list[np.ndarray] = []
        self._pending_len = 0
        self.heard_sound = False

    def push(self, audio: np.ndarray) -> tuple[np.ndarray | None, bool]:
        """audio: float32 [T]. Returns (audio safe to play now or None, whether to stop)."""
        db = _window_dbfs(audio, self.window)
        loud = np.nonzero(db > self.settings.silence_dbfs)[0]
        if len(loud) == 0 and len(db) > 0 or len(audio) == 0:
            self._pending.append(audio)
            self._pending_len += len(audio)
            return None, self._pending_len >= self.settings.silence_tail_s * self.sr
        cut = len(audio) if len(db) == 0 else (int(loud[-1]) + 1) * self.window
        if len(db) and cut >= len(db) * self.window:
            cut = len(audio)  # the loud part reaches the end (a remainder shorter than a window)
        out = np.concatenate(self._pending + [audio[:cut]]).astype(np.float32, copy=False)
        self.heard_sound = True
        self._pending = [audio[cut:]] if cut < len(audio) else []
        self._pending_len = len(audio) - cut
        return out, False

    def finish(self) -> np.ndarray | None:
        """The short decay kept at the end of the take (the rest of the silent tail is dropped)."""
        if not self._pending:
            return None
        tail = np.concatenate(self._pending)[: int(self.settings.keep_tail_s * self.sr)]
        self._pending, self._pending_len = [], 0
        return tail.astype(np.float32, copy=False) if len(tail) else None
