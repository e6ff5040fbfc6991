"""Read + display mel + clip analysis of a long file (default: 60 minutes, 48 kHz, stereo, 16-bit WAV).

    python benchmarks/bench_audio.py              # 60-minute file
    python benchmarks/bench_audio.py --minutes 5  # quick run

The file is generated in a temporary folder (about 690 MB for 60 minutes) and deleted afterwards.
"""
from __future__ import annotations

import argparse
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
        t0 = time.perf_counter()
        info = probe(path)
        print(f"probe:            {1e3 * (time.perf_counter() - t0):8.1f} ms  ({info.duration_s / 60:.1f} min)")
        t0 = time.perf_counter()
        audio = read_audio(path)
        t_read = time.perf_counter() - t0
        print(f"read (mono f32):  {t_read:8.2f} s   warnings: {len(audio.warnings)}")
        t0 = time.perf_counter()
        mel = mel_db(audio.samples, audio.sample_rate, fmax=args.fmax)
        t_mel = time.perf_counter() - t0
        print(f"display mel:      {t_mel:8.2f} s   {mel.db.shape[0]}x{mel.db.shape[1]} (hop {mel.hop_s * 1e3:.0f} ms, "
              f"fmax {mel.fmax:.0f} Hz)")
        t0 = time.perf_counter()
        mel_w = mel_db(audio.samples, audio.sample_rate, fmax=args.fmax, max_frames=4000)
        print(f"overview mel:     {time.perf_counter() - t0:8.2f} s   {mel_w.db.shape[0]}x{mel_w.db.shape[1]}")
        t0 = time.perf_counter()
        rep = analyze_clip(audio.samples, audio.sample_rate)
        t_an = time.perf_counter() - t0
        print(f"analysis:         {t_an:8.2f} s   LUFS {rep.lufs:.1f}, SNR {rep.snr_db:.0f} dB, notes {rep.notes}")
        print(f"read + display mel: {t_read + t_mel:.2f} s (target: under 10 s for 60 min)")
        del audio, mel, mel_w
        # The display-only path: decode + downmix + resample to 2*fmax while reading, then mel.
        t0 = time.perf_counter()
        low = read_audio(path, target_sr=int(2 * args.fmax))
        t_low = time.perf_counter() - t0
        mel = mel_db(low.samples, low.sample_rate)
        t_low_mel = time.perf_counter() - t0 - t_low
        print(f"read at {low.sample_rate} Hz: {t_low:6.2f} s; mel {t_low_mel:.2f} s; "
              f"total {t_low + t_low_mel:.2f} s ({mel.db.shape[1]} frames)")
        print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
