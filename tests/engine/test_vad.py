"""Silero VAD through onnxruntime: finds real speech, ignores silence, at any input rate."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import soundfile as sf

from engine.audio import vad


def _clip_with_silence(path, sr_pad=1.0):
    x, sr = sf.read(str(path), dtype="float32")
    pad = np.zeros(int(sr_pad * sr), dtype=np.float32)
    return np.concatenate([pad, x, pad]), sr, len(x) / sr


def test_speech_found_between_silences(speech_dir):
    x, sr, dur = _clip_with_silence(speech_dir / "ljspeech_lj_LJ001-0001.wav")
    segs = vad.speech_segments(x, sr)
    assert segs, "no speech found in a clip of read speech"
    # Speech starts after the 1 s of silence and ends before the trailing second.
    assert 0.8 <= segs[0].start_s <= 1.4
    assert 1.0 + dur - 0.5 <= segs[-1].end_s <= 1.0 + dur + 0.3
    covered = sum(s.duration_s for s in segs)
    assert covered > 0.7 * dur


def test_silence_and_noise_are_not_speech():
    sr = 16000
    assert vad.speech_segments(np.zeros(sr * 3, np.float32), sr) == []
    rng = np.random.default_rng(0)
    hiss = (0.003 * rng.standard_normal(sr * 3)).astype(np.float32)
    assert vad.speech_segments(hiss, sr) == []


def test_same_answer_at_other_sample_rates(speech_dir):
    from engine.audio.resample import resample

    x, sr, _ = _clip_with_silence(speech_dir / "vctk_p225_003.wav")
    a = vad.speech_segments(x, sr)
    b = vad.speech_segments(resample(x, sr, 48000), 48000)
    assert len(a) == len(b)
    for s, t in zip(a, b):
        assert abs(s.start_s - t.start_s) < 0.1 and abs(s.end_s - t.end_s) < 0.1


def test_batched_streams_match_single_pass(speech_dir):
    x, sr = sf.read(str(speech_dir / "ljspeech_lj_LJ001-0001_to_0032_long.flac"), dtype="float32", frames=22050 * 60)
    single = vad.speech_probabilities(x, sr, stream_windows=10**9)
    batched = vad.speech_probabilities(x, sr, stream_windows=300)
    assert single.shape == batched.shape
    # Decisions (speech or not) agree on all but a handful of 32 ms windows.
    assert np.mean((single > 0.5) != (batched > 0.5)) < 0.01


def test_importing_vad_does_not_import_torch():
    code = "import sys, engine.audio.vad, engine.audio.segment; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
