"""One-position decoder step in numpy: the fp32 CPU, batch-1 hot path of `Transformer.step`.

The weight reads already go through numpy's BLAS (engine/lm/cpu_blas.py); between them a step
runs ~35 tiny ops per layer (norms, QK-norm, RoPE, the cache write, attention, SwiGLU). In torch
each of those costs 1.5-3 us of dispatch, in numpy about half. Attention over a long cache (the
talker reads hundreds of positions) runs as one-row products per query head through the same BLAS:
from 300 positions on that takes 0.69-0.77x the time of torch's batched matmul, which packs the
keys for a 2-row product (`python benchmarks/bench_attention.py`); below LONG_ATTENTION positions
(the depth decoder's 16) one batched matmul is faster. Together: a Qwen3-TTS 0.6B frame 5.6 ms
shorter at ~60 positions, its talker step 17 ms shorter at 1900.

Same arithmetic as the torch step but for summation order (ulp level; tests/engine/test_lm_cpu_blas.py
compares the two). Everything is bound once as numpy views of the model's own tensors, so in-place
weight edits (a LoRA merge) and cache writes are shared with the torch path.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# From this many cached positions on, attention runs as one-row products per query head (see above).
LONG_ATTENTION = 128
# Several rows over one weight: blocks of about this size, multiplied by every row while cached.
BLOCK_BYTES = 4 << 20


@dataclass(frozen=True)
class LayerViews:
    attention_norm: np.ndarray  # [dim]
    wqkv: np.ndarray  # [dim, (H + 2 Hkv) D]
    wo: np.ndarray  # [H D, dim]
    ffn_norm: np.ndarray  # [dim]
    w13: np.ndarray  # [dim, 2 F]
    w2: np.ndarray  # [F, dim]
    keys: np.ndarray  # the layer's key cache [Hkv, P, D] (batch 1)
    values: np.ndarray  # [Hkv, P, D]
    qk_norm: np.ndarray | None  # [H + Hkv, D] (Qwen3), else None


class NumpyStep:
    """step([x [1, dim], ...], pos) -> final-normed hiddens, all in numpy (fp32, batch 1): one row,
    or a few consecutive positions that share each weight read (`products`)."""

    def __init__(self, layers: list[LayerViews], final_norm: np.ndarray, rope_cos: np.ndarray,
                 rope_sin: np.ndarray, n_heads: int, n_kv_heads: int, head_dim: int, ffn_dim: int,
                 eps: float, sliding_window: int) -> None:
        self.layers = layers
        self.final_norm = final_norm
        self.cos, self.sin = rope_cos, rope_sin  # [P, D]; sin carries rotate-half's sign (rope.py)
        self.h, self.hkv, self.d, self.ffn = n_heads, n_kv_heads, head_dim, ffn_dim
        self.groups = n_heads // n_kv_heads
        self.scale = np.float32(head_dim ** -0.5)
        self.eps = np.float32(eps)
        self.window = sliding_window

    def _norm(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        """RMSNorm of one row x [1, n]."""
        ms = np.dot(x[0], x[0]) / np.float32(x.shape[1])
        return w * (x * (np.float32(1.0) / np.sqrt(ms + self.eps)))

    def _attend(self, q: np.ndarray, keys: np.ndarray, values: np.ndarray) -> np.ndarray:
        """q [Hkv, G, D], keys/values [Hkv, L, D] -> [1, H D]."""
        hkv, g, d = q.shape
        length = keys.shape[1]
        if length < LONG_ATTENTION:
            scores = np.matmul(q, keys.transpose(0, 2, 1))  # [Hkv, G, L]
        else:
            scores = np.empty((hkv, g, length), np.float32)
            for j in range(hkv):
                for i in range(g):
                    np.matmul(keys[j], q[j, i], out=scores[j, i])
        scores *= self.scale
        scores -= scores.max(-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(-1, keepdims=True)
        if length < LONG_ATTENTION:
            return np.matmul(scores, values).reshape(1, hkv * g * d)
        y = np.empty((hkv, g, d), np.float32)
        for j in range(hkv):
            for i in range(g):
                np.matmul(scores[j, i], values[j], out=y[j, i])
        return y.reshape(1, hkv * g * d)

    def __call__(self, xs: list[np.ndarray], pos: int) -> list[np.ndarray]:
        """Rows xs (each [1, dim]) at positions pos, pos+1, ... -> their final-normed hiddens."""
        with np.errstate(over="ignore"):  # exp(-gate) of a very negative gate: inf, SiLU -> -0
            return self._layers(xs, pos)

    def _attention_block(self, layer: LayerViews, qkv: np.ndarray, pos: int) -> np.ndarray:
        """One row's fused q|k|v [1, (H+2Hkv) D] at `pos`: QK-norm, RoPE, cache write, attention."""
        h, hkv, d = self.h, self.hkv, self.d
        half = d // 2
        qkv = qkv.reshape(h + 2 * hkv, d)
        qk = qkv[: h + hkv]
        if layer.qk_norm is not None:  # Qwen3: RMS-norm each q and k head before RoPE
            ms = np.einsum("ij,ij->i", qk, qk) / np.float32(d)
            qk = layer.qk_norm * (qk * (np.float32(1.0) / np.sqrt(ms + self.eps))[:, None])
        rotated = np.concatenate((qk[:, half:], qk[:, :half]), axis=1)  # roll by half
        qk = qk * self.cos[pos] + rotated * self.sin[pos]
        layer.keys[:, pos] = qk[h:]
        layer.values[:, pos] = qkv[h + hkv:]
        first = max(0, pos + 1 - self.window) if self.window else 0
        return self._attend(qk[:h].reshape(hkv, self.groups, d), layer.keys[:, first: pos + 1],
                            layer.values[:, first: pos + 1])

    def _layers(self, xs: list[np.ndarray], pos: int) -> list[np.ndarray]:
        ffn = self.ffn
        for layer in self.layers:
            qkvs = products([self._norm(x, layer.attention_norm) for x in xs], layer.wqkv)
            ys = [self._attention_block(layer, qkv, pos + i) for i, qkv in enumerate(qkvs)]
            xs = [x + y for x, y in zip(xs, products(ys, layer.wo))]
            gate_ups = products([self._norm(x, layer.ffn_norm) for x in xs], layer.w13)
            hs = [_swiglu(g[:, :ffn], g[:, ffn:]) for g in gate_ups]
            xs = [x + y for x, y in zip(xs, products(hs, layer.w2))]
        return [self._norm(x, self.final_norm) for x in xs]


