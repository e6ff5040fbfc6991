"""Edit operations: selection trim/cut and auto-trim of silence at the noise floor of the take."""
from __future__ import annotations

import numpy as np
import pytest

from engine.audio.edit import auto_trim, cut, silence_bounds, trim
from engine.audio.io import read_audio


def test_trim_and_cut_are_complementary():
    x = np.arange(100, dtype=np.float32)
    kept, removed = trim(x, 20, 50), cut(x, 20, 50)
    assert np.array_equal(kept, x[20:50])
    assert np.array_equal(removed, np.concatenate([x[:20], x[50:]]))
    assert len(kept) + len(removed) == len(x)
    kept[0] = -1
    assert x[20] == 20, "edits return copies: the original is untouched"
    stereo = np.stack([x, -x], 1)
    assert cut(stereo, 0, 10).shape == (90, 2)


def test_bad_selection_is_a_clear_error():
    with pytest.raises(ValueError, match="outside the clip"):
        trim(np.zeros(10), 5, 20)
    with pytest.raises(ValueError):
        cut(np.zeros(10), 6, 5)


def _speech_in_noise(speech_clips, noise_dbfs, lead_s=1.5, tail_s=2.0):
    a = read_audio(speech_clips[3]["path"])
    sr = a.sample_rate
    s0, s1 = silence_bounds(a.samples, sr, threshold_db=-45.0)
    speech = a.samples[s0:s1]
    rng = np.random.default_rng(0)
    total = int(lead_s * sr) + len(speech) + int(tail_s * sr)
    noise = (rng.standard_normal(total) * 10 ** (noise_dbfs / 20)).astype(np.float32)
    x = noise.copy()
    x[int(lead_s * sr): int(lead_s * sr) + len(speech)] += speech
    return x, sr, int(lead_s * sr), int(lead_s * sr) + len(speech)


@pytest.mark.parametrize("noise_dbfs", [-80.0, -55.0, -45.0])
def test_auto_trim_finds_speech_in_quiet_and_hissy_rooms(speech_clips, noise_dbfs):
    x, sr, start, end = _speech_in_noise(speech_clips, noise_dbfs)
    y, s, e = auto_trim(x, sr, pad_s=0.1)
    # Within ~60 ms of the true edges plus the requested padding.
    assert abs(s - (start - int(0.1 * sr))) < 0.06 * sr
    assert abs(e - (end + int(0.1 * sr))) < 0.06 * sr
    assert np.array_equal(y, x[s:e])


def test_all_silence_is_not_trimmed_away():
    x = np.zeros(16000, np.float32)
    y, s, e = auto_trim(x, 16000)
    assert (s, e) == (0, 16000) and len(y) == 16000
