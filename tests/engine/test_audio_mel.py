"""Mel spectrogram: tones land in the right band, silence sits at the floor, long input is bounded."""
from __future__ import annotations

import numpy as np
import pytest

from engine.audio.mel import _hz_to_mel, mel_db
from tests.bad_audio import tone


def _band_of(freq, fmax, n_mels=80):
    edges = np.linspace(0, _hz_to_mel(fmax), n_mels + 2)
    return int(np.searchsorted(edges, _hz_to_mel(freq))) - 1


@pytest.mark.parametrize("sr,fmax", [(16000, None), (48000, 8000.0), (44100, None)])
def test_tone_peaks_in_its_mel_band(sr, fmax):
    r = mel_db(tone(sr, 1.0, 1000.0), sr, fmax=fmax)
    assert r.db.dtype == np.float32 and r.db.shape[0] == 80
    assert r.n_frames == pytest.approx(100, abs=2)
    col = r.db[:, r.n_frames // 2]
    assert abs(int(np.argmax(col)) - _band_of(1000.0, r.fmax)) <= 1
    assert col.max() - np.median(col) > 30, "a pure tone stands far above the other bands"


def test_onset_is_at_the_right_time():
    sr = 16000
    x = np.zeros(2 * sr, np.float32)
    x[sr:] = tone(sr, 1.0, 500.0)
    r = mel_db(x, sr)
    energy = r.db.max(axis=0)
    onset = int(np.argmax(energy > -40)) * r.hop_s
    assert onset == pytest.approx(1.0, abs=0.02)
    assert np.all(r.db[:, :90] == -100.0), "silence sits at the floor"


def test_max_frames_caps_columns_without_losing_events():
    sr = 8000
    x = np.zeros(600 * sr, np.float32)  # 10 minutes
    x[300 * sr: 300 * sr + 400] = tone(sr, 0.05, 1000.0)  # a 50 ms blip mid-way
    r = mel_db(x, sr, max_frames=1000)
    assert r.n_frames <= 1001
    loud = np.flatnonzero(r.db.max(axis=0) > -60)
    assert len(loud) >= 1 and abs(loud[0] * r.hop_s - 300) < 2 * r.hop_s


def test_stereo_is_downmixed():
    x = tone(16000, 0.5)
    r1 = mel_db(np.stack([x, x], 1), 16000)
    r2 = mel_db(x, 16000)
    assert np.allclose(r1.db, r2.db, atol=1e-3)
