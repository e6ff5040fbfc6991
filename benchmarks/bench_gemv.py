"""fp32 GEMV throughput on this CPU for every weight shape of a CSM-1B and a Qwen3-TTS 0.6B frame:
torch (MKL) and numpy's BLAS (OpenBLAS), each weight in both layouts, beside a plain read of memory.

    python benchmarks/bench_gemv.py              # 2 threads (the real-size figures)
    python benchmarks/bench_gemv.py --threads 1
    python benchmarks/bench_gemv.py --pages      # numpy's BLAS over 4 KB pages vs huge pages
    python benchmarks/bench_gemv.py --rows 2     # two rows over one weight: the ways to do it

A batch-1 decode step is a chain of GEMVs, each bound by how fast the CPU streams the weight.
`x @ w.T` with w [out, in] row-major walks rows of `in` floats; storing w as [in, out] walks rows of
`out` floats instead. Which library and layout is faster depends on the CPU and the shape: this
prints all four, so engine/lm/cpu_blas.py (numpy's BLAS for one-row fp32 CPU products) and the
layout choice in engine.lm.llama.fuse_rows rest on a measurement. Each case cycles through
>= 384 MB of weights (far beyond any cache), and the cases alternate so drift in the machine's
memory bandwidth hits all alike. The last line is the memory bound itself: a plain sum over 1 GiB.
--pages compares the same numpy products over weights in torch's allocation (4 KB pages unless THP is
"always") and moved by engine.lm.cpu_blas.to_huge_pages (what the CPU loaders do).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory_bandwidth import read_bandwidth  # noqa: E402

# (out, in) of every weight a frame reads, fused as ours: CSM-1B (transformers' CsmConfig defaults)
# and Qwen3-TTS 12Hz 0.6B (talker and code predictor share these widths).
SHAPES = {
    "CSM backbone wqkv": (3072, 2048), "CSM backbone wo": (2048, 2048),
    "CSM backbone w13 (gate|up)": (16384, 2048), "CSM backbone w2": (2048, 8192),
    "CSM depth wqkv": (1536, 1024), "CSM depth wo": (1024, 1024),
    "CSM depth w13 (gate|up)": (16384, 1024), "CSM depth w2": (1024, 8192),
    "CSM depth input projection": (1024, 2048), "CSM codebook head": (2051, 1024),
    "Qwen3 wqkv": (4096, 1024), "Qwen3 wo": (1024, 2048), "Qwen3 w13 (gate|up)": (6144, 1024),
    "Qwen3 w2": (1024, 3072), "Qwen3 code head": (2048, 1024),
}
CASES = ("torch [out,in]", "torch [in,out]", "numpy [out,in]", "numpy [in,out]")
PAGE_CASES = ("[out,in] 4 KB", "[out,in] huge", "[in,out] 4 KB", "[in,out] huge")
ROW_CASES = ("one row", "GEMV per row", "blocked rows", "one 2-row GEMM")


def measure(out_dim: int, in_dim: int, rounds: int) -> dict[str, float]:
    import numpy as np
    import torch
    import torch.nn.functional as F

    n = max(2, (384 << 20) // (out_dim * in_dim * 4))
    rows = [torch.randn(out_dim, in_dim) for _ in range(n)]  # [out, in]: rows of `in` floats
    cols = [w.t().contiguous().t() for w in rows]  # same values, [in, out] storage
    x = torch.randn(1, in_dim)
    xn = x.numpy()
    runs = {
        "torch [out,in]": lambda: [F.linear(x, w) for w in rows],
        "torch [in,out]": lambda: [F.linear(x, w) for w in cols],
        "numpy [out,in]": lambda: [xn @ w.numpy().T for w in rows],
        "numpy [in,out]": lambda: [xn @ w.numpy().T for w in cols],
    }
    speeds: dict[str, list[float]] = {k: [] for k in CASES}
    for _ in range(rounds):
        for name in CASES:
            t = time.perf_counter()
            runs[name]()
            speeds[name].append(n * out_dim * in_dim * 4 / (time.perf_counter() - t) / 1e9)
    del np
    return {k: statistics.median(v) for k, v in speeds.items()}


def measure_pages(out_dim: int, in_dim: int, rounds: int) -> dict[str, float]:
    import torch

    from engine.lm import cpu_blas

    n = max(2, (384 << 20) // (out_dim * in_dim * 4))
    weights: dict[str, list[torch.nn.Parameter]] = {}
    for layout in ("[out,in]", "[in,out]"):
        small = [torch.randn(out_dim, in_dim) for _ in range(n)]
        if layout == "[in,out]":
            small = [w.t().contiguous().t() for w in small]
        weights[f"{layout} 4 KB"] = [torch.nn.Parameter(w, requires_grad=False) for w in small]
        huge = torch.nn.ParameterList(torch.nn.Parameter(w.clone(memory_format=torch.preserve_format),
                                                         requires_grad=False) for w in small)
        cpu_blas.to_huge_pages(huge)
        weights[f"{layout} huge"] = list(huge)
    xn = torch.randn(1, in_dim).numpy()
    views = {k: [cpu_blas.weight_t(w) for w in ws] for k, ws in weights.items()}
    speeds: dict[str, list[float]] = {k: [] for k in PAGE_CASES}
    for _ in range(rounds):
        for name in PAGE_CASES:
            t = time.perf_counter()
            for w in views[name]:
                xn @ w
            speeds[name].append(n * out_dim * in_dim * 4 / (time.perf_counter() - t) / 1e9)
    return {k: statistics.median(v) for k, v in speeds.items()}


def measure_rows(out_dim: int, in_dim: int, rounds: int, rows: int) -> dict[str, float]:
    """Microseconds per weight: one row, `rows` rows as one GEMV each, as engine/lm/step_np.products
    does it (blocks of the weight multiplied by every row while cached), and one k-row product."""
    import numpy as np
    import torch

    from engine.lm import cpu_blas
    from engine.lm.step_np import products

    n = max(2, (384 << 20) // (out_dim * in_dim * 4))
    params = torch.nn.ParameterList(torch.nn.Parameter(torch.randn(out_dim, in_dim), requires_grad=False)
                                    for _ in range(n))
    cpu_blas.to_huge_pages(params)  # as the loaders leave them
    ws = [cpu_blas.weight_t(p) for p in params]  # [in, out] views of [out, in] storage
    xs = [np.random.rand(1, in_dim).astype(np.float32) for _ in range(rows)]
    stacked = np.concatenate(xs)
    runs = {
        "one row": lambda w: xs[0] @ w,
        "GEMV per row": lambda w: [x @ w for x in xs],
        "blocked rows": lambda w: products(xs, w),
        "one 2-row GEMM": lambda w: stacked @ w,
    }
    times: dict[str, list[float]] = {k: [] for k in ROW_CASES}
    for _ in range(rounds):
        for name in ROW_CASES:
            t = time.perf_counter()
            for w in ws:
                runs[name](w)
            times[name].append((time.perf_counter() - t) / n * 1e6)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--pages", action="store_true", help="numpy's BLAS over 4 KB vs huge pages")
    p.add_argument("--rows", type=int, default=0, help="several rows over one weight (e.g. 2)")
    a = p.parse_args()
    import torch

    from engine.lm import cpu_blas

    torch.set_num_threads(a.threads)
    cpu_blas.match_threads(a.threads)
    print(f"fp32 GEMV, {a.threads} threads, median of {a.rounds} rounds, load average "
          f"{os.getloadavg()[0]:.2f}" + ("" if a.rows else "; GB/s of weights streamed"))
    if a.rows:
        print(f"  {a.rows} rows over one weight, microseconds per weight ([out, in] storage, huge pages)")
        print(f"  {'weight':28s}{'(out, in)':>14s}" + "".join(f"{c:>16s}" for c in ROW_CASES)
              + f"{'blocked extra':>15s}")
        for name, (o, i) in SHAPES.items():
            r = measure_rows(o, i, a.rounds, a.rows)
            extra = (r["blocked rows"] - r["one row"]) / r["one row"] / (a.rows - 1)
            print(f"  {name:28s}{str((o, i)):>14s}" + "".join(f"{r[c]:16.0f}" for c in ROW_CASES)
                  + f"{extra:14.0%}", flush=True)
    elif a.pages:
        print("  numpy's BLAS, the weights in torch's allocation (4 KB) or moved to huge pages")
        print(f"  {'weight':28s}{'(out, in)':>14s}" + "".join(f"{c:>16s}" for c in PAGE_CASES) + f"{'huge/4 KB':>12s}")
        for name, (o, i) in SHAPES.items():
            r = measure_pages(o, i, a.rounds)
            gain = max(r["[out,in] huge"], r["[in,out] huge"]) / max(r["[out,in] 4 KB"], r["[in,out] 4 KB"])
            print(f"  {name:28s}{str((o, i)):>14s}" + "".join(f"{r[c]:16.1f}" for c in PAGE_CASES)
                  + f"{gain:11.2f}x", flush=True)
    else:
        print(f"  {'weight':28s}{'(out, in)':>14s}" + "".join(f"{c:>16s}" for c in CASES)
              + f"{'best numpy/torch':>18s}")
    for name, (o, i) in ({} if a.pages or a.rows else SHAPES).items():
        r = measure(o, i, a.rounds)
        gain = max(r["numpy [out,in]"], r["numpy [in,out]"]) / max(r["torch [out,in]"], r["torch [in,out]"])
        print(f"  {name:28s}{str((o, i)):>14s}" + "".join(f"{r[c]:16.1f}" for c in CASES) + f"{gain:17.2f}x",
              flush=True)
    bw = read_bandwidth(a.threads)
    print(f"  plain read of memory (sum over 1 GiB): {bw['torch_alloc'] / 1e9:.1f} GB/s in torch's allocation, "
          f"{bw['huge_pages'] / 1e9:.1f} GB/s in huge pages")


if __name__ == "__main__":
    main()
