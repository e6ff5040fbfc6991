"""What the AI-watermark check adds to a dataset take's QC, in the QC process (studio.core.qc_worker).

    python benchmarks/bench_qc_watermark.py            # the 20 shortest clips of tests/data/speech
    python benchmarks/bench_qc_watermark.py --clips 40

Prints: the QC process's warm-up without and with the watermark net (torch import + net load), then
the median QC time per take without and with the check (no ASR), side by side on the same takes, and
the machine's load average. Asserts nothing; timings move with the load of a shared CPU.
"""
from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SPEECH = REPO / "tests" / "data" / "speech"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=20)
    args = ap.parse_args()
    import soundfile as sf

    from studio.core.qc_worker import QcWorker

    with open(SPEECH / "transcripts.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    clips = sorted(((SPEECH / r["file"], r.get("transcript", "")) for r in rows),
                   key=lambda c: sf.info(str(c[0])).duration)[: args.clips]
    seconds = sum(sf.info(str(p)).duration for p, _ in clips)
    print(f"{len(clips)} clips, {seconds:.0f} s of speech; load average {os.getloadavg()[0]:.1f}")
    w = QcWorker()
    try:
        t = time.perf_counter()
        w.warm_up(use_asr=False)
        plain_warm = time.perf_counter() - t
        t = time.perf_counter()
        w.warm_up(use_asr=False, watermark=True)
        net_warm = time.perf_counter() - t
        print(f"QC process warm-up: {plain_warm:.2f} s; then torch + watermark net: {net_warm:.2f} s more")
        times = {False: [], True: []}
        for path, text in clips:
            for mark in (False, True):
                t = time.perf_counter()
                w.measure(path, text, use_asr=False, watermark=mark)
                times[mark].append(time.perf_counter() - t)
        off, on = statistics.median(times[False]), statistics.median(times[True])
        per_min = (sum(times[True]) - sum(times[False])) / (seconds / 60)
        print(f"QC per take (median): {off * 1000:.0f} ms without the check, {on * 1000:.0f} ms with it; "
              f"the check costs {per_min:.2f} s per minute of audio")
    finally:
        w.close()
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
