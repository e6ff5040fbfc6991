"""CSM synthesis behaviour on a tiny random model: seeds, budget, runaway guards, NaN, streaming."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from engine.backends import get_backend
from engine.backends.base import SamplingParams, VoicePrompt
from engine.backends.csm import NonFiniteLogitsError, PromptTooLongError
from engine.backends.csm_recipe import max_frames_for_text
from tests.engine.tiny_csm import cached_tiny_csm, single_thread

pytest.importorskip("transformers")
_threads = pytest.fixture(scope="module", autouse=True)(single_thread)
K = 32
CODES_ONLY = {"codes_only": True}


def _backend():
    b = get_backend("csm")
    b.load(cached_tiny_csm("hf"), device="cpu")
    return b


@pytest.fixture(scope="module")
def backend():
    return _backend()


def _voice(n_frames: int, seed: int = 0) -> VoicePrompt:
    codes = np.random.default_rng(seed).integers(0, 64, size=(K, n_frames))
    return VoicePrompt(key="v", text="The quick brown fox.", n_frames=n_frames, payload=codes)


def _codes(steps) -> np.ndarray:
    return np.stack([s.codes for s in steps if s.codes is not None])


def test_same_seed_same_take_other_seed_other_take(backend):
    voice = _voice(20)

    def run(seed):
        params = SamplingParams(seed=seed, max_audio_seconds=0.8, options=CODES_ONLY)
        return _codes(backend.synthesize("Hello there.", voice, params))

    a, b, c = run(7), run(7), run(8)
    assert a.shape == (10, K)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_large_model_depth_start_as_one_pass_makes_the_same_take(backend):
    """Real-size models run depth positions 0-1 as one 2-row pass (one weight read, not two):
    the same seed must give the same frames as the two one-position steps."""
    voice = _voice(20)
    params = SamplingParams(seed=3, max_audio_seconds=0.8, options=CODES_ONLY)
    model = backend._loaded.model
    assert not model.depth_two_row_start  # the tiny model fits in cache: two steps
    blas, model.blas = model.blas, False  # torch's matmuls, as on a GPU (numpy's BLAS: always two steps)
    try:
        steps = _codes(backend.synthesize("Hello there.", voice, params))
        model.depth_two_row_start = True
        one_pass = _codes(backend.synthesize("Hello there.", voice, params))
    finally:
        model.depth_two_row_start, model.blas = False, blas
    np.testing.assert_array_equal(steps, one_pass)


def test_model_that_never_says_eos_stops_at_the_text_length_budget(backend):
    text = "Hi."
    steps = list(backend.synthesize(text, None, SamplingParams(temperature=0.0, options=CODES_ONLY)))
    assert len(_codes(steps)) == max_frames_for_text(text)
    assert steps[-1].done and steps[-1].stop_reason == "max_frames"
    assert max_frames_for_text("a" * 200) > max_frames_for_text(text)  # longer text, more room


def test_stuck_semantic_token_stops_as_repetition():
    b = _backend()
    with torch.no_grad():
        b._loaded.model.codebook0_head.weight.zero_()  # codebook 0 always token 0, others vary
    text = "A long sentence that would allow plenty of frames to be made here."
    steps = list(b.synthesize(text, None, SamplingParams(temperature=0.0, options={**CODES_ONLY, "repeat_frames": 12})))
    assert steps[-1].stop_reason == "repetition" and steps[-1].done
    assert len(_codes(steps)) == 12 < max_frames_for_text(text)


def test_all_zero_frame_is_eos_and_is_not_kept():
    b = _backend()
    with torch.no_grad():
        b._loaded.model.codebook0_head.weight.zero_()
        b._loaded.model.audio_head.zero_()  # every codebook picks 0: the EOS frame
    steps = list(b.synthesize("Hello.", None, SamplingParams(temperature=0.0, options=CODES_ONLY)))
    assert [s.stop_reason for s in steps] == ["eos"] and steps[0].codes is None and steps[0].done


def test_nan_in_weights_stops_with_a_clear_error():
    b = _backend()
    with torch.no_grad():
        b._loaded.model.decoder.layers[1].feed_forward.w2.weight[0, 0] = float("nan")
    gen = b.synthesize("Hello.", None, SamplingParams(seed=1, options=CODES_ONLY))
    with pytest.raises(NonFiniteLogitsError, match="NaN/inf"):
        next(gen)


def test_reference_too_long_for_the_budget_is_a_clear_error(backend):
    with pytest.raises(PromptTooLongError, match="shorter reference clip"):
        backend.split_text("Hello there.", _voice(2040))
    with pytest.raises(PromptTooLongError, match="model positions"):
        list(backend.synthesize("Hi.", None, SamplingParams(max_audio_seconds=200, options=CODES_ONLY)))


def test_voice_encoded_for_another_model_is_refused(backend):
    bad = _voice(10)
    bad.payload = bad.payload + 5000
    with pytest.raises(ValueError, match="encode the reference again"):
        list(backend.synthesize("Hi.", bad, SamplingParams(options=CODES_ONLY)))
    with pytest.raises(ValueError, match=r"CSM needs \[32, frames\]"):
        backend.split_text("Hi.", VoicePrompt("v", "x", 10, np.zeros((8, 10), dtype=np.int64)))
    with pytest.raises(ValueError, match="no text to say"):
        list(backend.synthesize("   ", None, SamplingParams(options=CODES_ONLY)))


def test_long_text_is_split_into_chunks_that_each_fit_with_the_voice(backend):
    voice = _voice(600)
    text = " ".join(f"Sentence number {i} is here to make the text long." for i in range(60))
    chunks = backend.split_text(text, voice)
    assert len(chunks) > 1
    assert " ".join(chunks).split() == text.split()  # nothing lost, order kept
    for chunk in chunks:
        backend._prompt(chunk, backend._voice_rows(voice), None)  # raises if it would overflow
    assert backend.split_text("Short.", voice) == ["Short."]


def test_chunked_synthesis_reports_chunks_and_carries_the_voice(backend, monkeypatch):
    voice = _voice(1900)  # leaves room for one sentence at a time
    text = "First sentence is here. Second sentence follows it. Third one ends the text."
    seen = []
    real = backend._prompt
    monkeypatch.setattr(backend, "_prompt", lambda t, v, s: seen.append(v) or real(t, v, s))
    # The split budgets each chunk by its text length; generation itself is cut short to save time.
    steps = list(backend.synthesize(text, voice, SamplingParams(seed=0, max_audio_seconds=0.4, options=CODES_ONLY)))
    n = steps[-1].text_chunk_count
    assert n > 1 and sorted({s.text_chunk_index for s in steps}) == list(range(n))
    assert all(v is not None and len(v) > voice.n_frames for v in seen)  # every chunk has the voice
    assert [s.done for s in steps].count(True) == 1 and steps[-1].done


def test_full_pipeline_reference_audio_to_streamed_audio(backend, speech_clips):
    clip = speech_clips[0]
    audio, sr = sf.read(clip["path"], dtype="float32")
    voice = backend.encode_reference(audio, sr, clip["transcript"], "clip0")
    assert voice.payload.shape == (K, voice.n_frames)
    assert abs(voice.n_frames - len(audio) / sr * 12.5) <= 2
    params = SamplingParams(seed=5, max_audio_seconds=1.2, options={"silence_dbfs": -200.0})
    steps = list(backend.synthesize("Hello there.", voice, params, stream_frames=4))
    codes = _codes(steps)
    streamed = np.concatenate([s.audio for s in steps if s.audio is not None])
    assert streamed.dtype == np.float32 and len(streamed) == len(codes) * 1920
    np.testing.assert_allclose(streamed, backend.decode_codes(codes.T), atol=1e-4)


def test_silent_tail_is_held_back_then_dropped_and_stops_the_take():
    from engine.backends.csm_guards import GuardSettings, SilenceTrimmer

    sr, fr = 24000, 12.5  # decisions are per 80 ms frame (1920 samples)
    tone = (0.3 * np.sin(np.arange(3840) * 0.05)).astype(np.float32)  # 2 frames of sound
    quiet = np.zeros(9600, dtype=np.float32)  # 5 frames, 0.4 s
    t = SilenceTrimmer(sr, fr, GuardSettings(silence_tail_s=1.0, keep_tail_s=0.1))
    out, stop = t.push(np.concatenate([tone, quiet]))
    assert len(out) == len(tone) and not stop  # the silent end is held back
    out, stop = t.push(tone)  # speech resumes: the held pause comes back, in order
    assert len(out) == len(quiet) + len(tone) and np.array_equal(out[: len(quiet)], quiet)
    results = [t.push(quiet) for _ in range(3)]  # 0.4, 0.8, 1.2 s of silence
    assert all(out is None for out, _ in results)
    assert [stop for _, stop in results] == [False, False, True]
    assert len(t.finish()) == int(0.1 * sr)  # only a short decay survives
