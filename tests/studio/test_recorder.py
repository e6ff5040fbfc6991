"""Recording through the real PulseAudio loopback: what was played is what was saved."""
from __future__ import annotations

import numpy as np
import pytest

from engine.audio.io import read_audio
from studio.core.player import Player
from studio.core.recorder import Recorder
from tests.studio.test_recorder_support import align, chirp_and_speech, rms_db, shortest_clip, wait_for

SR = 48000


def test_recording_contains_what_was_played(pulse_sink, speech_clips, tmp_path):
    ref = chirp_and_speech(shortest_clip(speech_clips), SR)
    rec = Recorder(tmp_path / "takes", samplerate=SR, name="loopback")
    incomplete = rec.start()
    assert incomplete.exists() and incomplete.with_suffix(".json").exists(), "streams to disk from the start"
    assert wait_for(lambda: rec.frames_written > 0, 10), "the input delivers audio"
    player = Player()
    player.play(ref, SR)
    assert player.wait(len(ref) / SR + 10)
    wait_for(lambda: False, 0.4)  # let the tail of the loopback arrive
    assert rec.incomplete_path.stat().st_size > 44 + 4 * len(ref) // 2, "written while recording"
    path = rec.stop()

    assert path == tmp_path / "takes" / "loopback.wav"
    assert not incomplete.exists() and not incomplete.with_suffix(".json").exists()
    assert rec.error is None and not rec.is_recording
    got = read_audio(path)
    assert got.sample_rate == SR
    assert len(got.samples) == rec.frames_written
    k, score = align(got.samples, ref)
    assert score > 0.95, f"recording does not match the played signal (correlation {score:.2f})"
    assert k + len(ref) <= len(got.samples), "the whole signal was captured"
    seg = got.samples[k:k + len(ref)]
    assert rms_db(seg) == pytest.approx(rms_db(ref), abs=1.5)
    assert rec.overflows == 0
    assert np.array_equal(rec.recent(1.0), got.samples[-SR:]), "the live waveform shows what was saved"


def test_level_meter_and_clip_light_follow_the_input(pulse_sink, tmp_path):
    rec = Recorder(tmp_path, samplerate=SR, name="levels")
    rec.start()
    try:
        assert wait_for(lambda: rec.frames_written > 0, 10)
        rec.level()  # reset
        wait_for(lambda: False, 0.3)
        quiet = rec.level()
        assert quiet.peak_dbfs < -90 and not quiet.clipped, "null sink is silent when nothing plays"
        t = np.arange(SR) / SR
        player = Player()
        player.play((0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), SR)
        wait_for(lambda: False, 0.6)
        mid = rec.level()
        assert mid.peak_dbfs == pytest.approx(-6.0, abs=1.0)
        assert mid.rms_dbfs == pytest.approx(-9.0, abs=1.5) and not mid.clipped
        player.wait(5)
        player.play(np.tile(np.array([1.0, -1.0], np.float32), SR // 4), SR)
        player.wait(5)
        wait_for(lambda: False, 0.3)
        assert rec.level().clipped, "full-scale input lights the clip indicator"
        assert rec.meter.clip_count > 0
        recent = rec.recent(1.0)
        assert recent.ndim == 1 and len(recent) == SR
    finally:
        rec.stop()


def test_stereo_recording_keeps_channels(pulse_sink, tmp_path):
    rec = Recorder(tmp_path, samplerate=SR, channels=2, name="stereo")
    rec.start()
    assert wait_for(lambda: rec.frames_written > SR // 2, 10)
    path = rec.stop()
    got = read_audio(path, mono=False)
    assert got.info.channels == 2 and got.info.frames == rec.frames_written
    assert rec.recent(0.25).shape == (SR // 4, 2)


def test_same_name_never_overwrites(pulse_sink, tmp_path):
    paths = []
    rec = Recorder(tmp_path, samplerate=SR, name="take")
    for _ in range(2):  # the same Recorder, used for two takes in a row
        rec.start()
        assert rec.path is None and rec.error is None
        wait_for(lambda: rec.frames_written > 0, 10)
        paths.append(rec.stop())
    assert [p.name for p in paths] == ["take.wav", "take (2).wav"]
    assert paths[0].exists() and read_audio(paths[1]).info.frames == rec.frames_written
