"""Mimi's small causal transformers (one after the encoder, one before the decoder).

Pre-norm LayerNorm blocks with RoPE, GELU MLP and LayerScale; attention is causal and limited to a
sliding window (`kv_pos > q_pos - window`, 250 latent steps = 10 s for kyutai/mimi).

Streaming keeps a KV cache per layer holding only the last `window - 1` positions: nothing older
can ever be attended again, so memory stays flat however long a take is. Numerics follow
transformers' SDPA path (same RoPE formula, same masks) so encoder latents, and therefore codes,
match the reference bit for bit in practice.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.codecs.mimi_config import MimiConfig


@dataclass
class KVCache:
    """Per-layer keys/values of the most recent positions. k, v: [B, H_kv, S, head_dim]."""

    keys: list[Tensor | None] = field(default_factory=list)
    values: list[Tensor | None] = field(default_factory=list)
    next_pos: int = 0  # absolute position of the next input step (RoPE needs it)

    @classmethod
    def empty(cls, n_layers: int) -> "KVCache":
        return cls([None] * n_layers, [None] * n_layers, 0)


def rotate_half(x: Tensor) -> Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg: MimiConfig):
        super().__init__()
        d, h, hkv, hd = cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        self.n_heads, self.n_kv_heads, self.head_dim = h, hkv, hd
        self.q_proj = nn.Linear(d, h * hd, bias=cfg.attention_bias)
        self.k_proj = nn.Linear(d, hkv * hd, bias=cfg.attention_bias)
        self.v_proj = nn.Linear(d, hkv * hd, bias=cfg.attention_bias)
        self.o_proj = nn.Linear(h * hd, d, bias=cfg.attention_bias)
        self.scale = hd ** -0.5

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor, mask: Tensor | None,
                cache: KVCache | None, layer: int, keep: int) -> Tensor:
        # x: [B, T, D]; cos/sin: [1, T, head_dim]; mask: [T, S_total] bool (True = attend) or None
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)  # [B, H, T, hd]
        k = self.k_proj(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)  # [B, Hkv, T, hd]
        v = self.v_proj(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)
        cos, sin = cos[:, None], sin[:, None]  # [1, 1, T, hd]
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if cache is not None:
            past_k, past_v = cache.keys[layer], cache.values[layer]
            if past_k is not None:
                k, v = torch.cat([past_k, k], dim=2), torch.cat([past_v, v], dim=2)  # [B, Hkv, S+T, hd]
            # keep only what a future query can still see (clone: never hold a view of a big chunk)
            cache.keys[layer] = k[:, :, max(0, k.shape[2] - keep):].clone()
            cache.values[layer] = v[:, :, max(0, v.shape[2] - keep):].clone()
        if self.n_kv_heads != self.n_heads:
            rep = self.n_heads // self.n_kv_heads
            k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None and t > 1,
                                           scale=self.scale)  # [B, H, T, hd]
        return self.o_proj(o.transpose(1, 2).reshape(b, t, -1))


class TransformerLayer(nn.Module):
    def __init__(self, cfg: MimiConfig):
        super().__init__()
        self.input_layernorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.norm_eps)
        self.self_attn = Attention(cfg)
        self.self_attn_layer_scale = LayerScale(cfg.hidden_size)
        self.post_attention_layernorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.norm_eps)
        self.mlp = MLP(cfg)
        self.mlp_layer_scale = LayerScale(cfg.hidden_size)

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor, mask: Tensor | None,
                cache: KVCache | None, layer: int, keep: int) -> Tensor:
        h = self.self_attn(self.input_layernorm(x), cos, sin, mask, cache, layer, keep)
        x = x + self.self_attn_layer_scale(h)
        return x + self.mlp_layer_scale(self.mlp(self.post_attention_layernorm(x)))


class LayerScale(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        return self.scale * x


class MLP(nn.Module):
    def __init__(self, cfg: MimiConfig):
        super().__init__()
        self.fc1 = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.fc2 = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class MimiTransformer(nn.Module):
    def __init__(self, cfg: MimiConfig):
        super().__init__()
        self.layers = nn.ModuleList([TransformerLayer(cfg) for _ in range(cfg.num_hidden_layers)])
        self.window = cfg.sliding_window
        self.head_dim = cfg.head_dim
        self.rope_theta = cfg.rope_theta
        self.register_buffer("inv_freq", self._inv_freq(torch.device("cpu")), persistent=False)

    def _inv_freq(self, device: torch.device) -> Tensor:
        dims = torch.arange(0, self.head_dim, 2, dtype=torch.int64, device=device).float()
        return 1.0 / (self.rope_theta ** (dims / self.head_dim))  # [head_dim / 2]

    def reset_rope(self, device: torch.device) -> None:
        """Recompute the RoPE buffer (needed after building on the meta device)."""
        self.inv_freq = self._inv_freq(device)

    def _rope(self, positions: Tensor, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        freqs = positions[None, :, None].float() * self.inv_freq  # [1, T, hd/2]
        emb = torch.cat((freqs, freqs), dim=-1)  # [1, T, hd]
        return emb.cos().to(dtype), emb.sin().to(dtype)

    def _mask(self, q_pos: Tensor, k_pos: Tensor) -> Tensor:
        # [T, S]: causal and within the sliding window
        diff = q_pos[:, None] - k_pos[None, :]
        return (diff >= 0) & (diff < self.window)

    def forward(self, x: Tensor, cache: KVCache | None = None) -> Tensor:
        """x: [B, T, D] -> [B, T, D]. With a cache, x continues the sequence the cache has seen."""
        t = x.shape[1]
        start = cache.next_pos if cache is not None else 0
        past = 0
        if cache is not None and cache.keys and cache.keys[0] is not None:
            past = cache.keys[0].shape[2]
        q_pos = torch.arange(start, start + t, device=x.device)
        k_pos = torch.arange(start - past, start + t, device=x.device)
        cos, sin = self._rope(q_pos, x.dtype)
        # like the reference, a plain causal mask when the window cannot bite (faster kernel)
        mask = None if (past == 0 and t <= self.window) else self._mask(q_pos, k_pos)
        keep = self.window - 1
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, mask, cache, i, keep)
        if cache is not None:
            cache.next_pos = start + t
        return x
