"""A microphone that vanishes: clear message, and every captured sample is kept."""
from __future__ import annotations

import numpy as np
import pytest

from engine.audio.io import read_audio
from studio.core.devices import AudioDevice, DeviceError
from studio.core.paths import get_paths
from studio.core.player import Player
from studio.core.recorder import Recorder
from studio.core.recovery import Sidecar, find_incomplete
from tests.studio.test_recorder_support import dominant_hz, wait_for

SR = 48000


def _tone(seconds, hz=440.0):
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_vanished_device_index_is_a_clear_error_and_leaves_nothing(tmp_path):
    rec = Recorder(tmp_path, device=987, samplerate=SR)
    with pytest.raises(DeviceError, match="not available .*unplugged"):
        rec.start()
    assert not rec.is_recording
    assert list(get_paths().incomplete.iterdir()) == [], "no empty 'recording' left to recover"


def test_unplugged_persisted_device_names_it(tmp_path):
    gone = AudioDevice(index=0, name="USB Podcast Mic", hostapi="ALSA", max_input_channels=1,
                       max_output_channels=0, default_samplerate=48000.0)
    with pytest.raises(DeviceError, match="'USB Podcast Mic' \\(ALSA\\) is not connected"):
        Recorder(tmp_path, device=gone).start()


def test_stream_dying_mid_recording_keeps_the_audio(pulse_sink, tmp_path):
    rec = Recorder(tmp_path, samplerate=SR, name="unplugged")
    rec.start()
    assert wait_for(lambda: rec.frames_written > 0, 10)
    player = Player()
    player.play(_tone(3.0), SR)
    assert wait_for(lambda: rec.frames_written > int(1.5 * SR), 10)
    before = rec.frames_written
    rec._stream.abort()  # what PortAudio does when the device disappears: the stream ends
    assert wait_for(lambda: rec.error is not None, 5), "the loss is reported"
    player.stop()
    assert "stopped working" in rec.error and "kept" in rec.error
    assert wait_for(lambda: not rec.is_recording, 5)
    path = rec.stop()  # the GUI's Stop still works and returns the kept file
    assert path == tmp_path / "unplugged.wav"
    got = read_audio(path)
    assert len(got.samples) >= before
    assert dominant_hz(got.samples[-SR // 2:], SR) == pytest.approx(440, abs=5), "audio up to the failure"
    assert find_incomplete() == []


class _StallingRecorder(Recorder):
    """A stream that stays 'open' but stops delivering blocks (e.g. a USB mic that hangs)."""

    stalled = False

    def _callback(self, indata, frames, time_info, status):
        if not self.stalled:
            super()._callback(indata, frames, time_info, status)


def test_stream_that_stops_delivering_is_detected(pulse_sink, tmp_path):
    rec = _StallingRecorder(tmp_path, samplerate=SR, name="stalled", stall_timeout_s=0.5)
    rec.start()
    assert wait_for(lambda: rec.frames_written > SR // 2, 10)
    rec.stalled = True
    assert wait_for(lambda: rec.error is not None, 5)
    assert "stopped delivering audio" in rec.error
    frames = rec.frames_written
    path = rec.stop()
    assert read_audio(path).info.frames == frames >= SR // 2


def test_unwritable_destination_keeps_the_take_for_recovery(pulse_sink, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the takes folder should be")
    rec = Recorder(blocked, samplerate=SR, name="kept")
    rec.start()
    assert wait_for(lambda: rec.frames_written > SR // 4, 10)
    path = rec.stop()
    assert "could not be moved" in rec.error and "recovery" in rec.error
    assert path.parent == get_paths().incomplete and read_audio(path).info.frames == rec.frames_written
    side = Sidecar.load(path.with_suffix(".json"))
    side.pid = 999999999  # the next start-up: the process that recorded it has exited
    side.save(path.with_suffix(".json"))
    [found] = [r for r in find_incomplete() if r.wav_path == path]
    assert found.name == "kept" and found.frames == rec.frames_written
