"""Import speed of media containers (PyAV/FFmpeg) beside libsndfile's formats, same audio.

The repository's 231 s LJSpeech recording, repeated to ~11.5 minutes, written as WAV, FLAC, an
AAC .m4a (a phone memo), an Opus .webm (a browser recording) and an ALAC .m4a; each is read with
`read_audio(mono=True)` (what Voices does) and `read_audio(target_sr=16000)` (what eval and VAD
do). Prints seconds per file and x real time (best of --runs), plus what the pre-Qt platform check
costs. Asserts nothing. Usage: python benchmarks/bench_container_import.py [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
LONG = REPO / "tests" / "data" / "speech" / "ljspeech_lj_LJ001-0001_to_0032_long.flac"


def best_of(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from engine.audio.io import read_audio
    from tests.container_audio import encode

    x, sr = sf.read(LONG, dtype="float32")
    x = np.tile(x, 3)
    seconds = len(x) / sr
    d = Path(tempfile.mkdtemp(prefix="mynah-bench-containers-"))
    files = {"WAV 16-bit": d / "a.wav", "FLAC": d / "a.flac"}
    sf.write(files["WAV 16-bit"], x, sr, subtype="PCM_16")
    sf.write(files["FLAC"], x, sr, subtype="PCM_16")
    t = time.perf_counter()
    files["M4A AAC"] = encode(d / "a.m4a", x, sr, "ipod", "aac")
    files["M4A ALAC"] = encode(d / "b.m4a", x, sr, "ipod", "alac")
    from engine.audio.resample import resample

    files["WEBM Opus 48 kHz"] = encode(d / "a.webm", resample(x, sr, 48000), 48000, "webm", "libopus")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"audio: {seconds / 60:.1f} min at {sr} Hz mono (encoding took {time.perf_counter() - t:.1f} s)")
    print(f"{'file':18s} {'MB':>6s} {'read mono s':>12s} {'x real time':>12s} {'to 16 kHz s':>12s} {'x real time':>12s}")
    for name, p in files.items():
        mono = best_of(lambda: read_audio(p, mono=True), args.runs)
        k16 = best_of(lambda: read_audio(p, mono=True, target_sr=16000), args.runs)
        print(f"{name:18s} {p.stat().st_size / 1e6:6.1f} {mono:12.2f} {seconds / mono:12.0f} {k16:12.2f} "
              f"{seconds / k16:12.0f}")
    from studio.ui import platform_check

    env = {"DISPLAY": ":0"}
    cost = best_of(lambda: platform_check.check(env), max(args.runs, 5))
    print(f"platform check before Qt starts (ELF read + dlopen of the xcb plugin's libraries): {cost * 1000:.1f} ms")


if __name__ == "__main__":
    main()
