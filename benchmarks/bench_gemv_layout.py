"""fp32 GEMV throughput on this CPU for every weight shape of a CSM-1B frame, in both layouts.

    python benchmarks/bench_gemv_layout.py              # 2 threads (the real-size CSM figure)
    python benchmarks/bench_gemv_layout.py --threads 1

A batch-1 decode step is a chain of GEMVs, each bound by how fast the CPU streams the weight.
`F.linear(x, w)` with w [out, in] row-major runs MKL's GEMV over rows of `in` floats; storing w as
[in, out] (and passing its transposed view) runs it over rows of `out` floats instead. Which is
faster depends on the shape: this prints both, so the layout choice in engine.lm.llama.fuse_rows
rests on a measurement. Each case cycles through >= 384 MB of weights (far beyond any cache), and
the two layouts alternate so drift in the machine's memory bandwidth hits both alike.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

# (out, in) of every weight a CSM-1B frame reads (transformers' CsmConfig defaults), fused as ours.
SHAPES = {
    "backbone wqkv": (3072, 2048), "backbone wo": (2048, 2048),
    "backbone w13 (gate|up)": (16384, 2048), "backbone w2": (2048, 8192),
    "depth wqkv": (1536, 1024), "depth wo": (1024, 1024),
    "depth w13 (gate|up)": (16384, 1024), "depth w2": (1024, 8192),
    "depth input projection": (1024, 2048), "codebook head": (2051, 1024),
}


def measure(out_dim: int, in_dim: int, rounds: int) -> tuple[float, float]:
    import torch
    import torch.nn.functional as F

    n = max(2, (384 << 20) // (out_dim * in_dim * 4))
    rows = [torch.randn(out_dim, in_dim) for _ in range(n)]  # [out, in]: rows of `in` floats
    cols = [w.t().contiguous().t() for w in rows]  # same values, [in, out] storage
    x = torch.randn(1, in_dim)
    speeds: dict[str, list[float]] = {"rows": [], "cols": []}
    for _ in range(rounds):
        for name, ws in (("rows", rows), ("cols", cols)):
            t = time.perf_counter()
            for w in ws:
                F.linear(x, w)
            speeds[name].append(n * out_dim * in_dim * 4 / (time.perf_counter() - t) / 1e9)
    return statistics.median(speeds["rows"]), statistics.median(speeds["cols"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=9)
    a = p.parse_args()
    import torch

    torch.set_num_threads(a.threads)
    print(f"fp32 GEMV, {a.threads} threads, median of {a.rounds} rounds, load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"  {'weight':26s}{'(out, in)':>14s}{'[out,in] GB/s':>15s}{'[in,out] GB/s':>15s}{'ratio':>8s}")
    for name, (o, i) in SHAPES.items():
        r, c = measure(o, i, a.rounds)
        print(f"  {name:26s}{str((o, i)):>14s}{r:15.1f}{c:15.1f}{c / r:8.2f}", flush=True)


if __name__ == "__main__":
    main()
