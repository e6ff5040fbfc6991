"""Read + display mel + clip analysis of a long file (default: 60 minutes, 48 kHz, stereo, 16-bit WAV).

    python benchmarks/bench_audio.py              # 60-minute file
    python benchmarks/bench_audio.py --minutes 5  # quick run

The file is generated in a temporary folder (about 690 MB for 60 minutes) and deleted afterwards.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.audio.analysis import analyze_clip  # noqa: E402
from engine.audio.io import probe, read_audio  # noqa: E402
from engine.audio.mel import mel_db  # noqa: E402


def make_file(path: Path, minutes: float, sr: int = 48000) -> None:
    """Speech-like bursts (tones with an envelope) over a low noise floor, one minute at a time."""
    rng = np.random.default_rng(0)
    t = np.arange(60 * sr) / sr
    env = (np.sin(2 * np.pi * 0.3 * t) > 0).astype(np.float32)
    minute = (0.2 * env * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    with sf.SoundFile(str(path), "w", sr, 2, subtype="PCM_16") as f:
        for _ in range(int(np.ceil(minutes))):
            noise = (rng.standard_normal((60 * sr, 2)) * 0.002).astype(np.float32)
            f.write(np.stack([minute, 0.7 * minute], 1) + noise)


class Timer:
    """Wall and CPU seconds: on a shared machine CPU time is what an idle machine's wall time would be."""

    def __enter__(self):
        self.w0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.w0, time.process_time() - self.c0

    def __str__(self):
        return f"{self.wall:7.2f} s wall {self.cpu:7.2f} s CPU"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--fmax", type=float, default=8000.0, help="display mel upper frequency")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mynah-bench-") as d:
        path = Path(d) / "long.wav"
        t0 = time.perf_counter()
        make_file(path, args.minutes)
        print(f"generated {args.minutes:.0f} min 48 kHz stereo PCM_16: {path.stat().st_size / 1e6:.0f} MB "
              f"in {time.perf_counter() - t0:.1f} s")
        with Timer() as t:
            info = probe(path)
        print(f"probe:            {1e3 * t.wall:8.1f} ms  ({info.duration_s / 60:.1f} min)")
        with Timer() as t_read:
            audio = read_audio(path)
        print(f"read (mono f32):    {t_read}   warnings: {len(audio.warnings)}")
        with Timer() as t_mel:
            mel = mel_db(audio.samples, audio.sample_rate, fmax=args.fmax)
        print(f"display mel:        {t_mel}   {mel.db.shape[0]}x{mel.db.shape[1]} (hop {mel.hop_s * 1e3:.0f} ms, "
              f"fmax {mel.fmax:.0f} Hz)")
        with Timer() as t:
            mel_w = mel_db(audio.samples, audio.sample_rate, fmax=args.fmax, max_frames=4000)
        print(f"overview mel:       {t}   {mel_w.db.shape[0]}x{mel_w.db.shape[1]}")
        with Timer() as t:
            full = mel_db(audio.samples, audio.sample_rate)
        print(f"full-band mel:      {t}   (fmax {full.fmax:.0f} Hz: what fmax=None costs)")
        del full
        with Timer() as t:
            rep = analyze_clip(audio.samples, audio.sample_rate)
        print(f"analysis:           {t}   LUFS {rep.lufs:.1f}, SNR {rep.snr_db:.0f} dB, notes {rep.notes}")
        print(f"read + display mel: {t_read.wall + t_mel.wall:.2f} s wall, {t_read.cpu + t_mel.cpu:.2f} s CPU "
              "(target: under 10 s for 60 min)")
        del audio, mel, mel_w
        # The display-only path: decode + downmix + resample to 2*fmax while reading, then mel.
        with Timer() as t_low:
            low = read_audio(path, target_sr=int(2 * args.fmax))
        with Timer() as t_low_mel:
            low_mel = mel_db(low.samples, low.sample_rate)
        print(f"read at {low.sample_rate} Hz:   {t_low}; then mel {t_low_mel} ({low_mel.n_frames} frames)")
        print(f"display path total: {t_low.wall + t_low_mel.wall:.2f} s wall, {t_low.cpu + t_low_mel.cpu:.2f} s CPU")
        print(f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
