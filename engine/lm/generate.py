"""A plain Llama LM (token embedding -> decoder -> output head) with `prefill` / `decode_one_token`.

CSM has its own frame embedding (engine/backends/csm_model.py); flat-token TTS models (Orpheus,
Llasa: one Llama over flattened codec tokens) use this class directly.
"""
from __future__ import annotations

from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from engine.lm.config import LlamaConfig
from engine.lm.llama import Transformer, hf_decoder_state_dict
from engine.lm.sampling import SamplerSettings, sample


class LlamaLM(nn.Module):
    def __init__(self, cfg: LlamaConfig, vocab_size: int) -> None:
        super().__init__()
        self.tok_embeddings = nn.Embedding(vocab_size, cfg.dim)
        self.model = Transformer(cfg)
        self.output = nn.Linear(cfg.dim, vocab_size, bias=False)
        self.position = 0

    def setup_caches(self, batch: int = 1, max_positions: int | None = None) -> None:
        self.model.setup_caches(batch, max_positions)
        self.position = 0

    def forward_logits(self, tokens: torch.Tensor, start: int) -> torch.Tensor:
        """tokens: [B, S] at positions start.. -> logits [B, S, V]."""
        return F.linear(self.model(self.tok_embeddings(tokens), start), self.output.weight)

    def prefill(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens: [B, S] from position 0 -> logits of the last position [B, V]."""
        logits = self.forward_logits(tokens, 0)[:, -1]
        self.position = tokens.shape[1]
        return logits

    def decode_one_token(self, token: torch.Tensor) -> torch.Tensor:
        """token: [B] at the next position -> logits [B, V]."""
        logits = self.forward_logits(token.unsqueeze(1), self.position)[:, -1]
        self.position += 1
        return logits

    @staticmethod
    def state_dict_from_hf(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """transformers' LlamaForCausalLM keys -> ours (tied heads reuse the embedding)."""
        out = {f"model.{k}": v for k, v in hf_decoder_state_dict(sd, "model.").items()}
        out["tok_embeddings.weight"] = sd["model.embed_tokens.weight"]
        out["output.weight"] = sd.get("lm_head.weight", sd["model.embed_tokens.weight"])
        return out


def generate_tokens(lm: LlamaLM, prompt: torch.Tensor, max_new_tokens: int, settings: SamplerSettings,
                    generator: torch.Generator | None = None,
                    stop_ids: frozenset[int] = frozenset()) -> Iterator[int]:
    """prompt: [1, S] -> yields new token ids until a stop id (not yielded) or max_new_tokens."""
    with torch.inference_mode():
        logits = lm.prefill(prompt)
    for _ in range(max_new_tokens):
        with torch.inference_mode():
            token = sample(logits, settings, generator)  # [1]
        if not bool(torch.isfinite(logits).all()):
            raise FloatingPointError("the language model produced NaN/inf logits")
        value = int(token.item())
        if value in stop_ids:
            return
        yield value
        with torch.inference_mode():
            logits = lm.decode_one_token(token)
