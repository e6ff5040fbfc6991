"""Evaluation speed and memory: model load times, then scoring a 10 s take (ASR + WER, speaker
similarity, DNSMOS, QC) with the models loaded; peak memory of the process.

    python benchmarks/bench_eval.py                 # 3 repeats (about a minute on 2 cores)
    python benchmarks/bench_eval.py --repeats 10 --asr pocketsphinx
    python benchmarks/bench_eval.py --full-window   # Whisper on its 30 s window, for comparison

Prints figures; asserts nothing. On a shared CPU, the numbers move with the load (printed too).
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SPEECH = REPO / "tests" / "data" / "speech"


def _take(seconds: float) -> tuple[np.ndarray, int, str, np.ndarray, int]:
    """A `seconds`-long take of real speech with its text, and a reference of the same speaker."""
    import soundfile as sf

    if SPEECH.is_dir():
        import csv

        with open(SPEECH / "transcripts.tsv", newline="", encoding="utf-8") as f:
            texts = {r["file"]: r["transcript"] for r in csv.DictReader(f, delimiter="\t")}
        # 10.5 s of read speech whose last 0.5 s is silence: cut to 10 s, every word is still in it.
        name = "librispeech_2412_153948-0001.flac"
        x, sr = sf.read(SPEECH / name, dtype="float32")
        ref, ref_sr = sf.read(SPEECH / "librispeech_2412_153948-0000.flac", dtype="float32")
        x = np.pad(x, (0, max(0, int(seconds * sr) - len(x))))[: int(seconds * sr)]
        return x, sr, texts[name], ref, ref_sr
    # No test data: a synthetic vowel-like signal still exercises every model.
    sr = 16000
    t = np.arange(int(seconds * sr)) / sr
    x = (0.2 * np.sin(2 * np.pi * 140 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    return x, sr, "a test sentence", x.copy(), sr


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--asr", choices=["auto", "whisper", "pocketsphinx"], default="auto")
    ap.add_argument("--full-window", action="store_true",
                    help="Whisper always encodes 30 s (the default encodes the take plus 6 s)")
    args = ap.parse_args(argv)

    from engine.eval.scorer import Scorer, ScorerConfig

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (shared CPU: figures vary)")
    t0 = time.perf_counter()
    import torch  # noqa: F401 - counted separately: the worker has usually imported it already

    print(f"import torch: {time.perf_counter() - t0:.2f} s")
    scorer = Scorer(ScorerConfig(asr_backend=args.asr))
    loads = scorer.load_all()
    for name, s in loads.items():
        print(f"load {name}: {s:.2f} s")
    if args.full_window and hasattr(scorer.asr, "short_window"):
        scorer.asr.short_window = False
    window = "30 s window" if not getattr(scorer.asr, "short_window", False) else "take + 6 s window"
    print(f"ASR model: {scorer.asr.model} ({scorer.asr.name}, {window})")

    x, sr, text, ref, ref_sr = _take(args.seconds)
    scorer.embed_speaker(ref, ref_sr)  # the reference embedding is cached per voice, as in the studio
    totals, per_metric = [], {}
    for i in range(args.repeats):
        t = time.perf_counter()
        s = scorer.score(x, sr, text=text, reference=ref, reference_sr=ref_sr)
        totals.append(time.perf_counter() - t)
        for k, v in s.timings_s.items():
            per_metric.setdefault(k, []).append(v)
    print(f"score a {args.seconds:.0f} s take (ASR+WER, similarity, DNSMOS, QC), median of {args.repeats}: "
          f"{statistics.median(totals):.2f} s (min {min(totals):.2f} s)")
    for k, v in per_metric.items():
        print(f"  {k}: {statistics.median(v):.2f} s")
    print(f"  result: WER {s.wer.wer:.3f}, similarity {s.similarity:.3f}, DNSMOS OVRL {s.dnsmos.ovr:.2f} "
          f"P.808 {s.dnsmos.p808:.2f}, not scorable: {s.not_scorable or 'none'}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
