"""Loudness readings agree with the pyloudnorm reference; normalization hits its targets."""
from __future__ import annotations

import numpy as np
import pyloudnorm as pyln
import pytest

from engine.audio.io import read_audio
from engine.audio.loudness import integrated_lufs, normalize_lufs, normalize_peak, true_peak_dbfs


@pytest.mark.parametrize("sr", [16000, 22050, 44100, 48000])
def test_integrated_lufs_matches_pyloudnorm_on_speech(speech_clips, sr):
    a = read_audio(speech_clips[0]["path"], target_sr=sr)
    ref = pyln.Meter(sr).integrated_loudness(a.samples.astype(np.float64))
    assert integrated_lufs(a.samples, sr) == pytest.approx(ref, abs=0.05)


def test_stereo_sums_channel_energy():
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((48000 * 3, 2)) * 0.05).astype(np.float32)
    ref = pyln.Meter(48000).integrated_loudness(x.astype(np.float64))
    assert integrated_lufs(x, 48000) == pytest.approx(ref, abs=0.05)


def test_silence_and_too_short_are_minus_inf():
    assert integrated_lufs(np.zeros(48000, np.float32), 48000) == float("-inf")
    assert integrated_lufs(np.ones(100, np.float32) * 0.5, 48000) == float("-inf")


def test_true_peak_sees_intersample_overs():
    # A sine at fs/4 sampled at 45 degrees: every sample is 0.707 of the real peak (1.0).
    sr = 48000
    n = np.arange(4800)
    x = np.sin(2 * np.pi * n / 4 + np.pi / 4).astype(np.float32)
    assert 20 * np.log10(np.max(np.abs(x))) == pytest.approx(-3.01, abs=0.05)
    assert true_peak_dbfs(x, sr) == pytest.approx(0.0, abs=0.3)


def test_normalize_lufs_reaches_target(speech_clips):
    a = read_audio(speech_clips[1]["path"])
    y = normalize_lufs(a.samples, a.sample_rate, -30.0, true_peak_ceiling_db=-1.0)
    assert integrated_lufs(y, a.sample_rate) == pytest.approx(-30.0, abs=0.1)
    assert true_peak_dbfs(y, a.sample_rate) <= -1.0 + 1e-3


def test_normalize_lufs_respects_true_peak_ceiling(speech_clips):
    a = read_audio(speech_clips[1]["path"])
    y = normalize_lufs(a.samples, a.sample_rate, -6.0, true_peak_ceiling_db=-1.0)
    assert true_peak_dbfs(y, a.sample_rate) == pytest.approx(-1.0, abs=0.05)
    assert integrated_lufs(y, a.sample_rate) < -6.0, "ceiling wins: quieter than asked, never clipped"


def test_normalize_peak_and_silence_untouched():
    x = np.array([0.1, -0.25, 0.05], np.float32)
    y = normalize_peak(x, -6.0)
    assert np.max(np.abs(y)) == pytest.approx(10 ** (-6 / 20), rel=1e-5)
    assert np.allclose(y / y[1], x / x[1]), "shape of the waveform is unchanged"
    z = np.zeros(10, np.float32)
    assert np.array_equal(normalize_peak(z), z)
    assert np.array_equal(normalize_lufs(z, 16000, -23), z)
