"""Token sampling: temperature, top-k, top-p, repetition penalty, a seeded generator.

Sampling draws with the exponential-race trick (argmax(p / Exp(1))), which equals a multinomial
draw, needs no device sync, and is reproducible from the generator's seed.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class SamplerSettings:
    temperature: float = 0.9  # <= 0: greedy
    top_k: int = 50  # 0: off
    top_p: float = 1.0  # 1.0: off
    repetition_penalty: float = 1.0  # 1.0: off


def apply_repetition_penalty(logits: torch.Tensor, previous: torch.Tensor, penalty: float) -> torch.Tensor:
    """logits: [B, V]; previous: [B, N] token ids. CTRL-style: divide positive, multiply negative."""
    if penalty == 1.0 or previous.numel() == 0:
        return logits
    picked = logits.gather(-1, previous)
    picked = torch.where(picked > 0, picked / penalty, picked * penalty)
    return logits.scatter(-1, previous, picked)


def filter_logits(logits: torch.Tensor, top_k: int, top_p: float) -> torch.Tensor:
    """logits: [B, V] -> same shape with excluded tokens at -inf."""
    if 0 < top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        cumulative = sorted_logits.softmax(-1).cumsum(-1)
        # Drop a token when the mass before it already reaches top_p (the first token always stays).
        drop_sorted = (cumulative - sorted_logits.softmax(-1)) >= top_p
        drop = drop_sorted.scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def uses_topk_fast_path(settings: SamplerSettings, vocab: int) -> bool:
    return settings.temperature > 0 and 0 < settings.top_k < vocab and settings.top_p >= 1.0


def sample(logits: torch.Tensor, settings: SamplerSettings, generator: torch.Generator | None = None,
           previous: torch.Tensor | None = None, noise: torch.Tensor | None = None) -> torch.Tensor:
    """logits: [B, V] -> token ids [B] (int64).

    noise: optional pre-drawn Exp(1) samples, [B, top_k] on the top-k path else [B, V]; drawing a
    whole frame's noise in one call saves two ops per token in the depth loop.
    """
    if logits.dtype != torch.float32:
        logits = logits.float()
    if previous is not None:
        logits = apply_repetition_penalty(logits, previous, settings.repetition_penalty)
    if settings.temperature <= 0:
        return logits.argmax(-1)
    if uses_topk_fast_path(settings, logits.shape[-1]):
        # Sample among the k best only: same distribution as masking the rest to -inf, on k values.
        values, ids = torch.topk(logits, settings.top_k, dim=-1)  # [B, k]
        probs = torch.softmax(values / settings.temperature, dim=-1)
        if noise is None:
            noise = torch.empty_like(probs).exponential_(1.0, generator=generator)
        return ids.gather(-1, (probs / noise).argmax(-1, keepdim=True)).squeeze(-1)
    logits = filter_logits(logits / settings.temperature, settings.top_k, settings.top_p)
    probs = logits.softmax(-1)
    if noise is None:
        noise = torch.empty_like(probs).exponential_(1.0, generator=generator)
    return (probs / noise).argmax(-1)
