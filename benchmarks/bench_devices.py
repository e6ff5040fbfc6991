"""Every installed backend on every available device: frames/s, Generate-to-first-audio, peak memory,
and (on GPUs) how far bf16/fp16 land from fp32 with the same seed.

    python benchmarks/bench_devices.py                     # all backends x all devices found here
    python benchmarks/bench_devices.py --backends pocket --devices cpu --frames 50
    python benchmarks/bench_devices.py --csm-real          # CSM at real CSM-1B dims (writes ~6.2 GB)

Random weights in the real on-disk layouts (nothing is downloaded): Pocket TTS at the default English
model's real dimensions (tests/engine/tiny_pocket.py), CSM tiny unless --csm-real (benchmarks/bench_csm.py's
real config). Each (backend, device, dtype) row runs in its own subprocess: the peak is that process's RSS
(CPU) or torch's peak allocation (GPU). A fixed number of frames (end-of-speech and guards disabled); first
audio = Synthesize to the first audio chunk with the voice already encoded (a warm model); frames/s over
the whole take. Agreement: the same seed in fp32 and in the lower precision; Pocket: max |latent diff|
and the audio's SNR against fp32; CSM: the share of identical codes (sampling amplifies any difference).
The load average is printed (shared machines skew timings).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TEXT = "Hello there, this is a benchmark of the speech model."


def devices_here() -> list[str]:
    import torch

    out = ["cpu"]
    if torch.cuda.is_available():
        out.insert(0, "cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.insert(0, "mps")
    return out


def build(backend: str, root: Path, csm_real: bool) -> Path:
    if backend == "pocket":
        from tests.engine.tiny_pocket import build_pocket

        return build_pocket(root / "pocket", "english", seed=0)
    if csm_real:
        sys.path.insert(0, str(REPO / "benchmarks"))
        from bench_csm import make_model

        folder = root / "csm-real"
        make_model("real", folder)
        return folder
    from tests.engine.tiny_csm import build_tiny_csm

    return build_tiny_csm(root / "csm")


def _options(backend: str) -> dict:
    if backend == "pocket":
        return {"eos_threshold": 1e9, "trim_silence": False}
    return {"repeat_frames": 10**9, "silence_tail_s": 1e9}


def run_row(backend: str, folder: Path, device: str, dtype: str, frames: int, threads: int) -> dict:
    import numpy as np
    import torch

    from engine.backends import get_backend
    from engine.backends.base import SamplingParams
    from tests.engine.tiny_pocket import test_clip

    torch.set_num_threads(threads)
    b = get_backend(backend)
    t = time.perf_counter()
    info = b.load(folder, device=device, dtype=dtype)
    load_s = time.perf_counter() - t
    torch.set_num_threads(threads)
    voice = b.encode_reference(test_clip(seconds=3.0), 24000, "hello there", "bench")
    temperature = 0.0 if backend == "pocket" else 0.9  # Pocket at T=0 is deterministic: a clean comparison
    params = SamplingParams(temperature=temperature, seed=0, max_audio_seconds=frames / info.frame_rate,
                            options=_options(backend))

    def take():
        t0 = time.perf_counter()
        first, audio, frame_data = None, [], []
        for s in b.synthesize(TEXT, voice, params, stream_frames=5):
            if s.audio is not None:
                first = first if first is not None else time.perf_counter() - t0
                audio.append(s.audio)
            if s.codes is not None or s.latent is not None:
                frame_data.append(s.codes if s.codes is not None else s.latent)
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t0, first, np.concatenate(audio), np.stack(frame_data)

    take()  # warm-up
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    total, first, audio, frame_data = take()
    peak = (torch.cuda.max_memory_allocated() / 1e9 if device == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6)
    out = {"backend": backend, "model": info.model_id, "device": info.device, "dtype": info.dtype,
           "frames": int(len(frame_data)), "frames_per_s": len(frame_data) / total, "first_audio_ms": 1000 * first,
           "x_real_time": len(audio) / info.sample_rate / total, "peak_gb": peak, "load_s": load_s}
    np.save(Path(os.environ["BENCH_OUT"]) / f"{backend}-{device}-{dtype}.npy", frame_data)
    np.save(Path(os.environ["BENCH_OUT"]) / f"{backend}-{device}-{dtype}.audio.npy", audio)
    return out


def agreement(backend: str, out_dir: Path, device: str, dtype: str) -> str:
    import numpy as np

    ref = out_dir / f"{backend}-{device}-fp32.npy"
    low = out_dir / f"{backend}-{device}-{dtype}.npy"
    if not (ref.exists() and low.exists()):
        return ""
    a, b = np.load(ref), np.load(low)
    n = min(len(a), len(b))
    if backend == "csm":
        return f"{100 * float(np.mean(a[:n] == b[:n])):.1f}% codes equal"
    xa = np.load(out_dir / f"{backend}-{device}-fp32.audio.npy")
    xb = np.load(out_dir / f"{backend}-{device}-{dtype}.audio.npy")
    m = min(len(xa), len(xb))
    snr = 10 * np.log10(np.sum(xa[:m] ** 2) / max(np.sum((xa[:m] - xb[:m]) ** 2), 1e-30))
    return f"max |latent diff| {float(np.abs(a[:n] - b[:n]).max()):.3g}, audio SNR {snr:.1f} dB vs fp32"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--backends", nargs="+", default=None, help="default: every installed backend")
    p.add_argument("--devices", nargs="+", default=None, help="default: every device found (cuda, mps, cpu)")
    p.add_argument("--frames", type=int, default=50)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--csm-real", action="store_true")
    p.add_argument("--row", nargs=5, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.row:
        backend, folder, device, dtype, frames = a.row
        print(json.dumps(run_row(backend, Path(folder), device, dtype, int(frames), a.threads)))
        return
    from engine.backends import available_backends

    backends = a.backends or available_backends()
    devices = a.devices or devices_here()
    print(f"load average before: {os.getloadavg()}; cores: {os.cpu_count()}; torch threads: {a.threads}; "
          f"devices: {', '.join(devices)}; {a.frames} frames")
    print(f"{'backend':<7} {'model':<28} {'device':<6} {'dtype':<9} {'frames/s':>8} {'x real time':>11} "
          f"{'first audio':>11} {'peak':>8}  agreement")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "BENCH_OUT": tmp}
        for backend in backends:
            folder = build(backend, Path(tmp), a.csm_real)
            for device in devices:
                dtypes = ["fp32"] + (["bf16", "fp16"] if device in ("cuda", "mps") else [])
                for dtype in dtypes:
                    res = subprocess.run([sys.executable, __file__, "--threads", str(a.threads), "--row", backend,
                                          str(folder), device, dtype, str(a.frames)],
                                         capture_output=True, text=True, cwd=REPO, env=env)
                    if res.returncode:
                        last = (res.stderr.strip().splitlines() or ["?"])[-1]
                        print(f"{backend:<7} {'':<28} {device:<6} {dtype:<9} failed: {last}")
                        continue
                    r = json.loads(res.stdout.strip().splitlines()[-1])
                    agree = "" if dtype == "fp32" else agreement(backend, Path(tmp), device, dtype)
                    mem = "GPU" if device == "cuda" else "RSS"
                    print(f"{backend:<7} {r['model'][-28:]:<28} {r['device']:<6} {r['dtype']:<9} "
                          f"{r['frames_per_s']:8.1f} {r['x_real_time']:10.2f}x {r['first_audio_ms']:9.0f} ms "
                          f"{r['peak_gb']:5.2f} GB {mem}  {agree}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
