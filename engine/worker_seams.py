"""Joining a take's pieces while they stream: equal-power crossfades between speech chunks, short
ramps where speech meets an explicit pause.

Each text chunk is generated on its own, so where two chunks meet the waveforms do not line up and a
plain concatenation clicks. The joiner overlaps the last `fade` samples of one chunk with the first
`fade` samples of the next (cos/sin gains: equal power, so uncorrelated speech keeps its loudness).
To do that while streaming it holds back the last `fade` samples of every piece until it knows
whether more of the same chunk, the next chunk (crossfade), a pause (ramp out) or the end follows.

Everything the joiner returns is final: the concatenation of all returned pieces IS the take, so the
streamed audio and SynthResult.audio are the same samples by construction. Silence is never faded:
only the speech side of a pause gets a `ramp` of a few ms so the jump to digital silence is not a
click; the pause keeps its exact length. fade == 0 turns everything off (plain concatenation).
"""
from __future__ import annotations

import numpy as np

RAMP_MS = 5.0  # speech -> pause / pause -> speech; "a few ms" does not audibly shorten a word


def _gains(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Fade-out and fade-in gains [n] with out**2 + in**2 == 1 (mid-sample points: no exact 0 or 1)."""
    t = (np.arange(n, dtype=np.float64) + 0.5) / n * (np.pi / 2)
    return np.cos(t).astype(np.float32), np.sin(t).astype(np.float32)


class SeamJoiner:
    """Feed it the take in order: `start_chunk()`, `push(audio)`..., `end_chunk()`, `pause(n)`,
    `finish()`. Every call returns the samples now final (possibly empty), except `pause`, which
    returns (speech_before, silence)."""

    def __init__(self, fade: int, ramp: int | None = None):
        self.fade = max(0, int(fade))
        self.ramp = min(self.fade, max(0, int(ramp))) if ramp is not None else 0
        self._held = np.zeros(0, np.float32)  # not yet final: the end of the current chunk [<= fade]
        self._tail = np.zeros(0, np.float32)  # end of the previous chunk, waiting for the next head
        self._head = np.zeros(0, np.float32)  # start of this chunk, collected until it covers the tail
        self._ramp_in_at: int | None = None  # samples of this chunk already ramped in (after a pause)
        self.overlaps: list[int] = []  # samples removed at each crossfaded seam (for tests/diagnostics)

    @classmethod
    def for_rate(cls, sample_rate: int, crossfade_ms: float) -> "SeamJoiner":
        fade = int(round(sample_rate * max(0.0, crossfade_ms) / 1000.0))
        return cls(fade, int(round(sample_rate * RAMP_MS / 1000.0)) if fade else 0)

    # ---- speech -----------------------------------------------------------------------------
    def start_chunk(self) -> None:
        self._head = np.zeros(0, np.float32)

    def push(self, audio: np.ndarray) -> np.ndarray:
        x = np.asarray(audio, np.float32).reshape(-1)
        if self.fade == 0:
            return x
        x = self._ramp_in(x)
        if self._tail.size:  # the previous chunk waits: first collect enough of this one's start
            self._head = np.concatenate([self._head, x])
            if self._head.size < self._tail.size:
                return np.zeros(0, np.float32)
            x = self._crossfade(self._head)
        return self._hold_back(x)

    def end_chunk(self) -> np.ndarray:
        """The chunk is complete; returns what became final (only when the chunk was shorter than
        the fade). Its held end waits for the next chunk's head."""
        out = np.zeros(0, np.float32)
        if not (self._held.size or self._head.size):
            return out  # the chunk made no audio: whatever waited before still waits
        if self._tail.size:  # a chunk shorter than the fade: crossfade over what there is
            out = self._hold_back(self._crossfade(self._head))
        self._tail, self._held = self._held, np.zeros(0, np.float32)
        self._ramp_in_at = None
        return out

    # ---- pauses and the end -----------------------------------------------------------------
    def pause(self, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
        """(the held speech end, ramped out to zero; the silence, exactly n_samples of zeros)."""
        speech = self._flush()
        if self.ramp and speech.size:
            r = min(self.ramp, speech.size)
            speech[speech.size - r:] *= _gains(r)[0]
        if self.ramp:
            self._ramp_in_at = 0  # the next chunk starts from silence
        return speech, np.zeros(max(0, int(n_samples)), np.float32)

    def finish(self) -> np.ndarray:
        return self._flush()

    # ---- internals --------------------------------------------------------------------------
    def _flush(self) -> np.ndarray:
        out = np.concatenate([self._tail, self._held])
        self._tail = self._held = self._head = np.zeros(0, np.float32)
        return out

    def _ramp_in(self, x: np.ndarray) -> np.ndarray:
        if self._ramp_in_at is None or self._ramp_in_at >= self.ramp or x.size == 0:
            return x
        n = min(self.ramp - self._ramp_in_at, x.size)
        x = x.copy()
        x[:n] *= _gains(self.ramp)[1][self._ramp_in_at:self._ramp_in_at + n]
        self._ramp_in_at += n
        return x

    def _crossfade(self, head: np.ndarray) -> np.ndarray:
        """The previous chunk's tail mixed into `head`'s start; the tail's unmatched start (when the
        head is shorter) goes first, unmixed."""
        m = min(self._tail.size, head.size)
        fade_out, fade_in = _gains(m)
        mixed = self._tail[self._tail.size - m:] * fade_out + head[:m] * fade_in
        out = np.concatenate([self._tail[:self._tail.size - m], mixed, head[m:]])
        self.overlaps.append(m)
        self._tail = self._head = np.zeros(0, np.float32)
        return out

    def _hold_back(self, x: np.ndarray) -> np.ndarray:
        """Everything but the last `fade` samples of (held + x) is final."""
        buf = np.concatenate([self._held, x]) if self._held.size else x
        cut = max(0, buf.size - self.fade)
        self._held = buf[cut:].copy()
        return buf[:cut]
