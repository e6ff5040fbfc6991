"""One-row fp32 matmuls on the CPU through numpy's BLAS instead of torch's.

A batch-1 decode step is a chain of matrix-vector products, each bound by how fast the weights
stream from memory. torch's CPU build sends a one-row fp32 matmul to MKL's GEMV, which on the AMD
EPYC (Zen 5) this project is measured on streams 18-24 GB/s with 2 threads; numpy's own BLAS
(OpenBLAS in numpy's Linux and Windows wheels, Accelerate on macOS) streams 38-57 GB/s over the
same arrays, close to what a plain read of memory reaches (`python benchmarks/bench_gemv.py`
prints both, shape by shape). So the one-position steps (`Transformer.step`, wholly in numpy:
engine/lm/step_np.py; the codebook heads of `CsmModel` / `Qwen3TTSModel`) hand their weight reads to numpy on zero-copy views: same
memory, same values, only the summation order inside each dot product differs (ulp level).

Rows > 1 never go to OpenBLAS's GEMM (it packs the weight and streams at a third of a GEMV's
rate): a depth decoder's first two positions run as one numpy step whose products share each weight
read block by block (engine/lm/step_np.py, `products`). MYNAH_CPU_MATMUL=torch turns it off
(a diagnostic switch; takes made either way are valid, but a re-render is bit-identical only
with the same choice).
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

import numpy as np
import torch

_threads = 0  # what numpy's BLAS was last limited to (0: never set by us)
_pinned = False  # inside `torch_on_one_thread`: numpy's BLAS keeps the count it was given there
_controller = None
_lock = threading.Lock()


def wanted(t: torch.Tensor) -> bool:
    """Whether one-row products over this weight go through numpy's BLAS."""
    return wanted_for(t.device, t.dtype)


def wanted_for(device: torch.device, dtype: torch.dtype) -> bool:
    """`wanted` before the weights exist (a loader choosing their layout)."""
    return (device.type == "cpu" and dtype == torch.float32
            and os.environ.get("MYNAH_CPU_MATMUL", "blas") != "torch")


def weight_t(w: torch.Tensor) -> np.ndarray:
    """A Linear weight [out, in] (any strides) -> its [in, out] numpy view, for `x @ view`.
    Shares memory with the tensor: in-place edits (LoRA merge/unmerge) stay visible."""
    return w.detach().numpy().T


HUGE_PAGE_MIN_BYTES = 4 << 20


def huge_page_array(n: int) -> np.ndarray | None:
    """n float32 in a fresh anonymous mapping marked for transparent huge pages before first touch
    (Linux; None elsewhere). A plain allocation may reuse heap pages already backed by 4 KB ones."""
    import mmap

    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    if advice is None:
        return None
    region = mmap.mmap(-1, n * 4, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)  # shared: no THP
    try:
        region.madvise(advice)
    except OSError:  # a kernel without THP
        pass
    return np.frombuffer(region, np.float32, n)  # keeps the mapping alive as long as the array


def to_huge_pages(module: torch.nn.Module, moved_from: Callable[[torch.Tensor], None] | None = None) -> int:
    """Move every fp32 CPU weight of >= 4 MB but embedding tables into huge-page memory (same
    values, strides and Parameter objects). Returns the bytes moved (0 where the OS has no transparent huge pages).

    A decode step streams every weight once, and over 4 KB pages (a TLB miss every 4 KB) its GEMVs
    run slower: 3-7 ms of a 0.12-0.16 s Qwen3 0.6B frame on the build machine
    (`benchmarks/bench_gemv.py --pages` per shape). Weights adopted from a memory-mapped checkpoint,
    or cast to fp32 by torch, sit in 4 KB pages. Call before planning the decoders' steps
    (`setup_caches`): their numpy views bind the memory. `moved_from(old)` is called with each
    weight's old tensor once copied (a loader drops the checkpoint's pages under it there, so the
    move never holds two copies of the model)."""
    moved = 0
    # Embedding tables are looked up a row at a time, never streamed: left where they are (a
    # memory-mapped 151k-row text table stays mostly unread instead of becoming 1.2 GB of RAM).
    tables = {id(m.weight) for m in module.modules() if isinstance(m, torch.nn.Embedding)}
    with torch.no_grad():
        for p in module.parameters():
            nbytes = p.numel() * p.element_size()
            if (p.device.type != "cpu" or p.dtype != torch.float32 or nbytes < HUGE_PAGE_MIN_BYTES
                    or id(p) in tables):
                continue
            span = 1 + sum((n - 1) * st for n, st in zip(p.shape, p.stride()))  # elements the view covers
            if span != p.numel() or p.storage_offset():
                continue  # a view into a larger tensor: leave it sharing that tensor's memory
            flat = huge_page_array(span)
            if flat is None:
                return 0
            new = torch.from_numpy(flat).as_strided(p.shape, p.stride())
            new.copy_(p)
            old, p.data = p.data, new
            if moved_from is not None:
                moved_from(old)
            del old
            moved += nbytes
    return moved


