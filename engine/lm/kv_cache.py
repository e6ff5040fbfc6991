"""Static key/value cache: preallocated buffers, written in place, never reallocated per step."""
from __future__ import annotations

import torch
from torch import nn


class KVCache(nn.Module):
    def __init__(self, batch: int, n_kv_heads: int, max_positions: int, head_dim: int,
                 dtype: torch.dtype, device: torch.device | str | None = None) -> None:
        super().__init__()
        shape = (batch, n_kv_heads, max_positions, head_dim)
        self.register_buffer("k", torch.zeros(shape, dtype=dtype, device=device), persistent=False)
        self.register_buffer("v", torch.zeros(shape, dtype=dtype, device=device), persistent=False)

    def update(self, start: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Write k, v [B, Hkv, S, D] at positions start..start+S-1.

        Returns views of the filled prefix [B, Hkv, start+S, D]; they alias the cache, so callers
        must not keep them past the next update.
        """
        end = start + k.shape[2]
        self.k[:, :, start:end] = k
        self.v[:, :, start:end] = v
        return self.k[:, :, :end], self.v[:, :, :end]

    def write_one(self, position: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """k, v: [B, Hkv, D] for one position; returns the filled prefix as `update` does."""
        self.k[:, :, position] = k
        self.v[:, :, position] = v
        return self.k[:, :, : position + 1], self.v[:, :, : position + 1]
