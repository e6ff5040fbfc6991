"""CSM frame rate: ours vs transformers' `generate` on the same random weights, plus the memory-
bandwidth bound, at tiny and at real CSM-1B dimensions (fp32, CPU). The bound is the weight bytes
one frame reads over the median plain read of memory in the run (benchmarks/memory_bandwidth.py).

    python benchmarks/bench_csm.py                 # tiny (60 frames, 3 rounds) and real (6 frames, 2 rounds)
    python benchmarks/bench_csm.py --tiny --frames 200
    python benchmarks/bench_csm.py --real --frames 20 --threads 4

Each measurement runs in its own subprocess (one model in memory at a time; peak RSS per side).
The real-size run writes ~6.2 GB of random weights to a temp folder (deleted at the end).
Per-frame time is the median interval between frames 1..N as they come out (our generator steps; a
transformers streamer): the prompt prefill is excluded (reported as "1st frame s").
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from memory_bandwidth import read_bandwidth  # noqa: E402
TEXT = "Hello there, this is a benchmark of the speech model."


def _real_config():
    """transformers' CsmConfig defaults are the sesame/csm-1b values; only the codec is shrunk (it is
    not part of frame generation) so the folder stays ~6 GB."""
    from transformers import CsmConfig

    from tests.engine.tiny_csm import tiny_config

    codec = tiny_config(300).codec_config.to_dict()
    codec.update(codebook_size=2048)
    rope = {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0, "low_freq_factor": 1.0,
            "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
    return CsmConfig(rope_parameters=rope, depth_decoder_config={"rope_parameters": dict(rope)}, codec_config=codec)


def make_model(kind: str, folder: Path) -> None:
    import torch

    from tests.engine.tiny_csm import build_tiny_csm, tiny_tokenizer

    if kind == "tiny":
        build_tiny_csm(folder)
        return
    from transformers import CsmForConditionalGeneration

    torch.manual_seed(0)
    cfg = _real_config()
    d = cfg.to_dict()
    print(f"  real config: backbone {d['num_hidden_layers']} layers, dim {d['hidden_size']}, "
          f"{d['num_attention_heads']} heads / {d['num_key_value_heads']} kv, ffn {d['intermediate_size']}, "
          f"text vocab {d['text_vocab_size']}; depth {cfg.depth_decoder_config.num_hidden_layers} layers, "
          f"dim {cfg.depth_decoder_config.hidden_size}, {cfg.depth_decoder_config.num_attention_heads} heads / "
          f"{cfg.depth_decoder_config.num_key_value_heads} kv, ffn {cfg.depth_decoder_config.intermediate_size}, "
          f"{cfg.num_codebooks} codebooks x {cfg.vocab_size}", flush=True)
    model = CsmForConditionalGeneration(cfg).eval()
    model.save_pretrained(folder)
    tiny_tokenizer().save(str(folder / "tokenizer.json"))


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


class _FrameClock:
    """A transformers streamer that only notes when each frame comes out."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def put(self, value) -> None:
        self.times.append(time.perf_counter())

    def end(self) -> None:
        pass


