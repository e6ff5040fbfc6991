"""Clip readouts flag what makes a bad cloning reference and pass a good one."""
from __future__ import annotations

import numpy as np
import pytest

from engine.audio.analysis import analyze_clip
from engine.audio.io import read_audio


def _ten_seconds(speech_clips):
    a = read_audio(speech_clips[0]["path"])  # 11.7 s of clean read speech
    return a.samples[: 10 * a.sample_rate], a.sample_rate


def test_clean_speech_in_sweet_spot_has_no_notes(speech_clips):
    x, sr = _ten_seconds(speech_clips)
    r = analyze_clip(x, sr)
    assert r.in_sweet_spot and r.duration_s == pytest.approx(10.0)
    assert r.ok, r.notes
    assert r.snr_db > 30 and -35 < r.lufs < -15 and r.clipped_samples == 0


def test_quiet_noisy_clipped_offset_and_short_are_flagged(speech_clips):
    x, sr = _ten_seconds(speech_clips)
    rng = np.random.default_rng(0)
    quiet = analyze_clip(x * 0.02, sr)
    assert any("too quiet" in n for n in quiet.notes)
    noisy = analyze_clip(x + (rng.standard_normal(len(x)) * 0.03).astype(np.float32), sr)
    assert noisy.snr_db < 20 and any(n.startswith("noisy") for n in noisy.notes)
    assert noisy.noise_floor_dbfs == pytest.approx(20 * np.log10(0.03), abs=3)
    clipped = analyze_clip(np.clip(x * 8, -1, 1), sr)
    assert clipped.clipped_samples > 100 and any("clipping" in n for n in clipped.notes)
    offset = analyze_clip(x + 0.05, sr)
    assert offset.dc_offset == pytest.approx(0.05, abs=0.01) and any("DC offset" in n for n in offset.notes)
    assert offset.snr_db == pytest.approx(analyze_clip(x, sr).snr_db, abs=1), "DC does not read as noise"
    short = analyze_clip(x[: 3 * sr], sr)
    assert not short.in_sweet_spot and any(n.startswith("short") for n in short.notes)
    long = analyze_clip(np.tile(x, 3), sr)
    assert any(n.startswith("long") for n in long.notes)


def test_silence_and_empty_are_reported_not_crashing():
    r = analyze_clip(np.zeros(16000 * 6, np.float32), 16000)
    assert any(n.startswith("silent") for n in r.notes) and r.lufs == float("-inf")
    e = analyze_clip(np.zeros(0, np.float32), 16000)
    assert e.notes == ["empty: the clip has no audio"]
    one = analyze_clip(np.array([0.3], np.float32), 44100)
    assert any("too short" in n for n in one.notes)


def test_long_clip_is_measured_in_chunks_with_the_same_result():
    """An hour-long clip is measured chunk by chunk (no full-length copies); the readouts are
    those of the whole signal: frame levels, the tail frame, clipping and DC included."""
    from engine.audio import analysis
    from engine.audio.edit import frame_db

    sr = 48000
    rng = np.random.default_rng(1)
    hop = int(round(analysis._FRAME_S * sr))
    n = 3 * hop * analysis._CHUNK_FRAMES + hop // 3  # three chunks and a partial last frame
    x = (0.05 * rng.standard_normal(n) + 0.02).astype(np.float32)  # with a DC offset
    x[-5:] = 0.9  # loud tail: only the partial last frame holds it
    x[12345] = 1.0  # one clipped sample
    dc = float(x.mean(dtype=np.float64))
    levels = analysis._frame_levels(x, sr, dc)
    np.testing.assert_array_equal(levels, frame_db(x - np.float32(dc), sr, analysis._FRAME_S))
    r = analyze_clip(x, sr)
    assert r.clipped_samples == 1 and r.peak_dbfs == pytest.approx(0.0, abs=1e-6)
    assert r.dc_offset == pytest.approx(dc, abs=1e-9)
