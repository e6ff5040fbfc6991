"""Tiny random Mimi checkpoints written by transformers (the reference), in the real on-disk layout.

Weights are random but chosen so that every part matters to the output: codebooks spread like
the latents they quantize (else every code is 0), transformer weights large enough that attention
is not uniform (else a RoPE or mask bug would not show), layer scales near 1, and a sliding
window of a few steps so short test sequences already run past it.
"""
from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import pytest
import torch

TINY = dict(
    hidden_size=32, num_filters=4, codebook_size=64, codebook_dim=16, num_quantizers=32,
    vector_quantization_hidden_dimension=16, upsample_groups=16, num_hidden_layers=2,
    intermediate_size=64, num_attention_heads=4, num_key_value_heads=2, sliding_window=8,
)


def tiny_hf_mimi(seed: int = 0, **overrides):
    """A transformers MimiModel (eval mode) with tiny dims and 32 codebooks."""
    from transformers import MimiConfig, MimiModel

    torch.manual_seed(seed)
    cfg = MimiConfig(**{**TINY, **overrides})
    model = MimiModel(cfg).eval()
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "_transformer" in name and p.ndim == 2:  # q/k/v/o and MLP
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[1] ** 0.5)
            elif name.endswith("layer_scale.scale"):
                p.copy_(torch.rand(p.shape, generator=g) * 0.8 + 0.2)
            elif "layernorm" in name:
                base = 1.0 if name.endswith("weight") else 0.0
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=g))
        _spread_codebooks(model, g)
        # random convs amplify: bring the output to an audio-like peak of ~0.5, so that the 1e-4
        # tolerances of the tests are as strict as they would be on real audio
        codes = torch.randint(0, cfg.codebook_size, (1, cfg.num_quantizers, 20), generator=g)
        peak = float(model.decode(codes).audio_values.abs().max())
        last = model.decoder.decoder_seanet.layers[-1].conv
        last.weight.mul_(0.5 / peak)
        last.bias.mul_(0.5 / peak)
    return model


def _spread_codebooks(model, g: torch.Generator) -> None:
    """Centroids with the spread of the latents they quantize, so codes vary with the audio."""
    wav = torch.randn(1, 1, 24_000, generator=g) * 0.1
    latents = model.encoder(wav).latents  # [1, hidden, F]
    for rvq in (model.quantizer.semantic_residual_vector_quantizer,
                model.quantizer.acoustic_residual_vector_quantizer):
        proj = rvq.input_proj(latents) if rvq.input_proj is not None else latents
        std = float(proj.std())
        for level in rvq.layers:
            cb = level.codebook
            usage = torch.rand(cb.cluster_usage.shape, generator=g) * 1.5 + 0.5
            cb.cluster_usage.copy_(usage)
            cb.embed_sum.copy_(torch.randn(cb.embed_sum.shape, generator=g) * std * usage[:, None])
            cb._embed = None  # drop the cached centroids
            std *= 0.7  # residuals shrink level by level


def save_tiny_mimi(folder: Path, seed: int = 0, **overrides):
    """Write config.json + model.safetensors with save_pretrained; returns (folder, hf_model)."""
    model = tiny_hf_mimi(seed, **overrides)
    model.save_pretrained(folder)
    return Path(folder), model


_KEEP: list[tempfile.TemporaryDirectory] = []  # alive for the test process, removed at exit


@functools.lru_cache(maxsize=None)
def cached_tiny_mimi(seed: int = 0):
    """One tiny checkpoint per seed per test process (building one costs a few seconds)."""
    tmp = tempfile.TemporaryDirectory(prefix="tiny-mimi-")
    _KEEP.append(tmp)
    return save_tiny_mimi(Path(tmp.name) / "mimi", seed)


@pytest.fixture(scope="module", autouse=True)
def single_torch_thread():
    """Import into a test module to run it on one torch thread. The tiny model's ops are so small
    that on a busy shared CPU, intra-op threads spin-waiting on each other make the tests ~15x
    slower; one thread also keeps us from starving the other test processes."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