def run_worker(side: str, folder: Path, frames: int, threads: int) -> dict:
    """Per-frame time = median interval between frames: the prompt prefill (compute-bound, and very
    noisy on a shared CPU) is excluded; it is reported as `first_frame_s`."""
    import torch

    torch.set_num_threads(threads)
    from engine.backends.csm_recipe import TextTokenizer

    ids = TextTokenizer(folder / "tokenizer.json").encode_turn(TEXT)
    t0 = time.perf_counter()
    if side == "ours":
        from engine.backends import get_backend
        from engine.backends.base import SamplingParams

        backend = get_backend("csm")
        backend.load(folder, device="cpu", dtype="fp32")

        def gen(n: int) -> list[float]:
            params = SamplingParams(seed=0, max_audio_seconds=n / 12.5,
                                    options={"codes_only": True, "repeat_frames": 10**9})
            stamps = [time.perf_counter()]
            stamps += [time.perf_counter() for s in backend.synthesize(TEXT, None, params) if s.codes is not None]
            assert len(stamps) == n + 1, f"stopped after {len(stamps) - 1} frames"
            return stamps
    else:
        from transformers import CsmForConditionalGeneration

        model = CsmForConditionalGeneration.from_pretrained(folder, dtype=torch.float32).eval()
        input_ids = torch.tensor([ids])

        def gen(n: int) -> list[float]:
            clock = _FrameClock()
            start = time.perf_counter()
            with torch.inference_mode():
                out = model.generate(input_ids=input_ids, max_new_tokens=n, min_new_tokens=n, do_sample=True,
                                     temperature=0.9, top_k=50, depth_decoder_do_sample=True,
                                     depth_decoder_temperature=0.9, depth_decoder_top_k=50, streamer=clock)
            assert out.shape[1] == n, out.shape
            return [start] + clock.times[-n:]  # the first put() is the prompt
    load_s = time.perf_counter() - t0
    gen(2)  # warm-up
    stamps = gen(frames)
    # Median interval: other processes on a shared CPU add spikes that say nothing about the code.
    s_per_frame = statistics.median(b - a for a, b in zip(stamps[1:], stamps[2:]))
    run = {"side": side, "load_s": load_s, "s_per_frame": s_per_frame, "frames_per_s": 1 / s_per_frame,
           "first_frame_s": stamps[1] - stamps[0],
           "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}
    # The shared machine's memory bandwidth drifts by tens of percent within seconds: read it right
    # after the frames, in the same process (its buffers come after the peak RSS was taken).
    run["read_bw"] = read_bandwidth(threads)
    return run


def bytes_per_frame(folder: Path) -> int:
    """fp32 weight bytes one frame must read: backbone + codebook-0 head once, and for each of the
    K-1 depth steps the depth decoder, the input projection and one codebook head."""
    from engine.backends.csm_config import CsmSpec
    from engine.hub.checkpoint import read_json

    spec = CsmSpec.from_hf(read_json(folder / "config.json"))

    def decoder_params(c) -> int:
        q, kv = c.n_heads * c.head_dim, c.n_kv_heads * c.head_dim
        per_layer = c.dim * (q + 2 * kv) + q * c.dim + 3 * c.dim * c.ffn_dim + 2 * c.dim
        return c.n_layers * per_layer + c.dim

    k, v, d, dd = spec.n_codebooks, spec.audio_vocab, spec.backbone.dim, spec.depth.dim
    once = decoder_params(spec.backbone) + d * v
    per_depth_step = decoder_params(spec.depth) + d * dd + dd * v
    return 4 * (once + (k - 1) * per_depth_step)


def _subprocess(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, cwd=REPO)
    if out.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median_run(runs: list[dict]) -> dict:
    """The run with the median frame time (its other figures with it); peak RSS is the largest seen."""
    run = dict(sorted(runs, key=lambda r: r["s_per_frame"])[(len(runs) - 1) // 2])
    run["peak_rss_gb"] = max(r["peak_rss_gb"] for r in runs)
    return run


def bench(kind: str, frames: int, threads: int, rounds: int) -> None:
    print(f"\n== {kind} dimensions, fp32, CPU, {threads} threads, {frames} frames, {rounds} round(s), "
          f"load average {os.getloadavg()[0]:.2f} ==", flush=True)
    root = Path(tempfile.mkdtemp(prefix=f"mynah-bench-csm-{kind}-"))
    try:
        folder = root / "model"
        t = _timed(lambda: subprocess.run([sys.executable, __file__, "--make", kind, "--dir", str(folder)],
                                          check=True, cwd=REPO))
        print(f"  random {kind} model written in {t:.0f} s", flush=True)
        # Let the kernel finish writing it back first: gigabytes of writeback in flight take memory
        # bandwidth from whichever side runs next.
        os.sync()
        runs: dict[str, list[dict]] = {"ours": [], "hf": []}
        bws = []
        # Rounds alternate ours / transformers (in turn first) / bandwidth, so a drift in the
        # machine's memory bandwidth (other tenants) hits all three alike; figures are medians.
        for r in range(rounds):
            for side in (("ours", "hf") if r % 2 == 0 else ("hf", "ours")):  # neither always first
                runs[side].append(_subprocess(["--worker", side, "--dir", str(folder), "--frames", str(frames),
                                               "--threads", str(threads)]))
            bws.append(read_bandwidth(threads))
        ours, hf = (_median_run(runs[side]) for side in ("ours", "hf"))
        bws += [r["read_bw"] for side in ("ours", "hf") for r in runs[side]]
        bw = statistics.median(r["best"] for r in bws)  # the host's bandwidth drifts: the run's median read
        if rounds > 1:
            for side in ("ours", "hf"):
                print(f"  {side} s/frame per round: " + ", ".join(f"{r['s_per_frame']:.3f}" for r in runs[side]))
        nbytes = bytes_per_frame(folder)
        bound = nbytes / bw
        print(f"  {'':14s}{'s/frame':>10s}{'frames/s':>10s}{'1st frame s':>12s}{'load s':>8s}{'peak RSS GB':>12s}")
        for r in (ours, hf):
            name = "ours" if r["side"] == "ours" else "transformers"
            print(f"  {name:14s}{r['s_per_frame']:10.4f}{r['frames_per_s']:10.2f}{r['first_frame_s']:12.2f}"
                  f"{r['load_s']:8.1f}{r['peak_rss_gb']:12.2f}")
        print(f"  bandwidth bound: {nbytes / 1e9:.2f} GB of weights per frame / {bw / 1e9:.1f} GB/s (median plain "
              f"read of memory, of {len(bws)} reads: {min(b['best'] for b in bws) / 1e9:.1f}-"
              f"{max(b['best'] for b in bws) / 1e9:.1f} GB/s) "
              f"= {bound:.4f} s/frame")
        print(f"  ours streams {nbytes / ours['s_per_frame'] / 1e9:.1f} GB/s of weights, "
              f"transformers {nbytes / hf['s_per_frame'] / 1e9:.1f}")
        print(f"  ratio ours vs transformers (speed-up): {hf['s_per_frame'] / ours['s_per_frame']:.2f}x")
        print(f"  ratio ours vs bound (time / bound):    {ours['s_per_frame'] / bound:.2f}x")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tiny", action="store_true", help="only the tiny model")
    p.add_argument("--real", action="store_true", help="only the real-size model")
    p.add_argument("--frames", type=int, default=None, help="frames per timed run (default 60 tiny, 6 real)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch intra-op threads (default: 1 tiny, since tiny steps are overhead-bound "
                        "and thread fan-out only adds noise; 2 real)")
    p.add_argument("--rounds", type=int, default=None,
                   help="alternating ours/transformers rounds, medians reported (default 3 tiny, 2 real)")
    p.add_argument("--make", choices=["tiny", "real"], help=argparse.SUPPRESS)
    p.add_argument("--worker", choices=["ours", "hf"], help=argparse.SUPPRESS)
    p.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.make:
        make_model(a.make, a.dir)
        return
    if a.worker:
        print(json.dumps(run_worker(a.worker, a.dir, a.frames, a.threads)))
        return
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    kinds = [k for k, on in (("tiny", a.tiny), ("real", a.real)) if on] or ["tiny", "real"]
    for kind in kinds:
        threads = a.threads or (1 if kind == "tiny" else 2)
        bench(kind, max(2, a.frames or (60 if kind == "tiny" else 6)), threads,
              max(1, a.rounds or (3 if kind == "tiny" else 2)))


if __name__ == "__main__":
    main()
