"""The CSM token LM: a Llama backbone over 33-column frames and a small depth decoder.

Frame layout (one backbone position per row): columns 0..K-1 hold the K audio codebooks, column K
holds a text token; a mask says which columns a row uses (text rows: column K only; audio rows:
columns 0..K-1 only). A row's embedding is the sum of its used columns' embeddings.

Per generated 80 ms frame: the backbone's last hidden state predicts codebook 0; the depth decoder
then runs over [backbone hidden, c0, c1, ...] (K positions, its own 33-slot KV cache, restarted each
frame) and predicts codebooks 1..K-1, one head per codebook.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from engine.backends.csm_config import CsmSpec
from engine.lm import cpu_blas
from engine.lm.llama import Transformer, hf_decoder_keys, hf_decoder_state_dict
from engine.lm.threads import one_thread
from engine.lm.sampling import SamplerSettings, sample, uses_topk_fast_path


# Above this many bytes of depth-decoder weights, reading them is what a step costs (a server CPU's
# last-level cache is 16-64 MB; CSM-1B's depth decoder is 444 MB in fp32, the test models a few MB).
DEPTH_CACHE_BYTES = 64 << 20


class NonFiniteLogitsError(RuntimeError):
    """The model produced NaN or inf logits: the job stops instead of making garbage audio."""


class CsmModel(nn.Module):
    def __init__(self, spec: CsmSpec) -> None:
        super().__init__()
        self.spec = spec
        k, v, d, dd = spec.n_codebooks, spec.audio_vocab, spec.backbone.dim, spec.depth.dim
        self.text_embeddings = nn.Embedding(spec.text_vocab, d)
        self.audio_embeddings = nn.Embedding(k * v, d)  # backbone input, codebook i at offset i*V
        self.depth_embeddings = nn.Embedding(k * v, d)  # depth decoder input (tied: same tensor)
        self.backbone = Transformer(spec.backbone)
        self.codebook0_head = nn.Linear(d, v, bias=False)
        self.projection = nn.Linear(d, dd, bias=False)
        self.decoder = Transformer(spec.depth)
        self.audio_head = nn.Parameter(torch.empty(k - 1, dd, v))  # head i predicts codebook i+1
        self.position = 0  # next backbone position

    # -- set-up ---------------------------------------------------------------------------------
    def setup_caches(self, max_positions: int | None = None) -> None:
        self.backbone.setup_caches(1, max_positions)
        self.decoder.setup_caches(1, self.spec.n_codebooks)
        offsets = torch.arange(self.spec.n_codebooks, device=self.codebook0_head.weight.device)
        self.register_buffer("audio_offsets", offsets * self.spec.audio_vocab, persistent=False)
        self.position = 0
        # Positions 0 and 1 of the depth decoder: as one 2-row pass when its weights are far beyond
        # the last-level cache (a batch-1 step then costs one read of them: a 2-row pass reads them
        # once instead of twice, 1/32 of a frame's depth reads); as two one-position steps when they
        # fit in cache (small models are overhead-bound, and the steps skip mask/SDPA set-up).
        # On numpy's BLAS (fp32 CPU, engine/lm/cpu_blas.py) sample_frame always takes two steps: its 2-row product
        # is slower than two one-row ones.
        depth_bytes = sum(p.numel() * p.element_size() for p in self.decoder.parameters())
        self.blas = cpu_blas.wanted(self.codebook0_head.weight)
        self.depth_two_row_start = depth_bytes > DEPTH_CACHE_BYTES
        if self.blas:  # numpy views of the per-frame weights outside the decoders
            self._c0_head_t = cpu_blas.weight_t(self.codebook0_head.weight)
            self._proj_t = cpu_blas.weight_t(self.projection.weight)
            self._heads_np = self.audio_head.detach().numpy()  # [K-1, Dd, V] (the loader picks the storage)

    # -- embeddings -----------------------------------------------------------------------------
    def embed_rows(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """tokens, mask: [B, S, K+1] (int64, bool) -> [B, S, dim]."""
        text = self.text_embeddings(tokens[..., -1])  # [B, S, D]
        audio = self.audio_embeddings(tokens[..., :-1] + self.audio_offsets)  # [B, S, K, D]
        both = torch.cat([audio, text.unsqueeze(2)], dim=2)  # [B, S, K+1, D]
        return (both * mask.unsqueeze(-1).to(both.dtype)).sum(dim=2)

    def embed_frame(self, codes: torch.Tensor) -> torch.Tensor:
        """codes: [B, K] -> [B, 1, dim] (an audio-only row)."""
        return self.audio_embeddings(codes + self.audio_offsets).sum(dim=1, keepdim=True)

    # -- backbone -------------------------------------------------------------------------------
    def prefill(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Run the prompt rows [B, S, K+1] from position 0; returns the last hidden state [B, dim]."""
        h = self.backbone(self.embed_rows(tokens, mask), 0)  # [B, S, D]
        self.position = tokens.shape[1]
        return h[:, -1]

    def advance(self, codes: torch.Tensor) -> torch.Tensor:
        """Feed one generated frame [B, K]; returns the new last hidden state [B, dim]."""
        h = self.backbone(self.embed_frame(codes), self.position)  # [B, 1, D]
        self.position += 1
        return h[:, -1]

    def backbone_logits(self, tokens: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher forcing from position 0: codebook-0 logits [B, S, V] and hidden states [B, S, D]."""
        h = self.backbone(self.embed_rows(tokens, mask), 0)
        self.position = tokens.shape[1]
        return self.codebook0_head(h), h

    def depth_logits(self, h_last: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: h_last [B, D], codes [B, K] -> logits of codebooks 1..K-1, [B, K-1, V]."""
        k = self.spec.n_codebooks
        emb = self.depth_embeddings(codes[:, : k - 1] + self.audio_offsets[: k - 1])  # [B, K-1, D]
        x = self.projection(torch.cat([h_last.unsqueeze(1), emb], dim=1))  # [B, K, Dd]
        out = self.decoder(x, 0)  # [B, K, Dd]
        return torch.einsum("bkd,kdv->bkv", out[:, 1:], self.audio_head)

    # -- one frame ------------------------------------------------------------------------------
    def sample_frame(self, h_last: torch.Tensor, settings: SamplerSettings,
                     generator: torch.Generator | None = None,
                     previous_c0: torch.Tensor | None = None, code_limit: int | None = None) -> torch.Tensor:
        """h_last: [B, D] -> codes [B, K] int64. Raises NonFiniteLogitsError on NaN/inf.

        code_limit: sample only ids below it (the codec's codebook size): the LM's vocabulary has a
        few special ids past the codec's 2048 codes that must never reach the decoder.
        """
        k, v = self.spec.n_codebooks, self.spec.audio_vocab
        lim = code_limit or v
        b, dev = h_last.shape[0], h_last.device
        threads = torch.get_num_threads()  # read once: the depth steps switch to 1 for tiny ops
        # codes [K, B]: row i is where codebook i's sample lands (contiguous, written by `out=`).
        codes = torch.empty(k, b, dtype=torch.long, device=dev)
        # Every codebook's logits land here (the heads write into it), checked once per frame.
        seen = torch.empty(k, b, v, dtype=h_last.dtype, device=dev)
        fast_topk = uses_topk_fast_path(settings, lim)
        noise = gumbel = None
        if fast_topk:
            noise = torch.empty(k, b, settings.top_k, device=dev).exponential_(1.0, generator=generator)
            # Exponential race as a Gumbel-max: argmax(p / E) = argmax(logit / T - log E), so a depth
            # draw is topk + add + argmax + gather (no softmax, no division).
            gumbel = noise.log().neg_()  # [K, B, k]
        elif settings.temperature > 0:
            noise = torch.empty(k, b, lim, device=dev).exponential_(1.0, generator=generator)
        blas = self.blas and b == 1 and not h_last.requires_grad
        seen_np = seen.numpy() if blas else None
        if blas:
            cpu_blas.match_threads(threads)
            cpu_blas.linear_into(h_last, self._c0_head_t, seen_np[0])
        else:
            torch.matmul(h_last, self.codebook0_head.weight.t(), out=seen[0])
        with one_thread(dev):
            codes[0] = sample(seen[0, :, :lim], settings, generator, previous_c0,
                              None if noise is None else noise[0])
        # Depth decoder: position 0 is the backbone state, position i+1 holds codebook i.
        emb_w, proj_w, heads = self.depth_embeddings.weight, self.projection.weight, self.audio_head
        c0 = F.embedding(codes[0], emb_w)  # [B, D]
        if blas:
            x = (cpu_blas.linear(h_last, self._proj_t), cpu_blas.linear(c0, self._proj_t))
        else:
            x = F.linear(torch.stack([h_last, c0]), proj_w)  # [2, B, Dd]
        if self.depth_two_row_start and not blas:  # see setup_caches; equal to the two steps within 3e-7
            out = self.decoder(x.transpose(0, 1), 0)[:, 1]  # [B, Dd]
        else:  # position 0 needs no logits; on the numpy step both rows share each weight read
            out = self.decoder.step_rows([x[0], x[1]], 0, threads)  # [B, Dd]
        inv_t = 1.0 / settings.temperature if settings.temperature > 0 else 0.0
        fan_in = threads > 1 and dev.type == "cpu"
        for i in range(1, k):
            if blas:
                cpu_blas.linear_into(out, self._heads_np[i - 1], seen_np[i])
            else:
                torch.matmul(out, heads[i - 1], out=seen[i])  # [B, V]
            logits = seen[i, :, :lim]
            if fan_in:
                torch.set_num_threads(1)
            if fast_topk:
                values, ids = torch.topk(logits, settings.top_k, dim=-1)  # [B, k]
                choice = torch.add(gumbel[i], values, alpha=inv_t).argmax(-1, keepdim=True)  # [B, 1]
                torch.gather(ids, -1, choice, out=codes[i].unsqueeze(-1))
            elif settings.temperature <= 0:
                torch.argmax(logits, -1, out=codes[i])
            else:
                codes[i] = sample(logits, settings, generator, None, noise[i])
            if fan_in:
                torch.set_num_threads(threads)
            if i == k - 1:
                break
            emb = F.embedding(codes[i], emb_w[i * v:(i + 1) * v])  # [B, D]: codebook i's rows
            out = self.decoder.step(cpu_blas.linear(emb, self._proj_t) if blas else F.linear(emb, proj_w),
                                    i + 1, threads)
        codes = codes.t().contiguous()  # [B, K]
        if not bool(torch.isfinite(seen).all()):
            raise NonFiniteLogitsError(
                "the model produced NaN/inf values (numeric overflow). Generation was stopped; "
                "try bf16 or fp32 instead of fp16, or re-download the weights if this persists")
        return codes


def expected_hf_keys(spec: CsmSpec) -> dict[str, tuple[int, ...]]:
    """Hugging Face keys (transformers' CsmForConditionalGeneration) with shapes, codec excluded."""
    k, v, d, dd = spec.n_codebooks, spec.audio_vocab, spec.backbone.dim, spec.depth.dim
    keys = {
        "embed_text_tokens.weight": (spec.text_vocab, d),
        "lm_head.weight": (v, d),
        "depth_decoder.model.inputs_embeds_projector.weight": (dd, d),
        "depth_decoder.codebooks_head.weight": (k - 1, dd, v),
    }
    keys.update(hf_decoder_keys(spec.backbone, "backbone_model."))
    keys.update(hf_decoder_keys(spec.depth, "depth_decoder.model."))
    return keys


AUDIO_EMB_KEYS = ("backbone_model.embed_tokens.embed_audio_tokens.weight", "depth_decoder.model.embed_tokens.weight")


def state_dict_from_hf(sd: dict[str, torch.Tensor], spec: CsmSpec,
                       release: Callable[[list[str]], None] | None = None,
                       in_out: bool = False) -> dict[str, torch.Tensor]:
    """Our parameter names from transformers' (q/k/v and gate/up fused on the way; in_out: fused in
    the CPU GEMV layout, see engine.lm.llama.fuse_rows)."""
    backbone_emb, depth_emb = sd.get(AUDIO_EMB_KEYS[0]), sd.get(AUDIO_EMB_KEYS[1])
    if spec.tie_embeddings:
        # save_pretrained writes a tied table once; either name may be the one kept.
        backbone_emb = depth_emb = depth_emb if depth_emb is not None else backbone_emb
    out = {
        "text_embeddings.weight": sd["embed_text_tokens.weight"],
        "audio_embeddings.weight": backbone_emb,
        "depth_embeddings.weight": depth_emb,
        "codebook0_head.weight": sd["lm_head.weight"],
        "projection.weight": sd["depth_decoder.model.inputs_embeds_projector.weight"],
        "audio_head": sd["depth_decoder.codebooks_head.weight"],
    }
    out.update({f"backbone.{k}": t for k, t in hf_decoder_state_dict(sd, "backbone_model.", release, in_out).items()})
    out.update({f"decoder.{k}": t for k, t in hf_decoder_state_dict(sd, "depth_decoder.model.", release, in_out).items()})
    return out