def match_threads(n: int) -> None:
    """Give numpy's BLAS the same thread count as torch's intra-op pool (`n`), so a step uses
    the cores it was given and no more. Cheap when `n` is unchanged (one int compare)."""
    global _threads, _controller
    if n == _threads or _pinned:
        return
    with _lock:
        if _controller is None:
            from threadpoolctl import ThreadpoolController

            _controller = ThreadpoolController().select(user_api="blas")
        for lib in _controller.lib_controllers:
            lib.set_num_threads(n)
        _threads = n


def linear(x: torch.Tensor, w_t: np.ndarray, bias: np.ndarray | None = None) -> torch.Tensor:
    """x [B, in] @ w_t [in, out] (+ bias [out]) -> a new [B, out] tensor."""
    y = x.numpy() @ w_t
    if bias is not None:
        y += bias
    return torch.from_numpy(y)


def linear_into(x: torch.Tensor, w_t: np.ndarray, out: np.ndarray) -> None:
    """x [B, in] @ w_t [in, out] written into `out` (a numpy view of a preallocated tensor)."""
    np.matmul(x.numpy(), w_t, out=out)


@contextmanager
def torch_on_one_thread(active: bool) -> Iterator[None]:
    """A decode loop's frames on the BLAS path: numpy's BLAS gets torch's thread count, and torch's
    own ops (norms, attention, sampling, embeddings: all tiny at batch 1) run on one thread.

    Left at several threads, a torch op that fans out wakes an OpenMP thread that has to wait for
    the core the BLAS worker is still spinning on: a 750-element exp + log after a GEMV took 4-8 ms
    on 2 threads and 31 us on one (measured on the 2-core build machine), once per frame or more.
    Inside, `match_threads` keeps the BLAS count and steps see one torch thread (no switching)."""
    global _pinned
    n = torch.get_num_threads()
    if not active or n == 1 or _pinned:
        yield
        return
    match_threads(n)
    torch.set_num_threads(1)
    _pinned = True
    try:
        yield
    finally:
        _pinned = False
        torch.set_num_threads(n)


class BlasLinear(torch.nn.Linear):
    """nn.Linear whose one-row fp32 CPU products go through numpy's BLAS (anything else: torch).

    For models whose modules are not ours (Pocket TTS runs the `pocket-tts` package's transformer and
    flow head): `route_linears` turns their nn.Linear layers into this class in place, keeping the
    very same parameters, so loading, state dicts and parity with the package are untouched."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (x.device.type != "cpu" or x.dtype != torch.float32 or self.weight.dtype != torch.float32
                or x.requires_grad or x.numel() != x.shape[-1] or torch.is_autocast_enabled("cpu")):
            return super().forward(x)
        y = x.reshape(1, -1).numpy() @ self.weight.detach().numpy().T
        if self.bias is not None:
            y += self.bias.detach().numpy()
        return torch.from_numpy(y).view(*x.shape[:-1], y.shape[-1])


def route_linears(module: torch.nn.Module) -> int:
    """Every plain nn.Linear under `module` becomes a BlasLinear (same parameters). Returns how many."""
    n = 0
    for m in module.modules():
        if type(m) is torch.nn.Linear:
            m.__class__ = BlasLinear
            n += 1
    return n
