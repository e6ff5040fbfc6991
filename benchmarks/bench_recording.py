"""Record through the real PulseAudio loopback while playing a known signal; print what was lost.

    python benchmarks/bench_recording.py              # 10 minutes (as the issue asks)
    python benchmarks/bench_recording.py --minutes 1  # quick run

Needs the private PulseAudio null sink (`make audio-server`): the Player plays into the default
output (the sink), the Recorder records the default input (the sink's monitor).
Lost samples = frames PortAudio delivered to the callback - frames the writer put in the file
(should be 0); overflows = callback blocks PortAudio flagged as input overflow (audio dropped
before it reached us). The played signal's audible length in the file shows playback underruns.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _gaps(x: np.ndarray, sr: int) -> int:
    """Silent runs (5 ms frames under -30 dBFS) inside the tone: the notches, plus any dropout."""
    hop = sr // 200
    frames = x[: len(x) // hop * hop].reshape(-1, hop)
    loud = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12) > -30
    idx = np.flatnonzero(loud)
    if len(idx) == 0:
        return 0
    inside = loud[idx[0]:idx[-1] + 1]
    return int(np.sum(inside[1:] & ~inside[:-1]))  # silent->loud transitions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--samplerate", type=int, default=48000)
    ap.add_argument("--channels", type=int, default=1)
    args = ap.parse_args()

    # The null sink is one shared loopback: hold the same lock as the tests' pulse_sink fixture.
    import fcntl

    lock = open("/tmp/mynah-pulse-sink.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    with tempfile.TemporaryDirectory(prefix="mynah-bench-rec-") as home:
        os.environ["MYNAH_HOME"] = home
        import soundfile as sf

        from studio.core.player import Player
        from studio.core.recorder import Recorder

        sr = args.samplerate
        seconds = args.minutes * 60
        # Known signal: a 440 Hz tone with a 20 ms silent notch every second (to see dropouts).
        t = np.arange(int(seconds * sr)) / sr
        sig = (0.25 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        notch = (t % 1.0) < 0.02
        sig[notch] = 0.0

        rec = Recorder(Path(home) / "out", samplerate=sr, channels=args.channels, name="bench")
        cpu0 = time.process_time()
        rec.start()
        while rec.frames_written == 0:
            time.sleep(0.01)
        t0 = time.monotonic()
        player = Player()
        player.play(sig, sr)
        last_print = t0
        while not player.wait(0.5):
            now = time.monotonic()
            if now - last_print >= 30:
                print(f"  {now - t0:5.0f} s: written {rec.frames_written} frames, overflows {rec.overflows}",
                      flush=True)
                last_print = now
            if rec.error:
                break
        time.sleep(0.5)
        elapsed = time.monotonic() - t0
        path = rec.stop()
        cpu = time.process_time() - cpu0

        info = sf.info(str(path))
        x, _ = sf.read(str(path), dtype="float32")
        mono = x if x.ndim == 1 else x.mean(axis=1)
        print(f"recorded {args.minutes:g} min at {sr} Hz x{args.channels} through PulseAudio loopback")
        print(f"frames delivered by PortAudio: {rec.frames_captured}")
        print(f"frames written to file:        {info.frames} (recorder count {rec.frames_written})")
        print(f"lost samples (delivered - written): {rec.frames_captured - info.frames}")
        print(f"wall clock: {elapsed:.1f} s after the first block = {int(elapsed * sr)} frames expected, "
              f"file has {info.frames} ({info.frames - int(elapsed * sr):+d}: start-up and stop margins)")
        print(f"input overflows: {rec.overflows}; playback underflows: {player.underflows}; error: {rec.error}")
        print(f"gaps in the recorded tone: {_gaps(mono, sr)}; notches in the played signal: {_gaps(sig, sr)} "
              "(more gaps = dropouts)")
        print(f"recorder process CPU: {cpu:.1f} s ({100 * cpu / max(elapsed, 1e-9):.1f} % of one core); "
              f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
