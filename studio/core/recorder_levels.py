"""Input level metering: the numbers behind the meter, its clip light and the noise-floor readout.

`LevelMeter` is fed blocks by whichever thread owns the audio (the recorder's writer thread, or the
GUI timer draining an `InputMonitor`), and read by the GUI at display rate.
"""
from __future__ import annotations

import collections
import queue
import threading
from dataclasses import dataclass

import numpy as np
import sounddevice as sd

from studio.core.devices import DeviceError, DeviceSpec, describe_port_audio_error, device_name, resolve_device

CLIP_LEVEL = 0.999
SILENT_DBFS = -120.0


@dataclass(frozen=True)
class LevelReading:
    rms_dbfs: float    # level of the most recent ~50 ms
    peak_dbfs: float   # highest sample since the previous reading
    clipped: bool      # a sample reached full scale since the previous reading


def _db(v: float) -> float:
    return float(20 * np.log10(v)) if v > 1e-6 else SILENT_DBFS


class LevelMeter:
    """Thread-safe accumulator; `reading()` returns and resets the peak/clip since the last call."""

    def __init__(self, samplerate: int, history_s: float = 10.0):
        self._lock = threading.Lock()
        self._sr = samplerate
        self._peak = 0.0
        self._clipped = False
        self._rms = 0.0
        self._window = max(1, samplerate // 20)  # rms over the last ~50 ms, whatever the block size
        self._energy: collections.deque[tuple[int, float]] = collections.deque()  # (frames, sum of squares)
        self._energy_frames = 0
        self._energy_sum = 0.0
        self.clip_count = 0
        self.frames = 0  # total fed: lets callers wait for the device's first audio
        self._since_history = 0
        # 50 ms RMS levels of the last `history_s`, for the noise floor readout.
        self._history: collections.deque[float] = collections.deque(maxlen=max(10, int(history_s * 20)))

    def feed(self, block: np.ndarray) -> None:
        """block: [t, C] float32."""
        if len(block) == 0:
            return
        a = np.abs(block)
        peak = float(a.max())
        clips = int(np.count_nonzero(a >= CLIP_LEVEL))
        n = block.size
        sumsq = float(np.einsum("ij,ij->", block, block, dtype=np.float64)) if block.ndim == 2 else \
            float(np.dot(block, block))
        with self._lock:
            self.frames += len(block)
            self._peak = max(self._peak, peak)
            self._energy.append((n, sumsq))
            self._energy_frames += n
            self._energy_sum += sumsq
            chans = n // len(block)
            while self._energy_frames - self._energy[0][0] >= self._window * chans:
                old_n, old_sum = self._energy.popleft()
                self._energy_frames -= old_n
                self._energy_sum -= old_sum
            rms = float(np.sqrt(max(self._energy_sum, 0.0) / self._energy_frames))
            self._rms = rms
            if clips:
                self._clipped = True
                self.clip_count += clips
            self._since_history += len(block)
            if self._since_history >= self._window:
                self._since_history = 0
                self._history.append(_db(rms))

    def reading(self) -> LevelReading:
        with self._lock:
            r = LevelReading(_db(self._rms), _db(self._peak), self._clipped)
            self._peak = 0.0
            self._clipped = False
        return r

    def noise_floor_dbfs(self) -> float:
        """10th percentile of recent block levels: the room between words."""
        with self._lock:
            h = list(self._history)
        return float(np.percentile(h, 10)) if h else SILENT_DBFS


class InputMonitor:
    """Opens an input only for the meter ("test device", teleprompter); records nothing.

    The callback only copies into a queue; `level()` (called by the GUI timer) drains it.
    """

    def __init__(self, device: DeviceSpec = None, *, samplerate: int = 48000, channels: int = 1):
        self.device = device
        self.samplerate = int(samplerate)
        self.channels = int(channels)
        self.meter = LevelMeter(self.samplerate)
        self.overflows = 0
        self.error: str | None = None
        # Bounded: if nobody polls the meter for a while, old blocks are dropped (nothing is recorded).
        self._q: queue.Queue[np.ndarray] = queue.Queue(maxsize=256)
        self._stream: sd.InputStream | None = None

    def _callback(self, indata, frames, time_info, status) -> None:
        if status.input_overflow:
            self.overflows += 1
        try:
            self._q.put_nowait(indata.copy())
        except queue.Full:
            pass

    def start(self) -> None:
        index = resolve_device(self.device, "input")
        try:
            self._stream = sd.InputStream(device=index, samplerate=self.samplerate, channels=self.channels,
                                          dtype="float32", callback=self._callback)
            self._stream.start()
        except Exception as exc:
            self._stream = None
            self.error = describe_port_audio_error(exc, f"the input '{device_name(index, 'input')}'")
            raise DeviceError(self.error) from exc

    def _drain(self) -> None:
        while True:
            try:
                self.meter.feed(self._q.get_nowait())
            except queue.Empty:
                break
        if self._stream is not None and not self._stream.active and self.error is None:
            self.error = "The input device stopped delivering audio (it may have been unplugged)."

    def level(self) -> LevelReading:
        self._drain()
        return self.meter.reading()

    def noise_floor_dbfs(self) -> float:
        self._drain()
        return self.meter.noise_floor_dbfs()

    @property
    def is_running(self) -> bool:
        return self._stream is not None and self._stream.active

    def stop(self) -> None:
        if self._stream is not None:
            try:
                self._stream.close()
            except Exception:
                pass  # already dead (unplugged): nothing to release
            self._stream = None

    def __enter__(self) -> "InputMonitor":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
