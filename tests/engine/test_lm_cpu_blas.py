"""One-position CPU steps through numpy's BLAS (engine/lm/cpu_blas.py) compute what torch's do.

The BLAS path is what every fp32 CPU take runs on (CSM, Qwen3-TTS); torch's is what a GPU or
MYNAH_CPU_MATMUL=torch runs. Both must give the same hidden states (ulp-level summation order
apart), see in-place weight edits (a LoRA merge switches base <-> tuned on the same tensors), leave
torch's thread count as they found it, and fall back to torch when autograd is recording.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.lm import cpu_blas
from engine.lm.config import LlamaConfig
from engine.lm.llama import Transformer

CFG = LlamaConfig(dim=64, n_layers=3, n_heads=4, n_kv_heads=2, ffn_dim=160, max_positions=24, qk_norm=True)


def _model(in_out: bool) -> Transformer:
    torch.manual_seed(0)
    m = Transformer(CFG).eval()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn_like(p) * (0.3 if p.dim() > 1 else 1.0))
        if in_out:  # the CPU loaders' layout for the fused projections ([in, out] storage)
            for layer in m.layers:
                for lin in (layer.attention.wqkv, layer.feed_forward.w13):
                    lin.weight = torch.nn.Parameter(lin.weight.detach().t().contiguous().t())
    m.requires_grad_(False)
    m.setup_caches(1)
    return m


def _run(m: Transformer, xs: torch.Tensor, threads: int = 1) -> torch.Tensor:
    m.setup_caches(1)
    with torch.inference_mode():
        return torch.stack([m.step(x[None], pos, threads)[0] for pos, x in enumerate(xs)])


@pytest.mark.parametrize("in_out", [False, True])
def test_blas_steps_equal_torch_steps(monkeypatch, in_out):
    m = _model(in_out)
    xs = torch.randn(12, CFG.dim, generator=torch.Generator().manual_seed(1))
    assert m._step_np is not None  # fp32 on the CPU at batch 1: the numpy step by default
    blas = _run(m, xs)
    monkeypatch.setenv("MYNAH_CPU_MATMUL", "torch")
    assert not cpu_blas.wanted(m.norm.weight)
    ref = _run(m, xs)
    assert m._step_np is None
    torch.testing.assert_close(blas, ref, rtol=0, atol=2e-5)
    assert (blas - ref).abs().max() < 1e-3 * ref.abs().max()


@pytest.mark.parametrize("windowed", [False, True])
def test_numpy_step_long_cache_equals_torch(monkeypatch, windowed):
    """The talker attends over hundreds of positions: from step_np.LONG_ATTENTION on, attention runs
    as one-row products per head; with a sliding window only the last `window` positions count."""
    from dataclasses import replace

    from engine.lm.step_np import LONG_ATTENTION

    cfg = replace(CFG, max_positions=LONG_ATTENTION + 40, sliding_window=LONG_ATTENTION + 8 if windowed else 0)
    torch.manual_seed(5)
    m = Transformer(cfg).eval().requires_grad_(False)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn_like(p) * (0.3 if p.dim() > 1 else 1.0))
    xs = torch.randn(cfg.max_positions, cfg.dim, generator=torch.Generator().manual_seed(6))
    got = _run(m, xs)
    monkeypatch.setenv("MYNAH_CPU_MATMUL", "torch")
    ref = _run(m, xs)
    torch.testing.assert_close(got, ref, rtol=0, atol=5e-5)
    assert (got - ref).abs().max() < 1e-3 * ref.abs().max()


def test_numpy_step_overflowing_gate_is_quiet_and_finite():
    """A very negative gate overflows exp(-gate) in SiLU: the result is -0 as in torch, no warning."""
    import warnings

    m = _model(False)
    with torch.no_grad():
        m.layers[0].feed_forward.w13.weight.mul_(400.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = _run(m, torch.randn(3, CFG.dim, generator=torch.Generator().manual_seed(7)))
    assert torch.isfinite(out).all()


def test_blas_path_sees_in_place_weight_edits():
    """The numpy views share memory with the parameters: merging a LoRA delta in place (what the
    tuned-voice switch does) changes the very next step without re-planning."""
    m = _model(True)
    xs = torch.randn(4, CFG.dim, generator=torch.Generator().manual_seed(2))
    before = _run(m, xs)
    with torch.no_grad():
        m.layers[1].feed_forward.w13.weight.mul_(1.5)
        m.layers[0].attention.wo.weight.add_(0.05)
    # No setup_caches (it would plan new views): the steps from position 0 overwrite the cache slots,
    # and the views planned before the edit must see it.
    with torch.inference_mode():
        edited = torch.stack([m.step(x[None], pos, 1)[0] for pos, x in enumerate(xs)])
    m.setup_caches(1)
    assert torch.equal(edited, _run(m, xs))  # the same as a model planned after the edit
    assert not torch.allclose(before, edited, atol=1e-3)
    for layer in (m.layers[0].attention.wo, m.layers[1].feed_forward.w13):
        assert np.shares_memory(cpu_blas.weight_t(layer.weight), layer.weight.detach().numpy())


def test_step_restores_torch_threads_and_matches_blas_threads():
    from threadpoolctl import threadpool_info

    m = _model(False)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        _run(m, torch.randn(3, CFG.dim), threads=2)
        assert torch.get_num_threads() == 2
        assert {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"} == {2}
        torch.set_num_threads(1)
        _run(m, torch.randn(3, CFG.dim), threads=1)
        assert {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"} == {1}
    finally:
        torch.set_num_threads(before)


def test_autograd_falls_back_to_torch():
    m = _model(False)
    m.requires_grad_(True)
    x = torch.randn(1, CFG.dim, requires_grad=True)
    out = m.step(x, 0, 1)
    out.sum().backward()  # numpy cannot carry a gradient: this must have gone through torch
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_frames_run_torch_on_one_thread_and_blas_on_all():
    """Inside a decode loop's frame, torch's tiny ops get one thread (a fanned-out op would wait for
    the core the BLAS worker spins on) while numpy's BLAS keeps torch's count; both come back after."""
    from threadpoolctl import threadpool_info

    def blas_threads() -> set[int]:
        return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}

    m = _model(False)
    xs = torch.randn(3, CFG.dim, generator=torch.Generator().manual_seed(4))
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        outside = _run(m, xs, threads=2)
        m.setup_caches(1)
        with torch.inference_mode(), cpu_blas.torch_on_one_thread(True):
            assert torch.get_num_threads() == 1 and blas_threads() == {2}
            inside = torch.stack([m.step(x[None], pos, torch.get_num_threads())[0] for pos, x in enumerate(xs)])
            assert blas_threads() == {2}  # the steps' one-thread count did not reach numpy's BLAS
        assert torch.get_num_threads() == 2
        torch.testing.assert_close(inside, outside, rtol=0, atol=2e-5)
        with cpu_blas.torch_on_one_thread(False):  # a GPU or torch-matmul model: nothing changes
            assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_routed_linear_equals_torch_and_falls_back():
    """Pocket TTS's modules are the package's: their nn.Linear layers are routed in place (same
    parameters); one fp32 row goes through numpy, everything else through torch as before."""
    torch.manual_seed(3)
    net = torch.nn.Sequential(torch.nn.Linear(48, 96), torch.nn.SiLU(), torch.nn.Linear(96, 32, bias=False)).eval()
    ref = [p.detach().clone() for p in net.parameters()]
    x1, x5 = torch.randn(1, 1, 48), torch.randn(5, 48)
    with torch.no_grad():
        want1, want5 = net(x1), net(x5)
    assert cpu_blas.route_linears(net) == 2
    assert all(type(m) is cpu_blas.BlasLinear for m in (net[0], net[2]))
    assert all(p is q or torch.equal(p, q) for p, q in zip(net.parameters(), ref))  # same weights
    with torch.no_grad():
        got1, got5 = net(x1), net(x5)
    assert got1.shape == (1, 1, 32)
    torch.testing.assert_close(got1, want1, rtol=0, atol=1e-5)
    torch.testing.assert_close(got5, want5, rtol=0, atol=0)  # several rows: torch's own product
    x = torch.randn(1, 48, requires_grad=True)
    net(x).sum().backward()  # autograd: torch's path, gradients flow
    assert x.grad is not None and net[0].weight.grad is not None


def _anon_huge_kb(address: int) -> int | None:
    """AnonHugePages of the mapping holding `address` (None where /proc/self/smaps is missing)."""
    try:
        lines = open("/proc/self/smaps").read().splitlines()
    except OSError:
        return None
    inside = False
    for line in lines:
        head = line.split()[0]
        if "-" in head and ":" not in head:
            lo, hi = (int(v, 16) for v in head.split("-"))
            inside = lo <= address < hi
        elif inside and head == "AnonHugePages:":
            return int(line.split()[1])
    return None


def test_to_huge_pages_keeps_values_layout_and_parameters():
    """Large fp32 weights move to huge-page memory (Linux): the same Parameter objects, values and
    strides ([in, out] storage stays [in, out]); small ones and embedding tables stay."""
    torch.manual_seed(8)
    net = torch.nn.Sequential(torch.nn.Linear(1024, 2048, bias=False), torch.nn.Linear(2048, 8),
                              torch.nn.Embedding(4096, 1024))  # a 16 MB table: looked up, not streamed
    net[0].weight = torch.nn.Parameter(net[0].weight.detach().t().contiguous().t())  # [in, out] storage
    big, small = net[0].weight, net[1].weight
    before = {id(p): (p.detach().clone(), p.stride(), p.data_ptr()) for p in net.parameters()}
    assert cpu_blas.to_huge_pages(net) == big.numel() * 4
    assert [id(p) for p in net.parameters()] == list(before)
    for p in net.parameters():
        values, stride, ptr = before[id(p)]
        assert torch.equal(p, values) and p.stride() == stride
        assert (p.data_ptr() != ptr) == (p is big)
    assert small.data_ptr() == before[id(small)][2]
    thp = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    if thp.is_file() and "[never]" not in thp.read_text():
        kb = _anon_huge_kb(big.data_ptr() + big.numel() * 2)  # the middle of the 8 MB weight
        assert kb is not None and kb >= 2048, f"no huge pages behind the moved weight ({kb} kB)"


@pytest.mark.parametrize("in_out", [False, True])
def test_step_rows_share_weight_reads_and_equal_single_steps(in_out):
    """A depth decoder's first two positions as one call (blocks of each weight multiplied by both
    rows while cached) give what two steps give, and leave the same cache behind."""
    from engine.lm import step_np

    m = _model(in_out)
    xs = torch.randn(4, CFG.dim, generator=torch.Generator().manual_seed(9))
    want = _run(m, xs)
    m.setup_caches(1)
    old, step_np.BLOCK_BYTES = step_np.BLOCK_BYTES, 64 * 4 * 7  # several blocks even at tiny sizes
    try:
        with torch.inference_mode():
            first_two = m.step_rows([xs[0][None], xs[1][None]], 0, 1)
            rest = [m.step(x[None], pos, 1)[0] for pos, x in ((2, xs[2]), (3, xs[3]))]
    finally:
        step_np.BLOCK_BYTES = old
    torch.testing.assert_close(first_two[0], want[1], rtol=0, atol=2e-5)  # blocks: ulp-level sums
    torch.testing.assert_close(torch.stack(rest), want[2:], rtol=0, atol=2e-5)
