"""Time from Synthesize submit to the first AudioChunk event, through the real engine worker.

A 10-word sentence, a 10 s reference clip (from the repository's speech test data, or a synthetic voice-like
signal where that is absent), a CSM checkpoint with random weights:
  default   tiny random CSM (tests/engine/tiny_csm.py), the real on-disk layout: measures the
            worker + recipe + codec streaming overhead;
  --real    real CSM-1B dimensions (1B backbone, 32-codebook depth decoder, full Mimi) with random
            weights: what a user waits for on this machine (slow to build: minutes, ~6 GB RAM);
  --model   any CSM folder already on disk;
  --fake    the test suite's fake backend (no model): the worker's own overhead.

    python benchmarks/bench_first_audio.py [--real] [--runs 3] [--threads 1] [--device cpu] [--dtype float32]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from anywhere without installing

from engine.backends.base import SamplingParams  # noqa: E402
from engine.jobs import (AudioChunk, Done, EncodeReference, LoadModel, ReferenceSpec,  # noqa: E402
                         Synthesize)
from engine.worker import EngineWorker  # noqa: E402

SENTENCE = "The quick brown fox jumps over the lazy dog today."  # 10 words
SPEECH = REPO / "tests" / "data" / "speech"


def reference_clip(seconds: float = 10.0) -> tuple[np.ndarray, int, str]:
    """A real ~10 s speech clip and its transcript, else a voice-like synthetic signal."""
    import csv

    import soundfile as sf

    tsv = SPEECH / "transcripts.tsv"
    if tsv.is_file():
        with open(tsv, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        best = None
        for r in rows:
            info = sf.info(str(SPEECH / r["file"]))
            if info.duration >= seconds and (best is None or info.duration < best[1]):
                best = (r, info.duration)
        if best is not None:
            audio, sr = sf.read(str(SPEECH / best[0]["file"]), dtype="float32", always_2d=True)
            return audio.mean(axis=1)[: int(seconds * sr)], sr, best[0]["transcript"].lower()
    sr = 24000
    t = np.arange(int(seconds * sr)) / sr
    f0 = 120 + 20 * np.sin(2 * np.pi * 0.5 * t)  # a gliding pitch with syllable-rate bursts
    audio = 0.3 * np.sin(2 * np.pi * np.cumsum(f0) / sr) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2)
    return audio.astype(np.float32), sr, "a synthetic reference voice"


def build_checkpoint(real: bool, root: Path) -> Path:
    from tests.engine.tiny_csm import build_tiny_csm

    if not real:
        return build_tiny_csm(root / "tiny")
    from transformers import MimiConfig

    # Sesame CSM-1B: Llama-3.2-1B backbone, 100M-class depth decoder, Mimi with 32 codebooks.
    depth = dict(num_codebooks=32, backbone_hidden_size=2048, vocab_size=2051, hidden_size=1024,
                 intermediate_size=8192, num_hidden_layers=4, num_attention_heads=8, num_key_value_heads=2,
                 max_position_embeddings=33)
    overrides = dict(vocab_size=2051, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                     num_attention_heads=32, num_key_value_heads=8, codebook_pad_token_id=2050,
                     depth_decoder_config=depth, codec_config=MimiConfig(num_quantizers=32).to_dict())
    return build_tiny_csm(root / "real-dims", **overrides)


def run(args: argparse.Namespace) -> None:
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    print(f"torch threads: {args.threads or 'torch default'}")
    with tempfile.TemporaryDirectory(prefix="mynah-bench-") as tmp:
        t0 = time.perf_counter()
        if args.fake:
            model_dir, backend = Path(tmp), "tests.engine.test_worker_fake_backend:FakeBackend"
            print("fake backend: measures the worker's own overhead, not a model")
        else:
            model_dir, backend = args.model or build_checkpoint(args.real, Path(tmp)), "csm"
            print(f"checkpoint: {model_dir} ({'given' if args.model else 'built'} in "
                  f"{time.perf_counter() - t0:.1f} s)")
        worker = EngineWorker().start()
        first_audio: dict[str, float] = {}
        lock = threading.Lock()

        def on_event(ev) -> None:
            if isinstance(ev, AudioChunk) and not ev.is_silence:
                with lock:
                    first_audio.setdefault(ev.job_id, time.perf_counter())

        worker.add_listener(on_event)
        try:
            t = time.perf_counter()
            ev = worker.run_sync(LoadModel(model_dir=model_dir, model_id="bench", backend=backend,
                                           device=args.device, dtype=args.dtype), timeout=3600)
            _check(ev)
            info = ev.result
            print(f"load: {time.perf_counter() - t:.2f} s on {info.device} ({info.dtype})")
            audio, sr, transcript = reference_clip(10.0)
            ref = ReferenceSpec(key="bench-ref", text=transcript, audio=audio, sample_rate=sr)
            t = time.perf_counter()
            _check(worker.run_sync(EncodeReference(reference=ref), timeout=3600))
            print(f"encode 10 s reference: {time.perf_counter() - t:.2f} s (cached per voice afterwards)")
            firsts, totals, audio_s = [], [], []
            for i in range(args.runs):
                req = Synthesize(text=SENTENCE, voice=ref, stream_frames=args.stream_frames,
                                 params=SamplingParams(seed=i, max_audio_seconds=args.max_seconds))
                submitted = time.perf_counter()
                ev = worker.run_sync(req, timeout=3600)
                _check(ev)
                firsts.append(first_audio[req.job_id] - submitted)
                totals.append(time.perf_counter() - submitted)
                audio_s.append(ev.result.duration_s)
                print(f"run {i + 1}: first audio {firsts[-1] * 1000:.0f} ms, {audio_s[-1]:.2f} s of audio in "
                      f"{totals[-1]:.2f} s (RTF {totals[-1] / max(audio_s[-1], 1e-9):.2f})")
            print(f"first audio (submit -> first AudioChunk), median of {args.runs}: "
                  f"{statistics.median(firsts) * 1000:.0f} ms; stream_frames={args.stream_frames}")
        finally:
            worker.shutdown()


def _check(ev) -> None:
    if not isinstance(ev, Done):
        raise SystemExit(f"engine job ended with {type(ev).__name__}: {getattr(ev, 'message', '')}\n"
                         f"{getattr(ev, 'traceback', '')}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--real", action="store_true", help="real CSM-1B dimensions, random weights (slow)")
    p.add_argument("--model", type=Path, default=None, help="use this CSM folder instead of building one")
    p.add_argument("--fake", action="store_true", help="fake backend: the worker's overhead alone")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    p.add_argument("--dtype", default="auto")
    p.add_argument("--stream-frames", type=int, default=5, help="frames per audio chunk (5 = 400 ms)")
    p.add_argument("--max-seconds", type=float, default=2.0, help="cap per take (random weights never stop)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: on a shared 2-core machine more threads are much slower; "
                        "0 = torch default)")
    run(p.parse_args())


if __name__ == "__main__":
    main()
