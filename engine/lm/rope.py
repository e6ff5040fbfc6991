"""Rotary position embeddings (rotate-half convention, as in Hugging Face Llama weights)."""
from __future__ import annotations

import math

import torch

from engine.lm.config import RopeConfig


def inverse_frequencies(rope: RopeConfig, head_dim: int) -> torch.Tensor:
    """[head_dim // 2] float32, with llama3 frequency scaling when the config asks for it."""
    inv_freq = 1.0 / (rope.theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    if rope.kind != "llama3":
        return inv_freq
    # Llama 3.1 scaling: long wavelengths are slowed by `factor`, short ones kept, the band between
    # interpolated smoothly (same formula as the reference implementations).
    low_wavelen = rope.original_max_positions / rope.low_freq_factor
    high_wavelen = rope.original_max_positions / rope.high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    scaled = torch.where(wavelen > low_wavelen, inv_freq / rope.factor, inv_freq)
    smooth = (rope.original_max_positions / wavelen - rope.low_freq_factor) / (
        rope.high_freq_factor - rope.low_freq_factor)
    smoothed = (1 - smooth) * scaled / rope.factor + smooth * scaled
    medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
    return torch.where(medium, smoothed, scaled)


def rope_tables(rope: RopeConfig, head_dim: int, max_positions: int) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and *signed* sin tables, [max_positions, head_dim] float32 (see apply_rope)."""
    inv_freq = inverse_frequencies(rope, head_dim)
    freqs = torch.arange(max_positions).float()[:, None] * inv_freq[None, :]  # [P, head_dim/2]
    emb = torch.cat((freqs, freqs), dim=-1)  # [P, head_dim]
    sign = torch.cat((-torch.ones(head_dim // 2), torch.ones(head_dim // 2)))
    return emb.cos(), emb.sin() * sign


def apply_rope(x: torch.Tensor, cos: torch.Tensor, signed_sin: torch.Tensor) -> torch.Tensor:
    """x: [..., D]; tables broadcastable to x, in x's dtype.

    rotate_half(x) = [-x2, x1] = roll(x, D/2) * [-1.., +1..]; the sign lives in `signed_sin`, so the
    rotation is one roll instead of slice/neg/cat, with bit-identical results.
    """
    return x * cos + torch.roll(x, x.shape[-1] // 2, dims=-1) * signed_sin
