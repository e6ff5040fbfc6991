"""Launch time: subprocess start of `python -m studio` to the main window's first show.

Prints each run and the median (target: window visible within 1.5 s). Each run gets a fresh
MYNAH_HOME so nothing touches the user's data. Usage: python benchmarks/bench_launch.py [--runs N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def launch_once() -> tuple[float, float, bool, float]:
    home = tempfile.mkdtemp(prefix="mynah-bench-launch-")
    env = {**os.environ, "MYNAH_HOME": home, "MYNAH_SMOKE_EXIT": "50",
           "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "studio"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    shown, inside, torch_loaded, ready = None, float("nan"), True, float("nan")
    for line in proc.stdout:
        if line.startswith("MYNAH_SHOWN"):
            shown = time.perf_counter() - t0
            fields = dict(kv.split("=", 1) for kv in line.split()[1:])
            inside, torch_loaded = float(fields["t"]), fields["torch"] == "True"
        elif line.startswith("MYNAH_READY"):
            ready = time.perf_counter() - t0
            break
    proc.wait(timeout=60)
    if shown is None:
        raise SystemExit(f"the app exited with {proc.returncode} before showing its window")
    return shown, inside, torch_loaded, ready


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    launch_once()  # warm the OS file cache, as a second launch would be
    walls, readies = [], []
    for i in range(args.runs):
        wall, inside, torch_loaded, ready = launch_once()
        walls.append(wall)
        readies.append(ready)
        print(f"run {i + 1}: window shown {wall:.3f} s after spawn (run_gui: {inside:.3f} s), "
              f"Voices workspace ready {ready:.3f} s, torch imported before show: {torch_loaded}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"launch to first show: median {statistics.median(walls):.3f} s over {args.runs} runs "
          f"(min {min(walls):.3f}, max {max(walls):.3f}); target 1.5 s; load average {load:.1f} on "
          f"{os.cpu_count()} CPUs")
    print(f"launch to Voices workspace ready (waveform/mel widgets built): median {statistics.median(readies):.3f} s")


if __name__ == "__main__":
    main()
