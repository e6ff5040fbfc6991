"""Our CSM equals transformers' on the same tiny random checkpoint (fp32, CPU)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.backends import get_backend
from engine.backends.base import SamplingParams
from tests.engine.tiny_csm import cached_tiny_csm, load_reference, single_thread

pytest.importorskip("transformers")
K = 32
TEXT = "Hello there, this is a test."


_threads = pytest.fixture(scope="module", autouse=True)(single_thread)


@pytest.fixture(scope="module")
def reference():
    return load_reference(cached_tiny_csm("hf"))


@pytest.fixture(scope="module", params=["hf", "sesame"])
def backend(request):
    b = get_backend("csm")
    b.load(cached_tiny_csm(request.param), device="cpu")
    return b


def _mixed_rows(seed: int = 0):
    """A prompt like a real one: text rows, then audio rows (random codes)."""
    g = torch.Generator().manual_seed(seed)
    s, n_text = 12, 5
    tokens = torch.zeros(1, s, K + 1, dtype=torch.long)
    mask = torch.zeros(1, s, K + 1, dtype=torch.bool)
    tokens[0, :n_text, -1] = torch.randint(0, 300, (n_text,), generator=g)
    mask[0, :n_text, -1] = True
    tokens[0, n_text:, :K] = torch.randint(0, 64, (s - n_text, K), generator=g)
    mask[0, n_text:, :K] = True
    return tokens, mask, n_text


def test_teacher_forced_logits_match_transformers(backend, reference):
    tokens, mask, n_text = _mixed_rows()
    with torch.inference_mode():
        ours, hidden = backend._loaded.model.backbone_logits(tokens, mask)  # [1, S, V]
        embeds = torch.cat([reference.embed_text_tokens(tokens[:, :n_text, -1]),
                            reference.backbone_model.embed_tokens(tokens[:, n_text:, :K])], dim=1)
        ref = reference(inputs_embeds=embeds)
        assert (ours - ref.logits).abs().max().item() <= 1e-4

        # Depth decoder under teacher forcing: [backbone hidden, c0..c30] -> logits of c1..c31.
        frame = tokens[:, n_text + 1, :K]
        ours_d = backend._loaded.model.depth_logits(hidden[:, n_text], frame)  # [1, K-1, V]
        ref_d = reference.depth_decoder(input_ids=torch.nn.functional.pad(frame[:, : K - 1], (1, 0)),
                                        backbone_last_hidden_state=hidden[:, n_text]).logits
    assert ours_d.shape == ref_d.shape == (1, K - 1, ref_d.shape[-1])
    assert (ours_d - ref_d).abs().max().item() <= 1e-4


@pytest.fixture(scope="module")
def reference_greedy_codes(reference):
    """transformers' greedy generate, 20 frames: [20, K]."""
    from engine.backends.csm_recipe import TextTokenizer

    ids = TextTokenizer(cached_tiny_csm("hf") / "tokenizer.json").encode_turn(TEXT)
    with torch.inference_mode():
        return reference.generate(input_ids=torch.tensor([ids]), do_sample=False, depth_decoder_do_sample=False,
                                  max_new_tokens=20)[0].numpy()


def test_greedy_generation_matches_transformers_generate(backend, reference_greedy_codes):
    ref = reference_greedy_codes
    params = SamplingParams(temperature=0.0, max_audio_seconds=20 / 12.5, options={"codes_only": True})
    steps = list(backend.synthesize(TEXT, None, params))
    ours = np.stack([s.codes for s in steps if s.codes is not None])
    assert ref.shape == (20, K)
    np.testing.assert_array_equal(ours, ref)
    assert steps[-1].done and steps[-1].stop_reason == "max_frames"
