"""Recording to disk as it happens, surviving crashes and unplugged microphones.

Threads: the PortAudio callback only copies each block into a queue (never blocks, never touches
disk); a writer thread appends blocks to a WAV in `paths.incomplete`, syncs its header and fsyncs
every `SYNC_EVERY_S`, feeds the level meter and the `recent()` ring; the GUI pulls `level()` and
`recent()` at display rate. On stop (or when the device dies) the file is finalized and moved to
its destination, so what was captured is never lost.
"""
from __future__ import annotations

import collections
import logging
import queue
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import sounddevice as sd

from studio.core.devices import DeviceError, DeviceSpec, describe_port_audio_error, device_name, resolve_device
from studio.core.recorder_levels import LevelMeter, LevelReading
from studio.core.recorder_wav import StreamingWavWriter
from studio.core.recovery import Sidecar, move_file, unique_path

__all__ = ["Recorder", "LevelReading", "DeviceError"]

log = logging.getLogger(__name__)

SYNC_EVERY_S = 0.5          # header + fsync cadence: a crash loses at most this much (plus OS buffers)
STALL_TIMEOUT_S = 2.0       # no audio for this long while "recording" means the device is gone
FIRST_BLOCK_TIMEOUT_S = 6.0  # PulseAudio can take over a second to deliver the first block
_STOP = object()            # queue sentinel: the stream is closed, everything before it is audio