def _swiglu(gate: np.ndarray, up: np.ndarray) -> np.ndarray:
    return gate / (np.float32(1.0) + np.exp(-gate)) * up  # SiLU(gate) * up


def products(xs: list[np.ndarray], w: np.ndarray) -> list[np.ndarray]:
    """[x @ w for x in xs], each x [1, in], w an [in, out] view.

    Several rows (a depth decoder's first two positions) share one read of the weight: OpenBLAS's
    2-row product packs the weight and streams at a third of a GEMV's rate, and two GEMVs read it
    twice. Over [out, in] storage the weight is cut into ~4 MB blocks of output rows, each block
    multiplied by every row while it is in the cache: the second row then costs 31-55% of a GEMV
    instead of 60-100% (`python benchmarks/bench_gemv.py --rows 2`). The same dot products; OpenBLAS
    may sum a block's in another order than the whole weight's (ulp level)."""
    if len(xs) == 1:
        return [xs[0] @ w]
    out = w.shape[1]
    ys = [np.empty((1, out), np.float32) for _ in xs]
    if not w.T.flags.c_contiguous:  # [in, out] storage: blocks of it would be strided
        for x, y in zip(xs, ys):
            np.matmul(x, w, out=y)
        return ys
    block = max(1, BLOCK_BYTES // (w.shape[0] * 4))
    for start in range(0, out, block):
        part = w[:, start: start + block]
        for x, y in zip(xs, ys):
            np.matmul(x, part, out=y[:, start: start + block])
    return ys
