"""Playback through the null sink, checked by recording its monitor: what the user hears."""
from __future__ import annotations

import numpy as np
import pytest

from engine.audio.edit import frame_db
from studio.core.devices import DeviceError
from studio.core.player import Player
from studio.core.recorder import Recorder
from tests.studio.test_recorder_support import dominant_hz, wait_for

SR = 48000


def _tone(seconds, hz, amp=0.3):
    t = np.arange(int(seconds * SR)) / SR
    return (amp * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _audible_s(x):
    return float(np.sum(frame_db(x, SR) > -40)) * 0.01


@pytest.fixture
def listening(pulse_sink, tmp_path):
    rec = Recorder(tmp_path, samplerate=SR, name="monitor")
    rec.start()
    assert wait_for(lambda: rec.frames_written > 0, 10)
    yield rec
    if rec.is_recording:
        rec.stop()


def _heard(rec):
    from engine.audio.io import read_audio

    wait_for(lambda: False, 0.3)
    return read_audio(rec.stop()).samples


def test_position_advances_and_playback_finishes(listening):
    p = Player()
    p.play(_tone(1.5, 440), SR)
    assert p.is_playing and p.duration_s == pytest.approx(1.5)
    seen = []
    while p.is_playing and len(seen) < 100:
        seen.append(p.position_s)
        wait_for(lambda: False, 0.05)
    assert p.wait(5)
    assert seen == sorted(seen) and seen[-1] > 1.0, "the cursor moves forward through the clip"
    assert not p.is_playing and p.position_s == pytest.approx(1.5) and p.error is None
    assert _audible_s(_heard(listening)) == pytest.approx(1.5, abs=0.15)


def test_set_source_swaps_audio_keeping_the_playhead(listening):
    p = Player()
    p.play(_tone(3.0, 440), SR)
    assert wait_for(lambda: p.position_s > 1.0, 5)
    p.set_source(_tone(3.0, 880), SR)
    assert p.position_s > 0.9, "A/B switch does not restart the clip"
    assert p.wait(5)
    heard = _heard(listening)
    loud = np.flatnonzero(frame_db(heard, SR) > -40)
    start, end = loud[0] * 480, (loud[-1] + 1) * 480
    assert (end - start) / SR == pytest.approx(3.0, abs=0.2), "one continuous 3 s, not A then all of B"
    assert dominant_hz(heard[start:start + SR // 2], SR) == pytest.approx(440, abs=5)
    assert dominant_hz(heard[end - SR // 2:end], SR) == pytest.approx(880, abs=5)


def test_pause_resume_and_seek(listening):
    p = Player()
    p.play(_tone(3.0, 550), SR)
    assert wait_for(lambda: p.position_s > 0.5, 5)
    p.pause()
    at = p.position_s
    wait_for(lambda: False, 0.5)
    assert p.is_paused and not p.is_playing and p.position_s == pytest.approx(at, abs=1e-6)
    p.seek(2.5)
    assert p.position_s == pytest.approx(2.5, abs=0.01)
    p.resume()
    assert p.wait(5) and p.position_s == pytest.approx(3.0)
    heard = _heard(listening)
    # ~0.5 s before the pause + 0.5 s after seeking to 2.5 s; the paused half-second is silent.
    assert _audible_s(heard) == pytest.approx(at + 0.5, abs=0.25)
    p.stop()
    assert p.position_s == 0.0 and not p.is_playing, "stop rewinds"


def test_stop_then_play_again(pulse_sink):
    p = Player()
    p.play(_tone(2.0, 440), SR)
    wait_for(lambda: p.position_s > 0.2, 5)
    p.stop()
    assert not p.is_playing and p.position_s == 0.0
    p.resume()  # play again from the start
    assert p.is_playing
    wait_for(lambda: p.position_s > 0.2, 5)
    p.play(_tone(0.3, 440, 0.1), SR, start_s=0.1)
    assert p.wait(5) and p.error is None


def test_output_device_dying_mid_playback_is_reported(pulse_sink):
    p = Player()
    p.play(_tone(3.0, 440), SR)
    assert wait_for(lambda: p.position_s > 0.3, 5)
    p._stream.abort()  # what PortAudio does when the device disappears
    assert wait_for(lambda: p.error is not None, 5)
    assert "stopped working" in p.error and not p.is_playing
    p.stop()
    p.play(_tone(0.2, 440), SR)  # a working device again: playback recovers
    assert p.wait(5) and p.error is None


def test_missing_output_device_is_a_clear_error():
    p = Player(device=987)
    with pytest.raises(DeviceError, match="not available"):
        p.play(_tone(0.1, 440), SR)
