"""One-position attention over a KV cache, per layer: torch's batched matmul (the torch step) vs
engine/lm/step_np.py (the fp32 CPU step: one batched matmul below LONG_ATTENTION cached positions,
one-row products per query head from there on). Qwen3-TTS talker shape (16 query heads, 8 KV heads,
head size 128), 28 layers' caches cycled so each read comes from memory as in a real step.

    python benchmarks/bench_attention.py            # 1 torch thread, as inside a frame
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LENGTHS = (16, 60, 150, 300, 600, 1000, 1900)
LAYERS, HEADS, KV_HEADS, HEAD_DIM, CACHE = 28, 16, 8, 128, 2048


def main() -> None:
    import numpy as np
    import torch

    from engine.lm.step_np import LONG_ATTENTION, NumpyStep

    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    caches = [(torch.randn(KV_HEADS, CACHE, HEAD_DIM, generator=g), torch.randn(KV_HEADS, CACHE, HEAD_DIM, generator=g))
              for _ in range(LAYERS)]
    q = torch.randn(KV_HEADS, HEADS // KV_HEADS, HEAD_DIM, generator=g)
    step = NumpyStep([], np.ones(1, np.float32), np.ones((1, 1), np.float32), np.ones((1, 1), np.float32),
                     HEADS, KV_HEADS, HEAD_DIM, 1, 1e-6, 0)
    qn, scale = q.numpy(), HEAD_DIM ** -0.5

    def torch_way(k: torch.Tensor, v: torch.Tensor, n: int) -> None:
        zero = k.new_zeros(()).expand(KV_HEADS, HEADS // KV_HEADS, n)
        scores = torch.baddbmm(zero, q, k[:, :n].transpose(1, 2), beta=0.0, alpha=scale)
        torch.bmm(torch.softmax(scores, dim=-1), v[:, :n])

    def numpy_way(k: torch.Tensor, v: torch.Tensor, n: int) -> None:
        step._attend(qn, k.numpy()[:, :n], v.numpy()[:, :n])

    print(f"one-position attention, {HEADS} query / {KV_HEADS} KV heads x {HEAD_DIM}, 1 thread, "
          f"median of 7 passes over {LAYERS} layers; numpy switches to per-head products at {LONG_ATTENTION}")
    print(f"  {'positions':>10s}{'torch us/layer':>16s}{'numpy us/layer':>16s}{'torch ms/step':>15s}"
          f"{'numpy ms/step':>15s}{'numpy/torch':>13s}")
    for n in LENGTHS:
        res = {}
        for name, fn in (("torch", torch_way), ("numpy", numpy_way)):
            for k, v in caches[:2]:
                fn(k, v, n)
            times = []
            for _ in range(7):
                t = time.perf_counter()
                for k, v in caches:
                    fn(k, v, n)
                times.append((time.perf_counter() - t) / LAYERS)
            res[name] = statistics.median(times)
        print(f"  {n:10d}{res['torch'] * 1e6:16.1f}{res['numpy'] * 1e6:16.1f}{res['torch'] * LAYERS * 1e3:15.2f}"
              f"{res['numpy'] * LAYERS * 1e3:15.2f}{res['numpy'] / res['torch']:12.2f}x", flush=True)


if __name__ == "__main__":
    main()
