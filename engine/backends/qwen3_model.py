"""The Qwen3-TTS token LM: a Qwen3 talker over 16-codebook frames and a depth-decoder code predictor.

Every talker position is one embedding: a codec id's embedding (control ids for the prompt; for an
audio frame the sum of its 16 codes' embeddings: codebook 0 from the talker's table, codebooks
1..15 from the code predictor's 15 tables) plus, where text is being read, a text token's
embedding through the text projection (a 2-layer MLP from the Qwen2 text embedding).

Per 80 ms frame: the talker's final hidden state predicts codebook 0 (`codec_head`); the code
predictor then runs over [talker hidden, c0, c1, ...] (its own 16-slot KV cache, restarted each
frame; a projection first when the talker is wider, as in the 1.7B models) and predicts codebooks
1..15, one head each. This is CSM's shape (engine/backends/csm_model.py), on the same decoder.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from engine.backends.csm_model import DEPTH_CACHE_BYTES, NonFiniteLogitsError
from engine.backends.qwen3_config import Qwen3Spec
from engine.lm import cpu_blas
from engine.lm.llama import Transformer, hf_decoder_keys, hf_decoder_state_dict
from engine.lm.sampling import SamplerSettings, apply_repetition_penalty, sample, uses_topk_fast_path
from engine.lm.threads import one_thread

TALKER, PREDICTOR = "talker.model.", "talker.code_predictor.model."


class Qwen3TTSModel(nn.Module):
    def __init__(self, spec: Qwen3Spec) -> None:
        super().__init__()
        self.spec = spec
        k, d, dd, v = spec.n_codebooks, spec.talker.dim, spec.predictor.dim, spec.code_vocab
        self.text_embeddings = nn.Embedding(spec.text_vocab, spec.text_dim)
        self.text_fc1 = nn.Linear(spec.text_dim, spec.text_dim, bias=True)
        self.text_fc2 = nn.Linear(spec.text_dim, d, bias=True)
        self.codec_embeddings = nn.Embedding(spec.codec_vocab, d)  # codebook 0 and control ids
        self.code_embeddings = nn.Embedding((k - 1) * v, d)  # codebook i (1..15) at offset (i-1)*V
        self.talker = Transformer(spec.talker)
        self.codec_head = nn.Linear(d, spec.codec_vocab, bias=False)
        self.projection = nn.Linear(d, dd, bias=True) if d != dd else None
        self.predictor = Transformer(spec.predictor)
        self.code_heads = nn.Parameter(torch.empty(k - 1, dd, v))  # head i predicts codebook i+1
        self.position = 0  # next talker position

    # -- set-up ---------------------------------------------------------------------------------
    def setup_caches(self, max_positions: int | None = None) -> None:
        self.talker.setup_caches(1, max_positions)
        self.predictor.setup_caches(1, self.spec.n_codebooks)
        offsets = torch.arange(self.spec.n_codebooks - 1, device=self.codec_head.weight.device)
        self.register_buffer("code_offsets", offsets * self.spec.code_vocab, persistent=False)
        self.position = 0
        # Predictor positions 0 and 1 as one 2-row pass when its weights are far beyond the last-level
        # cache (one read of them instead of two), as two steps when they fit (see CsmModel), or
        # when numpy's BLAS does the one-row products (its 2-row product is slower than two of them).
        nbytes = sum(p.numel() * p.element_size() for p in self.predictor.parameters())
        self.blas = cpu_blas.wanted(self.codec_head.weight)
        self.predictor_two_row_start = nbytes > DEPTH_CACHE_BYTES
        if self.blas:  # numpy views of the per-frame weights outside the decoders
            self._codec_head_t = cpu_blas.weight_t(self.codec_head.weight)
            self._heads_np = self.code_heads.detach().numpy()  # [K-1, Dd, V] views, [out, in] storage
            self._proj_np = None if self.projection is None else (
                cpu_blas.weight_t(self.projection.weight), self.projection.bias.detach().numpy())

    # -- embeddings -----------------------------------------------------------------------------
    def text_embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Text ids [B, S] -> [B, S, dim] (embedding, then the projection MLP)."""
        x = self.text_fc1(self.text_embeddings(ids))
        return self.text_fc2(F.silu(x))

    def codec_embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Talker-vocabulary ids (codebook 0 or control ids) [B, S] -> [B, S, dim]."""
        return self.codec_embeddings(ids)

    def frame_embed(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [B, S, K] -> [B, S, dim]: the sum of the K codes' embeddings."""
        c0 = self.codec_embeddings(codes[..., :1])  # [B, S, 1, D]
        rest = self.code_embeddings(codes[..., 1:] + self.code_offsets)  # [B, S, K-1, D]
        return torch.cat([c0, rest], dim=-2).sum(dim=-2)

    # -- talker ---------------------------------------------------------------------------------
    def prefill(self, embeds: torch.Tensor) -> torch.Tensor:
        """Prompt embeddings [B, S, dim] from position 0 -> last hidden state [B, dim]."""
        h = self.talker(embeds, 0)
        self.position = embeds.shape[1]
        return h[:, -1]

    def advance(self, embed: torch.Tensor) -> torch.Tensor:
        """One position's embedding [B, dim] -> its hidden state [B, dim]."""
        h = self.talker.step(embed, self.position, torch.get_num_threads())
        self.position += 1
        return h

    def talker_logits(self, embeds: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher forcing from position 0: codebook-0 logits [B, S, V] and hidden states [B, S, D]."""
        h = self.talker(embeds, 0)
        self.position = embeds.shape[1]
        return self.codec_head(h), h

    def _project(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.projection is None else self.projection(x)

    def _project_row(self, x: torch.Tensor, blas: bool) -> torch.Tensor:
        """_project for one position [B, D] of the frame loop."""
        if self.projection is None:
            return x
        return cpu_blas.linear(x, self._proj_np[0], bias=self._proj_np[1]) if blas else self.projection(x)

    def predictor_logits(self, h_last: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: h_last [B, D], codes [B, K] -> logits of codebooks 1..K-1, [B, K-1, V]."""
        k = self.spec.n_codebooks
        c0 = self.codec_embeddings(codes[:, :1])  # [B, 1, D]
        rest = self.code_embeddings(codes[:, 1: k - 1] + self.code_offsets[: k - 2])  # [B, K-2, D]
        x = self._project(torch.cat([h_last.unsqueeze(1), c0, rest], dim=1))  # [B, K, Dd]
        out = self.predictor(x, 0)
        return torch.einsum("bkd,kdv->bkv", out[:, 1:], self.code_heads)

    # -- one frame ------------------------------------------------------------------------------
    def sample_frame(self, h_last: torch.Tensor, c0_settings: SamplerSettings, settings: SamplerSettings,
                     generator: torch.Generator | None, previous_c0: torch.Tensor | None,
                     allow_eos: bool) -> torch.Tensor:
        """h_last [B, D] -> codes [B, K] int64 (codes[:, 0] may be end-of-speech; the rest is then
        meaningless). Raises NonFiniteLogitsError on NaN/inf.

        Codebook 0 as the reference samples it: repetition penalty over every earlier codebook-0
        id, control ids suppressed, end-of-speech suppressed while `allow_eos` is false."""
        spec = self.spec
        k, v = spec.n_codebooks, spec.code_vocab
        b, dev = h_last.shape[0], h_last.device
        threads = torch.get_num_threads()  # read once: the predictor steps switch to 1 for tiny ops
        fan_in = threads > 1 and dev.type == "cpu"
        codes = torch.empty(k, b, dtype=torch.long, device=dev)  # row i: codebook i (written by `out=`)
        blas = self.blas and b == 1 and not h_last.requires_grad
        if blas:
            cpu_blas.match_threads(threads)
            logits0 = cpu_blas.linear(h_last, self._codec_head_t)  # [B, V0]
        else:
            logits0 = F.linear(h_last, self.codec_head.weight).float()  # [B, V0]
        finite0 = torch.isfinite(logits0).all()
        if previous_c0 is not None and previous_c0.numel():
            logits0 = apply_repetition_penalty(logits0, previous_c0, c0_settings.repetition_penalty)
        logits0 = logits0 + self._c0_mask(dev, allow_eos)  # control ids (and early end) at -inf
        with one_thread(dev):
            codes[0] = sample(logits0, SamplerSettings(c0_settings.temperature, c0_settings.top_k,
                                                       c0_settings.top_p), generator)
        seen = torch.empty(k - 1, b, v, dtype=h_last.dtype, device=dev)  # every head writes here
        fast_topk = uses_topk_fast_path(settings, v)
        noise = gumbel = None
        if fast_topk:  # a whole frame's draws at once, as a Gumbel-max race (see CsmModel.sample_frame)
            gumbel = torch.empty(k - 1, b, settings.top_k, device=dev).exponential_(
                1.0, generator=generator).log_().neg_()
        elif settings.temperature > 0:
            noise = torch.empty(k - 1, b, v, device=dev).exponential_(1.0, generator=generator)
        inv_t = 1.0 / settings.temperature if settings.temperature > 0 else 0.0
        emb_w, heads = self.code_embeddings.weight, self.code_heads
        heads_np, seen_np = (self._heads_np, seen.numpy()) if blas else (None, None)
        c0 = F.embedding(codes[0], self.codec_embeddings.weight)
        if blas:
            x0 = (self._project_row(h_last, True), self._project_row(c0, True))
        else:
            x0 = self._project(torch.stack([h_last, c0]))
        if self.predictor_two_row_start and not blas:
            out = self.predictor(x0.transpose(0, 1), 0)[:, 1]  # [B, Dd]
        else:  # on the numpy step both rows share each weight read (step_np.products)
            out = self.predictor.step_rows([x0[0], x0[1]], 0, threads)
        for i in range(1, k):
            if blas:
                cpu_blas.linear_into(out, heads_np[i - 1], seen_np[i - 1])
            else:
                torch.matmul(out, heads[i - 1], out=seen[i - 1])  # [B, V]
            logits = seen[i - 1]
            if fan_in:
                torch.set_num_threads(1)
            if fast_topk:
                values, ids = torch.topk(logits, settings.top_k, dim=-1)  # [B, k]
                choice = torch.add(gumbel[i - 1], values, alpha=inv_t).argmax(-1, keepdim=True)
                torch.gather(ids, -1, choice, out=codes[i].unsqueeze(-1))
            elif settings.temperature <= 0:
                torch.argmax(logits, -1, out=codes[i])
            else:
                codes[i] = sample(logits, settings, generator, None, noise[i - 1])
            if fan_in:
                torch.set_num_threads(threads)
            if i == k - 1:
                break
            emb = F.embedding(codes[i], emb_w[(i - 1) * v: i * v])  # codebook i's table
            out = self.predictor.step(self._project_row(emb, blas), i + 1, threads)
        if not bool(finite0) or not bool(torch.isfinite(seen).all()):
            raise NonFiniteLogitsError(
                "the model produced NaN/inf values (numeric overflow). Generation was stopped; "
                "try bf16 or fp32 instead of fp16, or re-download the weights if this persists")
        return codes.t().contiguous()

    def _c0_mask(self, dev: torch.device, allow_eos: bool) -> torch.Tensor:
        """[V0] float32: 0 where codebook 0 may land, -inf on control ids (and on end-of-speech
        while it is not allowed yet); built once per device."""
        masks = getattr(self, "_c0_masks", None)
        if masks is None or masks[0].device != dev:
            m = torch.zeros(self.spec.codec_vocab, device=dev)
            m[self.spec.suppressed] = float("-inf")
            early = m.clone()
            early[self.spec.codec_eos] = float("-inf")
            masks = self._c0_masks = (early, m)
        return masks[int(allow_eos)]


def expected_hf_keys(spec: Qwen3Spec) -> dict[str, tuple[int, ...]]:
    """The qwen-tts checkpoint keys the LM needs, with shapes (speaker encoder excluded)."""
    k, d, dd, v = spec.n_codebooks, spec.talker.dim, spec.predictor.dim, spec.code_vocab
    keys: dict[str, tuple[int, ...]] = {
        TALKER + "text_embedding.weight": (spec.text_vocab, spec.text_dim),
        TALKER + "codec_embedding.weight": (spec.codec_vocab, d),
        "talker.text_projection.linear_fc1.weight": (spec.text_dim, spec.text_dim),
        "talker.text_projection.linear_fc1.bias": (spec.text_dim,),
        "talker.text_projection.linear_fc2.weight": (d, spec.text_dim),
        "talker.text_projection.linear_fc2.bias": (d,),
        "talker.codec_head.weight": (spec.codec_vocab, d),
    }
    for i in range(k - 1):
        keys[f"{PREDICTOR}codec_embedding.{i}.weight"] = (v, d)
        keys[f"talker.code_predictor.lm_head.{i}.weight"] = (v, dd)
    if d != dd:
        keys["talker.code_predictor.small_to_mtp_projection.weight"] = (dd, d)
        keys["talker.code_predictor.small_to_mtp_projection.bias"] = (dd,)
    keys.update(hf_decoder_keys(spec.talker, TALKER))
    keys.update(hf_decoder_keys(spec.predictor, PREDICTOR))
    return keys


def state_dict_from_hf(sd: dict[str, torch.Tensor], spec: Qwen3Spec,
                       release: Callable[[list[str]], None] | None = None,
                       in_out: bool = False) -> dict[str, torch.Tensor]:
    """Our parameter names from the qwen-tts checkpoint's (q/k/v and gate/up fused on the way)."""
    k = spec.n_codebooks
    out = {
        "text_embeddings.weight": sd[TALKER + "text_embedding.weight"],
        "text_fc1.weight": sd["talker.text_projection.linear_fc1.weight"],
        "text_fc1.bias": sd["talker.text_projection.linear_fc1.bias"],
        "text_fc2.weight": sd["talker.text_projection.linear_fc2.weight"],
        "text_fc2.bias": sd["talker.text_projection.linear_fc2.bias"],
        "codec_embeddings.weight": sd[TALKER + "codec_embedding.weight"],
        "codec_head.weight": sd["talker.codec_head.weight"],
        "code_embeddings.weight": torch.cat([sd[f"{PREDICTOR}codec_embedding.{i}.weight"] for i in range(k - 1)]),
    }
    heads = [sd[f"talker.code_predictor.lm_head.{i}.weight"] for i in range(k - 1)]  # [V, Dd] each
    # Our [K-1, Dd, V] parameter: stored [in, out] for torch's CPU matmul, else as the file's [out, in].
    out["code_heads"] = (torch.stack([h.t() for h in heads]).contiguous() if in_out
                         else torch.stack(heads).transpose(1, 2))
    if spec.talker.dim != spec.predictor.dim:
        out["projection.weight"] = sd["talker.code_predictor.small_to_mtp_projection.weight"]
        out["projection.bias"] = sd["talker.code_predictor.small_to_mtp_projection.bias"]
    out.update({f"talker.{n}": t for n, t in hf_decoder_state_dict(sd, TALKER, release, in_out).items()})
    out.update({f"predictor.{n}": t for n, t in hf_decoder_state_dict(sd, PREDICTOR, release, in_out).items()})
    return out
