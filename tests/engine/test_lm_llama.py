"""The Llama decoder equals transformers' Llama, and its static KV cache equals a full recompute."""
from __future__ import annotations

import pytest
import torch

from engine.lm.config import LlamaConfig, RopeConfig
from engine.lm.generate import LlamaLM, generate_tokens
from engine.lm.rope import apply_rope, inverse_frequencies, rope_tables
from engine.lm.sampling import SamplerSettings
from tests.engine.tiny_csm import single_thread

transformers = pytest.importorskip("transformers")
_threads = pytest.fixture(scope="module", autouse=True)(single_thread)
ROPE = {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0, "low_freq_factor": 1.0,
        "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}


@pytest.fixture(scope="module")
def pair():
    """A tiny GQA Llama from transformers and ours loaded from its state dict (meta build + assign)."""
    hf_cfg = transformers.LlamaConfig(vocab_size=97, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                      num_attention_heads=8, num_key_value_heads=2, max_position_embeddings=64,
                                      rope_parameters=dict(ROPE), tie_word_embeddings=False)
    torch.manual_seed(0)
    ref = transformers.LlamaForCausalLM(hf_cfg).eval()
    cfg = LlamaConfig.from_hf(hf_cfg.to_dict())
    with torch.device("meta"):
        ours = LlamaLM(cfg, 97)
    ours.load_state_dict(LlamaLM.state_dict_from_hf(ref.state_dict()), strict=True, assign=True)
    ours.eval().setup_caches(1)
    return ref, ours


def test_llama3_rope_frequencies_match_transformers():
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    hf_cfg = transformers.LlamaConfig(hidden_size=2048, num_attention_heads=32, rope_parameters=dict(ROPE))
    ref, _ = ROPE_INIT_FUNCTIONS["llama3"](hf_cfg, "cpu")
    ours = inverse_frequencies(RopeConfig.from_hf({"rope_parameters": ROPE}), 64)
    torch.testing.assert_close(ours, ref, rtol=0, atol=0)
    plain = inverse_frequencies(RopeConfig(theta=10000.0), 64)
    assert not torch.allclose(plain, ours)  # the scaling did something


def test_rope_rotation_matches_rotate_half_form():
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    cos, sin = rope_tables(RopeConfig(), 16, 10)  # [P, D]
    x = torch.randn(1, 3, 10, 16)  # [B, H, S, D]
    hf_sin = torch.cat([sin[:, 8:], sin[:, 8:]], dim=-1)  # ours folds rotate_half's sign into sin
    ref, _ = apply_rotary_pos_emb(x, x, cos[None], hf_sin[None])
    torch.testing.assert_close(apply_rope(x, cos, sin), ref, rtol=0, atol=0)


def test_logits_match_transformers(pair):
    ref, ours = pair
    tokens = torch.randint(0, 97, (1, 12), generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        expected = ref(tokens).logits
        got = ours.forward_logits(tokens, 0)
    assert (got - expected).abs().max().item() <= 1e-4


def test_kv_cache_decoding_equals_full_recompute(pair):
    ref, ours = pair
    tokens = torch.randint(0, 97, (1, 10), generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        full = ours.forward_logits(tokens, 0)  # [1, 10, V]
        steps = [ours.prefill(tokens[:, :4])]
        for i in range(4, 10):
            steps.append(ours.decode_one_token(tokens[:, i]))
    incremental = torch.stack(steps[:-1], dim=1)  # logits for positions 3..8
    torch.testing.assert_close(incremental, full[:, 3:9], atol=1e-5, rtol=1e-5)


def test_greedy_tokens_match_transformers_generate(pair):
    ref, ours = pair
    prompt = torch.tensor([[5, 17, 42, 8]])
    with torch.inference_mode():
        expected = ref.generate(prompt, max_new_tokens=12, do_sample=False)[0, 4:].tolist()
    got = list(generate_tokens(ours, prompt, 12, SamplerSettings(temperature=0.0)))
    assert got == expected