class Recorder:
    def __init__(self, out_dir: Path | None = None, *, device: DeviceSpec = None, samplerate: int = 48000,
                 channels: int = 1, name: str | None = None, owner: str = "recordings",
                 owner_ref: str | None = None, recent_s: float = 30.0, stall_timeout_s: float = STALL_TIMEOUT_S):
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.device = device
        self.samplerate = int(samplerate)
        self.channels = int(channels)
        self.name = name
        self._name = name  # as asked; `name` becomes the one used (a default is made up per take)
        self.owner = owner
        self.owner_ref = owner_ref
        self.stall_timeout_s = stall_timeout_s
        self.overflows = 0
        self.frames_written = 0
        self.frames_captured = 0  # delivered by PortAudio; minus frames_written = lost (should be 0)
        self.error: str | None = None
        self.path: Path | None = None             # the finalized file, once stopped
        self.incomplete_path: Path | None = None  # the file being written
        self.meter = LevelMeter(self.samplerate)
        self._recent_max = int(recent_s * self.samplerate)
        self._recent: collections.deque[np.ndarray] = collections.deque()
        self._recent_frames = 0
        self._recent_lock = threading.Lock()
        self._q: queue.Queue = queue.Queue()
        self._stream: sd.InputStream | None = None
        self._writer: StreamingWavWriter | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._final_lock = threading.Lock()
        self._recording = False

    # ----- public API -------------------------------------------------------------------------
    @property
    def is_recording(self) -> bool:
        return self._recording

    @property
    def duration_s(self) -> float:
        return self.frames_written / float(self.samplerate)

    def level(self) -> LevelReading:
        return self.meter.reading()

    def recent(self, seconds: float) -> np.ndarray:
        """The last `seconds` of audio: [t] mono, [t, C] otherwise (for the live waveform)."""
        want = int(seconds * self.samplerate)
        picked: list[np.ndarray] = []
        with self._recent_lock:
            got = 0
            for block in reversed(self._recent):  # newest first: copy only what is asked for
                if got >= want:
                    break
                picked.append(block)
                got += len(block)
        if not picked or want <= 0:
            data = np.zeros((0, self.channels), np.float32)
        else:
            data = np.concatenate(picked[::-1])[-want:]
        return data[:, 0] if self.channels == 1 else data

    def start(self) -> Path:
        """Open the device and begin streaming to `paths.incomplete`; returns that file's path."""
        if self._recording:
            raise RuntimeError("already recording")
        from studio.core.paths import get_paths

        paths = get_paths()
        index = resolve_device(self.device, "input")  # DeviceError when it is gone
        self._reset()
        stem = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:8]
        wav = paths.incomplete / f"{stem}.wav"
        name = self._name or f"Recording {time.strftime('%Y-%m-%d %H-%M-%S')}"
        Sidecar(sample_rate=self.samplerate, channels=self.channels, started=time.strftime("%Y-%m-%dT%H:%M:%S"),
                name=name, dest_dir=str(self.out_dir) if self.out_dir else None, owner=self.owner,
                owner_ref=self.owner_ref).save(wav.with_suffix(".json"))
        self.name = name
        self._writer = StreamingWavWriter(wav, self.samplerate, self.channels)
        try:
            self._stream = sd.InputStream(device=index, samplerate=self.samplerate, channels=self.channels,
                                          dtype="float32", callback=self._callback)
            self._stream.start()
        except Exception as exc:
            self._stream = None
            self._writer.close()
            wav.unlink(missing_ok=True)  # nothing was recorded: leave nothing to "recover"
            wav.with_suffix(".json").unlink(missing_ok=True)
            self.error = describe_port_audio_error(exc, f"the microphone '{device_name(index, 'input')}'")
            raise DeviceError(self.error) from exc
        self.incomplete_path = wav
        self._recording = True
        self._stopping.clear()
        self._thread = threading.Thread(target=self._write_loop, name="recorder-writer", daemon=True)
        self._thread.start()
        return wav

    def _reset(self) -> None:
        """A Recorder can record several takes in turn: each start() begins from a clean slate."""
        self.overflows = self.frames_written = self.frames_captured = 0
        self.error = None
        self.path = None
        self.meter = LevelMeter(self.samplerate)
        with self._recent_lock:
            self._recent.clear()
            self._recent_frames = 0
        self._q = queue.Queue()

    def stop(self) -> Path:
        """Stop, write everything still queued, finalize; returns the finished file.

        Also valid after the device died (returns the file that was already finalized).
        """
        if self._thread is None:
            if self.path is not None:
                return self.path
            raise RuntimeError("not recording")
        self._stopping.set()
        self._close_stream()
        self._q.put(_STOP)
        self._thread.join()
        self._thread = None
        return self._finalize()

    # ----- threads ----------------------------------------------------------------------------
    def _callback(self, indata, frames, time_info, status) -> None:
        # PortAudio's thread: copy and go. No locks, no allocation beyond the copy, no disk.
        if status.input_overflow:
            self.overflows += 1
        self.frames_captured += frames
        self._q.put(indata.copy())

    def _write_loop(self) -> None:
        last_sync = last_data = time.monotonic()
        got_audio = False
        try:
            while True:
                try:
                    block = self._q.get(timeout=0.1)
                except queue.Empty:
                    block = None
                if block is _STOP:
                    break
                now = time.monotonic()
                if block is not None:
                    self._consume(block)
                    last_data = now
                    got_audio = True
                if now - last_sync >= SYNC_EVERY_S:
                    self._writer.sync()
                    last_sync = now
                if not self._stopping.is_set():
                    lost = self._device_lost(now - last_data, got_audio)
                    if lost:
                        self._fail(lost)
                        break
        except OSError as exc:  # disk full, folder removed...
            self._fail(f"Could not write the recording to disk: {exc.strerror or exc}. "
                       "What was recorded so far has been kept.")
        except Exception as exc:  # never die silently: the GUI polls .error
            log.exception("recorder writer failed")
            self._fail(f"Recording stopped after an internal error: {exc}. What was recorded so far has been kept.")

    def _consume(self, block: np.ndarray) -> None:
        self._writer.write(block)
        self.frames_written += len(block)
        self.meter.feed(block)
        with self._recent_lock:
            self._recent.append(block)
            self._recent_frames += len(block)
            while self._recent_frames - len(self._recent[0]) >= self._recent_max:
                self._recent_frames -= len(self._recent.popleft())

    def _device_lost(self, silent_for: float, got_audio: bool) -> str | None:
        s = self._stream
        if s is None:
            return None
        if not s.active:
            return ("The microphone stopped working (it may have been unplugged). "
                    "The recording was stopped and what was captured has been kept.")
        if silent_for > (self.stall_timeout_s if got_audio else max(self.stall_timeout_s, FIRST_BLOCK_TIMEOUT_S)):
            return (f"The microphone stopped delivering audio for {silent_for:.0f} s (it may have been "
                    "unplugged). The recording was stopped and what was captured has been kept.")
        return None

    def _fail(self, message: str) -> None:
        """Device or disk failure on the writer thread: keep everything captured, then finalize."""
        self.error = message
        log.warning("recording failed: %s", message)
        self._close_stream()
        try:
            # Not iter(get_nowait, _STOP): that compares each numpy block to the sentinel with ==.
            while (block := self._q.get_nowait()) is not _STOP:
                self._consume(block)
        except (queue.Empty, OSError):
            pass
        try:
            self._finalize()
        except OSError as exc:  # closing the file failed (disk gone): the sidecar still points at it
            self.error += f" (finishing the file failed: {exc}; it will be offered for recovery)"

    def _close_stream(self) -> None:
        s, self._stream = self._stream, None
        if s is not None:
            try:
                s.stop()
            except Exception:
                pass  # a dead device cannot be stopped cleanly; closing below frees it
            try:
                s.close()
            except Exception:
                pass

    def _finalize(self) -> Path:
        with self._final_lock:
            if self.path is not None:
                return self.path
            self._recording = False
            self._writer.close()
            from studio.core.paths import get_paths

            dest_dir = self.out_dir or get_paths().recordings
            wav = self.incomplete_path
            try:
                self.path = move_file(wav, unique_path(dest_dir, self.name))
            except OSError as exc:
                # The audio is complete and safe where it is; its sidecar says where it belongs,
                # so the next start-up offers it for recovery.
                note = (f"The recording could not be moved to {dest_dir}: {exc.strerror or exc}. "
                        "It is kept and will be offered for recovery at the next start.")
                self.error = f"{self.error} {note}" if self.error else note
                self.path = wav
                return self.path
            wav.with_suffix(".json").unlink(missing_ok=True)
            return self.path


