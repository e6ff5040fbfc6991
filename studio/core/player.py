"""Playback from a numpy buffer with a cursor the GUI polls, and instant A/B source swaps.

The PortAudio callback copies the next frames out of the current buffer; the GUI thread only swaps
references (buffer, position, paused) under a lock held for a few microseconds, so pause, seek and
`set_source` take effect within one audio block and never glitch.
"""
from __future__ import annotations

import threading

import numpy as np
import sounddevice as sd

from studio.core.devices import DeviceError, DeviceSpec, describe_port_audio_error, device_name, resolve_device

__all__ = ["Player", "DeviceError"]

# Output buffering: "low" latency underruns (audible gaps) on a busy 2-core machine; 100 ms still
# feels instant for A/B switching and pause.
PLAYBACK_LATENCY_S = 0.1


def _as_frames(samples: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(samples, dtype=np.float32)
    if a.ndim == 1:
        a = a[:, None]  # [T] -> [T, 1]
    if a.ndim != 2:
        raise ValueError(f"audio must be [T] or [T, C], got shape {a.shape}")
    return a


class Player:
    def __init__(self, device: DeviceSpec = None):
        self.device = device
        self.error: str | None = None
        self.underflows = 0  # blocks PortAudio reported as output underflow (audible dropouts)
        self._lock = threading.Lock()
        self._buf: np.ndarray | None = None   # [T, C] float32 at self._sr
        self._sr = 0
        self._pos = 0                         # next frame handed to PortAudio
        self._paused = False
        self._ended = False
        self._stream: sd.OutputStream | None = None
        self._stream_key: tuple[int, int] | None = None  # (samplerate, channels) of the open stream
        self._closing = False
        self._cb_stopped = False  # the callback raised CallbackStop: this stream cannot run again
        self._done = threading.Event()

    # ----- state the GUI polls ----------------------------------------------------------------
    @property
    def duration_s(self) -> float:
        return len(self._buf) / self._sr if self._buf is not None and self._sr else 0.0

    @property
    def position_s(self) -> float:
        """What is being heard now: frames handed over minus those still in the output buffer."""
        if self._buf is None:
            return 0.0
        if self._ended:
            return self.duration_s
        latency = 0.0
        s = self._stream
        if s is not None and not self._paused:
            try:
                latency = float(s.latency)
            except Exception:
                latency = 0.0
        return max(0.0, min(self.duration_s, self._pos / self._sr - latency))

    @property
    def is_playing(self) -> bool:
        s = self._stream
        return (s is not None and s.active and not self._paused and not self._ended
                and self._buf is not None and self.error is None)

    @property
    def is_paused(self) -> bool:
        return self._paused and self._buf is not None

    # ----- commands -----------------------------------------------------------------------------
    def play(self, samples: np.ndarray, sr: int, start_s: float = 0.0) -> None:
        """Play [T] or [T, C] float audio from `start_s`; DeviceError (and `.error`) on failure."""
        buf = _as_frames(samples)
        with self._lock:
            self._buf, self._sr = buf, int(sr)
            self._pos = min(len(buf), max(0, int(round(start_s * sr))))
            self._paused = False
            self._ended = self._pos >= len(buf)
        self._ensure_running()

    def set_source(self, samples: np.ndarray, sr: int) -> None:
        """Swap the audio, keeping the playhead and play/pause state (instant A/B).

        A different rate is resampled to the running stream's (soxr, on the calling thread: the
        Compare workspace should hand over takes already at one rate).
        """
        buf = _as_frames(samples)
        if self._sr and int(sr) != self._sr:
            from engine.audio.resample import resample

            buf = _as_frames(resample(buf, int(sr), self._sr))
            sr = self._sr
        if self._stream is not None and self._stream_key != (int(sr), buf.shape[1]):
            buf = self._match_channels(buf)
        with self._lock:
            seconds = self._pos / self._sr if self._sr else 0.0
            self._buf, self._sr = buf, int(sr)
            self._pos = min(len(buf), int(round(seconds * sr)))
            was_ended = self._ended
            self._ended = self._pos >= len(buf)
        if was_ended and not self._ended and not self._paused:
            self._ensure_running()

    def pause(self) -> None:
        with self._lock:
            if self._buf is not None:
                # Step back by what was still buffered so resume repeats nothing the user missed.
                self._pos = max(0, int(round(self.position_s * self._sr)))
                self._paused = True

    def resume(self) -> None:
        if self._buf is None:
            return
        with self._lock:
            self._paused = False
            if self._pos >= len(self._buf):
                self._pos = 0  # resume at the end starts over, like every media player
            self._ended = False
        self._ensure_running()

    def seek(self, seconds: float) -> None:
        if self._buf is None:
            return
        with self._lock:
            self._pos = min(len(self._buf), max(0, int(round(seconds * self._sr))))
            restart = self._ended and self._pos < len(self._buf)
            self._ended = self._pos >= len(self._buf)
        if restart and not self._paused:
            self._ensure_running()

    def stop(self) -> None:
        """Stop and rewind; the source is kept so play/resume can start again."""
        self._close_stream()
        with self._lock:
            self._pos = 0
            self._paused = False
            self._ended = False
        self._done.set()

    def close(self) -> None:
        self._close_stream()
        self._buf = None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until playback reaches the end or stops (tests, the test tone)."""
        return self._done.wait(timeout)

    # ----- stream -------------------------------------------------------------------------------
    def _match_channels(self, buf: np.ndarray) -> np.ndarray:
        want = self._stream_key[1]
        if buf.shape[1] == want:
            return buf
        mono = buf.mean(axis=1, keepdims=True, dtype=np.float32)
        return np.repeat(mono, want, axis=1)

    def _ensure_running(self) -> None:
        key = (self._sr, self._buf.shape[1])
        s = self._stream
        if s is not None and self._stream_key == key and s.active and not self._cb_stopped:
            return
        self._close_stream()
        index = resolve_device(self.device, "output")
        self._done.clear()
        try:
            s = sd.OutputStream(device=index, samplerate=key[0], channels=key[1], dtype="float32",
                                latency=PLAYBACK_LATENCY_S, callback=self._callback, finished_callback=self._finished)
            s.start()
        except Exception as exc:
            self.error = describe_port_audio_error(exc, f"the output '{device_name(index, 'output')}'")
            self._done.set()
            raise DeviceError(self.error) from exc
        self.error = None
        self._cb_stopped = False
        self._stream, self._stream_key = s, key

    def _close_stream(self) -> None:
        s, self._stream = self._stream, None
        if s is not None:
            self._closing = True
            try:
                s.close()
            except Exception:
                pass  # the device may already be gone
            finally:
                self._closing = False

    def _callback(self, outdata, frames, time_info, status) -> None:
        if status.output_underflow:
            self.underflows += 1
        with self._lock:
            buf, pos = self._buf, self._pos
            if buf is None or self._paused:
                outdata.fill(0)
                return
            n = max(0, min(frames, len(buf) - pos))
            if buf.shape[1] == outdata.shape[1]:
                outdata[:n] = buf[pos:pos + n]
            else:  # source swapped to another channel count mid-stream
                outdata[:n] = buf[pos:pos + n].mean(axis=1, keepdims=True)
            outdata[n:] = 0
            self._pos = pos + n
            if n < frames:
                self._ended = True
                self._cb_stopped = True
        if n < frames:
            raise sd.CallbackStop

    def _finished(self) -> None:
        # PortAudio calls this after CallbackStop has drained, after close(), or when the device died.
        if not self._ended and not self._closing and self._buf is not None and not self._paused:
            self.error = "The output device stopped working (it may have been unplugged)."
        self._done.set()
