"""Llama-family decoder (RMSNorm, RoPE, GQA, SwiGLU; Qwen3's per-head QK-norm) with a static KV cache.

Modelled on gpt-fast: fused projections, caches in buffers, small named steps. The decoder works
on embeddings, so models with their own embedding scheme (CSM's 33-column frames) reuse it as is;
`LlamaLM` adds the usual token embedding and output head.

Batch size is whatever `setup_caches` was given; positions are Python ints (no device sync).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.lm import cpu_blas
from engine.lm.config import LlamaConfig
from engine.lm.kv_cache import KVCache
from engine.lm.rope import apply_rope, rope_tables
from engine.lm.step_np import LayerViews, NumpyStep
from engine.lm.threads import one_thread


def _rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """RMSNorm.forward without the module call (fp32 fast path; other dtypes go via float32)."""
    if x.dtype != torch.float32:
        xf = x.float()
        return weight * (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype)
    # sum * (1/n) instead of mean: mean is a sum then a divide (the same sum order), and a CPU mean
    # costs twice a sum; equal for power-of-two widths (every Llama/CSM width), <= 1 ulp otherwise.
    return weight * (x * torch.rsqrt((x * x).sum(-1, keepdim=True).mul_(1.0 / x.shape[-1]).add_(eps)))


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # F.rms_norm is not fused on CPU (it decomposes into more ops than this). Low precision
        # normalises in float32 as the reference does: bf16 variance loses too much.
        xf = x if x.dtype == torch.float32 else x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * (xf if x.dtype == torch.float32 else xf.to(x.dtype))


def _head_norm(qk: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """RMSNorm over each head of qk [..., heads, D]; weight [heads, D] (see Attention.qk_weight)."""
    if qk.dtype != torch.float32:
        return _rms_norm(qk, weight, eps)
    return weight * (qk * torch.rsqrt((qk * qk).mean(-1, keepdim=True).add_(eps)))


class Attention(nn.Module):
    def __init__(self, cfg: LlamaConfig) -> None:
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
        self.eps = cfg.norm_eps
        if cfg.qk_norm:  # Qwen3: one weight for all query heads, one for all key heads
            self.q_norm = RMSNorm(cfg.head_dim, cfg.norm_eps)
            self.k_norm = RMSNorm(cfg.head_dim, cfg.norm_eps)
        self.groups = cfg.n_heads // cfg.n_kv_heads
        self.scale = cfg.head_dim ** -0.5
        q_dim, kv_dim = cfg.n_heads * cfg.head_dim, cfg.n_kv_heads * cfg.head_dim
        # One matmul for q, k and v: at batch 1 a step is weight-read bound, and one call instead of
        # three saves per-op overhead in the 31-step depth loop.
        self.wqkv = nn.Linear(cfg.dim, q_dim + 2 * kv_dim, bias=False)
        self.wo = nn.Linear(q_dim, cfg.dim, bias=False)
        self.kv_cache: KVCache | None = None

    def qk_weight(self) -> torch.Tensor | None:
        """[H+Hkv, D]: the q-norm weight for each query head, then the k-norm weight for each key
        head, so q and k are normalised in one op on the fused projection's output."""
        if not hasattr(self, "q_norm"):
            return None
        return torch.cat([self.q_norm.weight.expand(self.n_heads, -1),
                          self.k_norm.weight.expand(self.n_kv_heads, -1)])

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, start: int,
                mask: torch.Tensor | None) -> torch.Tensor:
        """x: [B, S, dim]; cos, sin: [S, 1, head_dim]; mask: [S, start+S] bool or None (S == 1)."""
        b, s, _ = x.shape
        h, hkv, d = self.n_heads, self.n_kv_heads, self.head_dim
        # Module calls (not F.linear on .weight): a LoRA wrapper (engine/train/lora.py) sits here.
        qkv = self.wqkv(x).view(b, s, h + 2 * hkv, d)  # [B, S, H+2Hkv, D]
        qk = qkv[:, :, : h + hkv]
        qk_w = self.qk_weight()
        if qk_w is not None:  # Qwen3: RMS-norm each q and k head before RoPE
            qk = _head_norm(qk, qk_w, self.eps)
        qk = apply_rope(qk, cos, sin)  # q and k rotated in one go
        q, k, v = qk[:, :, :h], qk[:, :, h:], qkv[:, :, h + hkv:]  # [B, S, heads, D]
        if mask is None and s > 1:  # training: whole sequences from position 0, no cache
            return self.wo(self._attend_causal(q, k, v).reshape(b, s, h * d))
        cache = self.kv_cache
        assert cache is not None, "call setup_caches() first"
        if s == 1:
            with one_thread(x.device):
                keys, values = cache.write_one(start, k[:, 0], v[:, 0])  # [B, Hkv, start+1, D]
                y = self._attend_one(q, keys, values)  # [B, H*D]
        else:
            keys, values = cache.update(start, k.transpose(1, 2), v.transpose(1, 2))
            y = F.scaled_dot_product_attention(q.transpose(1, 2), keys, values, attn_mask=mask,
                                               enable_gqa=h != hkv)  # [B, H, S, D]
            y = y.transpose(1, 2)
        return self.wo(y.reshape(b, s, h * d))

    def _attend_causal(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Training attention: q [B, S, H, D], k/v [B, S, Hkv, D] -> [B, S, H, D], causal.

        Plain matmul + softmax: for short sequences and small heads (the depth decoder: 32 positions
        per frame, hundreds of frames) CPU SDPA's flash kernel costs more than it saves, most of all
        in backward; long sequences (the backbone) go through SDPA."""
        b, s, h, d = q.shape
        if s > 64 or q.device.type != "cpu":
            return F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                                  is_causal=True, enable_gqa=h != self.n_kv_heads).transpose(1, 2)
        g = self.groups
        qg = q.reshape(b, s, self.n_kv_heads, g, d).permute(0, 2, 3, 1, 4).reshape(b, self.n_kv_heads, g * s, d)
        # scores + additive causal mask in one op (the mask is cached per length)
        scores = torch.baddbmm(self._causal_bias(s, g, q), qg.reshape(-1, g * s, d),
                               k.permute(0, 2, 3, 1).reshape(-1, d, s), alpha=self.scale)  # [B*Hkv, G*S, S]
        probs = (torch.softmax(scores, dim=-1) if scores.dtype == torch.float32
                 else torch.softmax(scores.float(), dim=-1).to(q.dtype))  # low precision: fp32 softmax
        y = torch.bmm(probs, v.transpose(1, 2).reshape(-1, s, d))  # [B*Hkv, G*S, D]
        return y.reshape(b, self.n_kv_heads, g, s, d).permute(0, 3, 1, 2, 4).reshape(b, s, h, d)

    def _causal_bias(self, s: int, g: int, like: torch.Tensor) -> torch.Tensor:
        bias = getattr(self, "_bias", None)
        if bias is None or bias.shape[-1] != s or bias.dtype != like.dtype or bias.device != like.device:
            allowed = torch.ones(s, s, dtype=torch.bool, device=like.device).tril_().repeat(g, 1)
            bias = torch.zeros(g * s, s, dtype=like.dtype, device=like.device).masked_fill_(~allowed, float("-inf"))
            self._bias = bias
        return bias

    def _attend_one(self, q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """One query position: q [B, 1, H, D], keys/values [B, Hkv, L, D] -> [B, H*D].

        Heads sharing a KV head are rows of one matmul, so K/V are never repeated; on CPU this is
        also much faster than SDPA's GQA path for tiny per-step work (no thread fan-out).
        """
        b = q.shape[0]
        qg = q.reshape(b, self.n_kv_heads, self.groups, self.head_dim)  # [B, Hkv, G, D]
        scores = torch.matmul(qg, keys.transpose(-1, -2)) * self.scale  # [B, Hkv, G, L]
        if scores.dtype != torch.float32:
            probs = torch.softmax(scores.float(), dim=-1).to(q.dtype)
        else:
            probs = torch.softmax(scores, dim=-1)
        return torch.matmul(probs, values).reshape(b, -1)  # [B, H*D]


class FeedForward(nn.Module):
    def __init__(self, cfg: LlamaConfig) -> None:
        super().__init__()
        self.ffn_dim = cfg.ffn_dim
        self.w13 = nn.Linear(cfg.dim, 2 * cfg.ffn_dim, bias=False)  # gate and up, fused
        self.w2 = nn.Linear(cfg.ffn_dim, cfg.dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = self.w13(x).split(self.ffn_dim, dim=-1)
        return self.w2(F.silu(gate) * up)


class Block(nn.Module):
    def __init__(self, cfg: LlamaConfig) -> None:
        super().__init__()
        self.attention_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.attention = Attention(cfg)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.feed_forward = FeedForward(cfg)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, start: int,
                mask: torch.Tensor | None) -> torch.Tensor:
        # `.forward` directly: these inner modules never carry hooks, and skipping nn.Module's call
        # machinery matters in the 31-step depth loop (overhead-bound at small sizes).
        h = x + self.attention.forward(self.attention_norm.forward(x), cos, sin, start, mask)
        return h + self.feed_forward.forward(self.ffn_norm.forward(h))


class Transformer(nn.Module):
    """Decoder stack over embeddings; returns final-normed hidden states."""

    def __init__(self, cfg: LlamaConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.max_positions = 0
        self.adapters_unmerged = False  # set by engine/train/lora.py: `step` would not see them
        self._train_rope: tuple[torch.Tensor, torch.Tensor] | None = None

    def setup_caches(self, batch: int, max_positions: int | None = None) -> None:
        """Allocate KV caches and RoPE tables on the weights' device and dtype."""
        cfg = self.cfg
        max_positions = max_positions or cfg.max_positions
        w = self.norm.weight
        for layer in self.layers:
            layer.attention.kv_cache = KVCache(batch, cfg.n_kv_heads, max_positions, cfg.head_dim,
                                               w.dtype, w.device)
        cos, sin = rope_tables(cfg.rope, cfg.head_dim, max_positions)  # [P, D]
        # [P, 1, D]: broadcasts over heads. Cast to the compute dtype, as the reference does.
        self.register_buffer("rope_cos", cos.unsqueeze(1).to(w.device, w.dtype), persistent=False)
        self.register_buffer("rope_sin", sin.unsqueeze(1).to(w.device, w.dtype), persistent=False)
        positions = torch.arange(max_positions, device=w.device)
        causal = positions[None, :] <= positions[:, None]
        if cfg.sliding_window:
            causal &= positions[None, :] > positions[:, None] - cfg.sliding_window
        self.register_buffer("causal", causal, persistent=False)
        # Per-position views for one-token steps: indexing a Python list costs no tensor op.
        self._rope_rows = [(self.rope_cos[i:i + 1], self.rope_sin[i:i + 1]) for i in range(max_positions)]
        self.max_positions = max_positions
        self._plan_steps(batch)

    # -- one-position steps (the hot path) ------------------------------------------------------
    def _plan_steps(self, batch: int) -> None:
        """Bind what a one-position step touches to plain Python tuples, once.

        A depth-decoder step at small sizes is overhead-bound: nn.Module attribute look-ups, tensor
        slicing and context managers cost as much as the kernels. The weights are bound as the
        Parameter objects themselves (in-place edits stay visible); call `setup_caches` again after
        replacing any weight (the loaders do so after `load_state_dict`).
        """
        cfg = self.cfg
        w = self.norm.weight
        self._step_layers = []
        for layer in self.layers:
            att, ff = layer.attention, layer.feed_forward
            # wo, w2 as [in, out] views for addmm (views: in-place weight edits stay visible)
            self._step_layers.append((layer.attention_norm.weight, att.wqkv.weight, att.wo.weight.t(),
                                      layer.ffn_norm.weight, ff.w13.weight, ff.w2.weight.t(), att.kv_cache,
                                      att.qk_weight()))
        # fp32 CPU at batch 1: the whole step in numpy, its weight reads through numpy's BLAS
        # (engine/lm/step_np.py, engine/lm/cpu_blas.py); the torch step stays for autograd.
        self._step_np = self._plan_numpy_step() if batch == 1 and cpu_blas.wanted(w) else None
        self._step_eps = torch.full((), cfg.norm_eps, dtype=w.dtype, device=w.device)
        # Per-position cache views ([B*Hkv, L, D] prefixes, keys pre-transposed) for short caches
        # (the depth decoder's 33 slots); long caches build them per step (cheap next to the layer).
        self._step_views = None
        if max(1, self.max_positions) * cfg.n_layers <= 1024:
            self._step_views = [[self._cache_views(layer[6], batch, pos) for pos in range(self.max_positions)]
                                for layer in self._step_layers]

    def _plan_numpy_step(self) -> NumpyStep:
        cfg = self.cfg

        def np_(t: torch.Tensor) -> np.ndarray:
            return t.detach().numpy()

        layers = [LayerViews(np_(an), cpu_blas.weight_t(wqkv), np_(wo), np_(fn), cpu_blas.weight_t(w13),
                             np_(w2), np_(cache.k)[0], np_(cache.v)[0], None if qk_w is None else np_(qk_w))
                  for an, wqkv, wo, fn, w13, w2, cache, qk_w in self._step_layers]
        return NumpyStep(layers, np_(self.norm.weight), np_(self.rope_cos)[:, 0], np_(self.rope_sin)[:, 0],
                         cfg.n_heads, cfg.n_kv_heads, cfg.head_dim, cfg.ffn_dim, cfg.norm_eps, cfg.sliding_window)

    def _cache_views(self, cache: KVCache, batch: int, pos: int) -> tuple[torch.Tensor, ...]:
        """(k slot [B, Hkv, D], v slot, keys^T [B*Hkv, D, pos+1], values [B*Hkv, pos+1, D], zero scores)."""
        cfg = self.cfg
        k = cache.k.view(batch * cfg.n_kv_heads, -1, cfg.head_dim)
        v = cache.v.view(batch * cfg.n_kv_heads, -1, cfg.head_dim)
        groups = cfg.n_heads // cfg.n_kv_heads
        first = max(0, pos + 1 - cfg.sliding_window) if cfg.sliding_window else 0
        # baddbmm(beta=0) ignores its input's values but wants its shape: a broadcast zero, no memory.
        zero = cache.k.new_zeros(()).expand(batch * cfg.n_kv_heads, groups, pos + 1 - first)
        return (cache.k[:, :, pos], cache.v[:, :, pos], k[:, first: pos + 1].transpose(1, 2), v[:, first: pos + 1],
                zero)

    def step(self, x: torch.Tensor, pos: int, threads: int = 1) -> torch.Tensor:
        """One position: x [B, dim] embeddings at `pos` -> final-normed hidden [B, dim].

        threads: the caller's torch thread count (torch.get_num_threads(), read once per frame).
        fp32 on the CPU at batch 1 (no autograd), the step runs in numpy (engine/lm/step_np.py) and
        numpy's BLAS gets `threads` threads. Otherwise, above 1 on the CPU, the tiny ops (norms,
        RoPE, attention over the cache) run on one thread per attention block (engine/lm/threads.py).
        Same arithmetic as `forward` but for summation order (parity tests: logits <= 1e-4 of
        transformers, greedy frames identical), with about half the ops.
        """
        if pos >= self.max_positions:
            raise ValueError(f"position {pos} is past the cache size {self.max_positions}")
        if self.adapters_unmerged:
            raise RuntimeError("a LoRA adapter is attached but not merged: merge it before generating")
        if self._step_np is not None and not x.requires_grad:
            cpu_blas.match_threads(threads)
            return torch.from_numpy(self._step_np([x.detach().numpy()], pos)[0])
        return self._step_layers_run(x, pos, threads, threads > 1 and x.device.type == "cpu")

    def step_rows(self, xs: list[torch.Tensor], pos: int, threads: int = 1) -> torch.Tensor:
        """Consecutive positions pos, pos+1, ... one row each ([B, dim]) -> the last one's hidden.

        On the numpy step the rows share each weight read (a depth decoder's first two positions:
        `step_np.products`); elsewhere they are plain `step` calls."""
        if self._step_np is None or any(x.requires_grad for x in xs) or pos + len(xs) > self.max_positions:
            for i, x in enumerate(xs):
                out = self.step(x, pos + i, threads)
            return out
        if self.adapters_unmerged:
            raise RuntimeError("a LoRA adapter is attached but not merged: merge it before generating")
        cpu_blas.match_threads(threads)
        return torch.from_numpy(self._step_np([x.detach().numpy() for x in xs], pos)[-1])

    def _step_layers_run(self, x: torch.Tensor, pos: int, threads: int, fan_in: bool) -> torch.Tensor:
        cfg = self.cfg
        b = x.shape[0]
        h, hkv, d, eps = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim, cfg.norm_eps
        ffn = cfg.ffn_dim
        groups, scale = h // hkv, d ** -0.5
        cos, sin = self._rope_rows[pos]  # [1, 1, D]
        views = self._step_views
        eps_t, inv_dim = self._step_eps, 1.0 / cfg.dim
        fp32 = x.dtype == torch.float32

        def norm(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
            if not fp32:
                return _rms_norm(x, w, eps)
            # eps + sum/n in one op (alpha = 1/n is exact for power-of-two widths, see _rms_norm)
            return w * (x * torch.rsqrt(torch.add(eps_t, (x * x).sum(-1, keepdim=True), alpha=inv_dim)))

        for li, (an, wqkv, wo, fn, w13, w2, cache, qk_w) in enumerate(self._step_layers):
            kslot, vslot, keys_t, values, zero = (views[li][pos] if views is not None
                                                  else self._cache_views(cache, b, pos))
            qkv = F.linear(norm(x, an), wqkv).view(b, h + 2 * hkv, d)  # [B, H+2Hkv, D]
            qk = qkv[:, : h + hkv]
            if qk_w is not None:
                qk = _head_norm(qk, qk_w, eps)
            qk = qk * cos + torch.roll(qk, d // 2, dims=-1) * sin  # RoPE on q and k (see rope.py)
            if fan_in:
                torch.set_num_threads(1)
            kslot.copy_(qk[:, h:])
            vslot.copy_(qkv[:, h + hkv:])
            qg = qk[:, :h].reshape(b * hkv, groups, d)  # heads sharing a KV head: rows of one matmul
            scores = torch.baddbmm(zero, qg, keys_t, beta=0.0, alpha=scale)  # [B*Hkv, G, L]
            probs = (torch.softmax(scores, dim=-1) if fp32
                     else torch.softmax(scores.float(), dim=-1).to(x.dtype))  # low precision: fp32 softmax
            y = torch.bmm(probs, values).reshape(b, h * d)  # [B, H*D]
            if fan_in:
                torch.set_num_threads(threads)
            x = torch.addmm(x, y, wo)  # residual add fused into the output projection
            gate, up = F.linear(norm(x, fn), w13).view(b, 2, ffn).unbind(1)
            x = torch.addmm(x, F.silu(gate) * up, w2)
        return norm(x, self.norm.weight)

    def forward_train(self, x: torch.Tensor) -> torch.Tensor:
        """Whole sequences from position 0 without the KV cache (autograd-friendly; training and
        teacher-forced losses). x: [B, S, dim] -> [B, S, dim]. Right padding is harmless: a causal
        decoder never lets a real position see a later (padded) one."""
        s = x.shape[1]
        if self._train_rope is None or self._train_rope[0].shape[0] < s or \
                self._train_rope[0].dtype != x.dtype or self._train_rope[0].device != x.device:
            cos, sin = rope_tables(self.cfg.rope, self.cfg.head_dim, max(s, self.cfg.max_positions))
            self._train_rope = (cos.unsqueeze(1).to(x.device, x.dtype), sin.unsqueeze(1).to(x.device, x.dtype))
        cos, sin = self._train_rope[0][:s], self._train_rope[1][:s]
        if s == 1:  # SDPA's causal path wants S > 1; one position attends only to itself
            x = torch.cat([x, x], dim=1)
            cos, sin = self._train_rope[0][:2], self._train_rope[1][:2]
            return self.forward_train_full(x, cos, sin)[:, :1]
        return self.forward_train_full(x, cos, sin)

    def forward_train_full(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer.forward(x, cos, sin, 0, None)
        return self.norm.forward(x)

    def forward(self, x: torch.Tensor, start: int) -> torch.Tensor:
        """x: [B, S, dim] embeddings for positions start..start+S-1 -> [B, S, dim]."""
        s = x.shape[1]
        end = start + s
        if end > self.max_positions:
            raise ValueError(f"position {end - 1} is past the cache size {self.max_positions}")
        if s == 1:
            return self.step(x[:, 0], start, torch.get_num_threads()).unsqueeze(1)
        else:
            cos, sin = self.rope_cos[start:end], self.rope_sin[start:end]  # [S, 1, head_dim]
            mask = self.causal[start:end, :end]  # [S, end]
        for layer in self.layers:
            x = layer.forward(x, cos, sin, start, mask)
        return self.norm.forward(x)


def fuse_rows(parts: list[torch.Tensor], in_out: bool) -> torch.Tensor:
    """Stack [out_i, in] weights into one [sum(out_i), in] weight for F.linear.

    in_out: store it as an [in, out] tensor and return its transposed view. F.linear then runs
    MKL's GEMV over rows of `out` floats instead of rows of `in`: for the wide fused projections
    (gate|up is 16384 x 1024 in the depth decoder) that streams the weights ~1.3-1.4x faster on this
    CPU (benchmarks/bench_gemv.py), and a batch-1 CPU step is bound by that stream. The
    values are the same; only the summation order of each dot product changes (<= 1 ulp-level)."""
    if not in_out:
        return torch.cat(parts)
    # Fuse, then one transposing copy: ~1.5x faster than concatenating transposed views.
    return torch.cat(parts).t().contiguous().t()


def hf_decoder_state_dict(sd: dict[str, torch.Tensor], prefix: str,
                          release: Callable[[list[str]], None] | None = None,
                          in_out: bool = False) -> dict[str, torch.Tensor]:
    """Map Hugging Face Llama decoder keys under `prefix` (e.g. "model.") to ours, fusing q/k/v
    and gate/up. Keys not under `prefix.layers`/`prefix.norm` are ignored.

    release: called with the source keys of each fused tensor once copied (lets a memory-mapped
    checkpoint drop those pages layer by layer, so loading never holds both copies).
    in_out: lay the fused (wider than tall) projections out for CPU GEMV, see `fuse_rows`."""
    out: dict[str, torch.Tensor] = {}
    i = 0
    while f"{prefix}layers.{i}.input_layernorm.weight" in sd:
        p, q = f"{prefix}layers.{i}.", f"layers.{i}."
        out[q + "attention_norm.weight"] = sd[p + "input_layernorm.weight"]
        out[q + "ffn_norm.weight"] = sd[p + "post_attention_layernorm.weight"]
        out[q + "attention.wqkv.weight"] = fuse_rows(
            [sd[p + "self_attn.q_proj.weight"], sd[p + "self_attn.k_proj.weight"],
             sd[p + "self_attn.v_proj.weight"]], in_out)
        out[q + "attention.wo.weight"] = sd[p + "self_attn.o_proj.weight"]
        if p + "self_attn.q_norm.weight" in sd:
            out[q + "attention.q_norm.weight"] = sd[p + "self_attn.q_norm.weight"]
            out[q + "attention.k_norm.weight"] = sd[p + "self_attn.k_norm.weight"]
        out[q + "feed_forward.w13.weight"] = fuse_rows(
            [sd[p + "mlp.gate_proj.weight"], sd[p + "mlp.up_proj.weight"]], in_out)
        out[q + "feed_forward.w2.weight"] = sd[p + "mlp.down_proj.weight"]
        if release is not None:
            release([p + n for n in ("self_attn.q_proj.weight", "self_attn.k_proj.weight",
                                     "self_attn.v_proj.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight")])
        i += 1
    out["norm.weight"] = sd[f"{prefix}norm.weight"]
    return out


def hf_decoder_keys(cfg: LlamaConfig, prefix: str) -> dict[str, tuple[int, ...]]:
    """Every Hugging Face key a decoder of this config needs, with its expected shape."""
    q_dim, kv_dim = cfg.n_heads * cfg.head_dim, cfg.n_kv_heads * cfg.head_dim
    keys: dict[str, tuple[int, ...]] = {f"{prefix}norm.weight": (cfg.dim,)}
    for i in range(cfg.n_layers):
        p = f"{prefix}layers.{i}."
        keys.update({
            p + "input_layernorm.weight": (cfg.dim,), p + "post_attention_layernorm.weight": (cfg.dim,),
            p + "self_attn.q_proj.weight": (q_dim, cfg.dim), p + "self_attn.k_proj.weight": (kv_dim, cfg.dim),
            p + "self_attn.v_proj.weight": (kv_dim, cfg.dim), p + "self_attn.o_proj.weight": (cfg.dim, q_dim),
            p + "mlp.gate_proj.weight": (cfg.ffn_dim, cfg.dim), p + "mlp.up_proj.weight": (cfg.ffn_dim, cfg.dim),
            p + "mlp.down_proj.weight": (cfg.dim, cfg.ffn_dim),
        })
        if cfg.qk_norm:
            keys.update({p + "self_attn.q_norm.weight": (cfg.head_dim,),
                         p + "self_attn.k_norm.weight": (cfg.head_dim,)})
    return keys
