"""Signal QC and the score cache in the library (no models)."""
from __future__ import annotations

import numpy as np
import soundfile as sf

from engine.eval.qc import signal_qc
from engine.eval.scorer import TakeScores
from engine.eval.wer import compute_wer
from studio.core.library import open_library
from studio.core.scores import ScoreStore, file_audio_key

SR = 16000


def _tone(seconds: float, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amp * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_clean_speech_clip_has_no_issues(speech_clips):
    row = next(r for r in speech_clips if r["file"] == "vctk_p226_008.wav")
    x, sr = sf.read(row["path"], dtype="float32")
    q = signal_qc(x, sr, text=row["transcript"])
    assert q.ok, q.issues
    assert -30 < q.lufs < -10
    assert 120 < q.words_per_minute < 260
    assert q.clipped_samples == 0


def test_silence_short_and_clipped_noise_are_reported_not_raised():
    silent = signal_qc(np.zeros(SR, np.float32), SR)
    assert "silent" in silent.issues and silent.lufs is None and silent.peak_dbfs == float("-inf")

    tiny = signal_qc(_tone(0.1), SR)
    assert any("very short" in i for i in tiny.issues) and tiny.lufs is None

    noise = np.clip(np.random.default_rng(0).standard_normal(SR * 2) * 2, -1, 1).astype(np.float32)
    clipped = signal_qc(noise, SR)
    assert any(i.startswith("clipped") for i in clipped.issues)
    assert clipped.clipped_fraction > 0.3

    empty = signal_qc(np.zeros(0, np.float32), SR)
    assert empty.duration_s == 0.0 and "silent" in empty.issues


def test_long_silent_tail_and_runaway_rate_are_flagged():
    take = np.concatenate([_tone(1.0), np.zeros(3 * SR, np.float32)])
    q = signal_qc(take, SR, text="a sentence of about ten words spoken in one second flat")
    assert any("silent tail" in i for i in q.issues)
    assert any("fast for the text" in i for i in q.issues)


def test_scores_are_cached_per_take_and_go_stale_when_audio_changes(tmp_path):
    lib = open_library(tmp_path / "lib.sqlite")
    store = ScoreStore(lib)
    x = _tone(1.0)
    s = TakeScores(1.0, signal_qc(x, SR), wer=compute_wer("the lazy dog", "the dog"), similarity=0.91,
                   not_scorable={"dnsmos": "too short"})
    wav = tmp_path / "take.wav"
    sf.write(wav, x, SR)
    key = file_audio_key(wav)
    store.put("take", "t1", s, config_key="cfg", audio_key=key)

    back = store.get("take", "t1", config_key="cfg", audio_key=key)
    assert back is not None
    assert back.similarity == 0.91 and back.not_scorable == {"dnsmos": "too short"}
    assert back.wer.dropped_words == ["lazy"]  # the diff survives the round trip
    assert back.qc.issues == s.qc.issues

    sf.write(wav, x * 0.5, SR)  # the take was edited
    assert store.get("take", "t1", config_key="cfg", audio_key=file_audio_key(wav)) is None
    assert store.get("take", "t1", config_key="other settings", audio_key=key) is None
    assert len(store.all_for("take", "t1")) == 1
    assert store.forget("take", "t1") == 1 and store.all_for("take", "t1") == []
    lib.close()
