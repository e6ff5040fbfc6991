"""Mimi's split residual vector quantizer: 1 semantic codebook + 31 acoustic ones (kyutai/mimi).

The two groups are independent RVQs over the same latent (each with its own 1x1 in/out
projection); their decoded outputs are summed. Decoding with the first K levels is what lets the
studio play "what each level adds": K=1 is the semantic level alone, K=32 the full codec.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.codecs.mimi_config import MimiConfig


class Codebook(nn.Module):
    """Stored as EMA statistics (embed_sum / cluster_usage), as in the checkpoints."""

    def __init__(self, cfg: MimiConfig, epsilon: float = 1e-5):
        super().__init__()
        self.register_buffer("embed_sum", torch.zeros(cfg.codebook_size, cfg.codebook_dim))
        self.register_buffer("cluster_usage", torch.ones(cfg.codebook_size))
        self.register_buffer("embed", torch.zeros(cfg.codebook_size, cfg.codebook_dim), persistent=False)
        self.epsilon = epsilon

    def finalize(self) -> None:
        """Compute the centroids once after loading. embed: [codebook_size, dim]."""
        self.embed = self.embed_sum / self.cluster_usage.clamp(min=self.epsilon)[:, None]

    def encode(self, x: Tensor) -> Tensor:
        # x: [B, dim, F] -> indices [B, F]. cdist on [N, dim] rows, as the reference does, so that
        # near-ties resolve the same way.
        b, d, f = x.shape
        rows = x.permute(0, 2, 1).reshape(-1, d)  # [B*F, dim]
        dists = torch.cdist(rows[None].float(), self.embed[None].float(), p=2)[0]  # [B*F, size]
        return dists.argmin(dim=-1).view(b, f)

    def decode(self, idx: Tensor) -> Tensor:
        # idx: [B, F] -> [B, dim, F]
        return F.embedding(idx, self.embed).permute(0, 2, 1)


class ResidualVQ(nn.Module):
    def __init__(self, cfg: MimiConfig, n_levels: int):
        super().__init__()
        self.layers = nn.ModuleList([_Level(cfg) for _ in range(n_levels)])
        self.input_proj: nn.Conv1d | None = None
        self.output_proj: nn.Conv1d | None = None
        if cfg.vector_quantization_hidden_dimension != cfg.hidden_size:
            dim = cfg.vector_quantization_hidden_dimension
            self.input_proj = nn.Conv1d(cfg.hidden_size, dim, 1, bias=False)
            self.output_proj = nn.Conv1d(dim, cfg.hidden_size, 1, bias=False)

    def encode(self, latents: Tensor, n_levels: int) -> Tensor:
        # latents: [B, hidden, F] -> codes [n_levels, B, F]
        residual = self.input_proj(latents) if self.input_proj is not None else latents
        codes = []
        for level in self.layers[:n_levels]:
            idx = level.codebook.encode(residual)
            residual = residual - level.codebook.decode(idx)
            codes.append(idx)
        return torch.stack(codes)

    def decode(self, codes: Tensor) -> Tensor:
        # codes: [B, K, F] -> [B, hidden, F]
        out = torch.full((), 0.0, device=codes.device)
        for k in range(codes.shape[1]):
            out = out + self.layers[k].codebook.decode(codes[:, k])
        return self.output_proj(out) if self.output_proj is not None else out


class _Level(nn.Module):
    """One RVQ level; exists only so parameter names read `layers.{i}.codebook.*`."""

    def __init__(self, cfg: MimiConfig):
        super().__init__()
        self.codebook = Codebook(cfg)


class SplitResidualVQ(nn.Module):
    def __init__(self, cfg: MimiConfig):
        super().__init__()
        self.n_semantic = cfg.num_semantic_quantizers
        self.n_total = cfg.num_quantizers
        self.semantic_residual_vector_quantizer = ResidualVQ(cfg, self.n_semantic)
        self.acoustic_residual_vector_quantizer = ResidualVQ(cfg, self.n_total - self.n_semantic)

    def finalize(self) -> None:
        for m in self.modules():
            if isinstance(m, Codebook):
                m.finalize()

    def encode(self, latents: Tensor, n_codebooks: int) -> Tensor:
        # latents: [B, hidden, F] -> codes [B, K, F]
        codes = self.semantic_residual_vector_quantizer.encode(latents, self.n_semantic)
        if n_codebooks > self.n_semantic:
            acoustic = self.acoustic_residual_vector_quantizer.encode(latents, n_codebooks - self.n_semantic)
            codes = torch.cat([codes, acoustic], dim=0)
        return codes[:n_codebooks].transpose(0, 1)

    def decode(self, codes: Tensor) -> Tensor:
        # codes: [B, K, F] -> [B, hidden, F]
        out = self.semantic_residual_vector_quantizer.decode(codes[:, : self.n_semantic])
        if codes.shape[1] > self.n_semantic:
            out = out + self.acoustic_residual_vector_quantizer.decode(codes[:, self.n_semantic:])
        return out
