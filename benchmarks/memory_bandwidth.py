"""This machine's memory bandwidth: how fast a plain streaming read goes (the bound a batch-1 decode
step, which reads every weight once, cannot beat). Shared by the benchmarks that print a bound."""
from __future__ import annotations

import statistics
import time


def read_bandwidth(threads: int, nbytes: int = 1 << 30, rounds: int = 9) -> dict[str, float]:
    """Bytes/s of `sum()` over an nbytes fp32 buffer with `threads` torch threads: in memory torch
    allocated (4 KB pages unless THP is "always") and in memory numpy allocated (numpy asks the
    kernel for transparent huge pages), the median of `rounds` each. "best" is the larger."""
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    out: dict[str, float] = {}
    for name, buf in (("torch_alloc", torch.empty(nbytes // 4)),
                      ("huge_pages", torch.from_numpy(np.empty(nbytes // 4, np.float32)))):
        # Random values, like weights: pages of equal bytes (zeros, ones) can be merged by the host
        # (KSM under a hypervisor) into one physical page, and a read of them never leaves the cache.
        buf.uniform_(-1.0, 1.0)
        buf.sum()

        def once() -> float:
            t = time.perf_counter()
            buf.sum()
            return nbytes / (time.perf_counter() - t)
        out[name] = statistics.median(once() for _ in range(rounds))
        del buf
    out["best"] = max(out.values())
    return out
