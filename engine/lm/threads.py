"""Run tiny CPU ops on one thread.

At batch 1 the big matmuls want every core (they stream weights), but the many tiny ops between
them (attention over a few dozen positions, softmax, top-k) gain nothing from threads and, when
they fan out anyway, pay a thread wake-up each: on a busy CPU that is a scheduler tick (~4 ms) per
op, which made CSM's 31-step depth loop 3x slower than its weight reads.
The hot paths (`Transformer.step`, `CsmModel.sample_frame`'s depth loop) do the same switch inline
with a thread count read once per frame: a context manager per op costs as much as the op there.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch


@contextmanager
def one_thread(device: torch.device) -> Iterator[None]:
    n = torch.get_num_threads()
    if device.type != "cpu" or n == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)
