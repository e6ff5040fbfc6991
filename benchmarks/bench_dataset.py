"""Dataset figures: segmenting + transcribing the 231 s LJSpeech recording, and how smooth the GUI
stays while a take is recorded and QC runs.

    python benchmarks/bench_dataset.py                 # everything (a few minutes on 2 shared cores)
    python benchmarks/bench_dataset.py --no-asr        # segmentation only
    python benchmarks/bench_dataset.py --beam 5        # Whisper beam search as the GUI uses
    python benchmarks/bench_dataset.py --skip-gui
    python benchmarks/bench_dataset.py --gui-only      # only the GUI-stall figure (about 20 s)
    python benchmarks/bench_dataset.py --gui-only --prompts 1132 --earlier-takes 1000   # a big session

Timings depend on the machine and on what else runs on it; say which when quoting them.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SPEECH = REPO / "tests" / "data" / "speech"
LONG = SPEECH / "ljspeech_lj_LJ001-0001_to_0032_long.flac"


def bench_segment(use_asr: bool, beam: int) -> None:
    import csv

    import soundfile as sf

    from engine.audio import segment as S

    x, sr = sf.read(str(LONG), dtype="float32")
    dur = len(x) / sr
    t = time.perf_counter()
    segs, _ = S.segment_audio(x, sr)
    t_seg = time.perf_counter() - t
    z = (x == 0).astype(np.int8)
    d = np.diff(np.concatenate([[0], z, [0]]))
    gaps = np.array([(a + b) / 2 / sr for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1))
                     if (b - a) / sr > 0.25])
    cuts = [(a.end_s + b.start_s) / 2 for a, b in zip(segs, segs[1:])]
    hits = sum(np.abs(gaps - c).min() < 0.25 for c in cuts)
    lens = [s.duration_s for s in segs]
    print(f"segmentation of {dur:.0f} s: {t_seg:.2f} s wall (RTF {t_seg / dur:.4f}); {len(segs)} segments "
          f"{min(lens):.1f}-{max(lens):.1f} s; {hits}/{len(cuts)} cuts ({hits / max(1, len(cuts)):.0%}) on the "
          f"{len(gaps)} sentence gaps")
    if not use_asr:
        return
    from engine.eval.wer import compute_wer
    from studio.core.dataset_qc import find_transcriber

    tr = find_transcriber(beam_size=beam)
    if tr is None:
        print("transcription: no ASR available")
        return
    t = time.perf_counter()
    tr(np.zeros(16000, np.float32), 16000)  # model load
    t_load = time.perf_counter() - t
    t = time.perf_counter()
    out = S.transcribe_segments(x, sr, segs, tr)
    t_asr = time.perf_counter() - t
    with open(SPEECH / "transcripts.tsv", encoding="utf-8") as f:
        ref = next(r["transcript"] for r in csv.DictReader(f, delimiter="\t") if r["file"] == LONG.name)
    w = compute_wer(ref, " ".join(s.text for s in out)).wer
    print(f"transcription (Whisper checkpoint, beam {beam}): load {t_load:.1f} s, {t_asr:.1f} s wall "
          f"(RTF {t_asr / dur:.3f}); joined WER {w:.1%}")
    print(f"segment + transcribe total: {t_seg + t_asr:.1f} s for {dur:.0f} s (RTF {(t_seg + t_asr) / dur:.3f})")


def _gui_thread_cpu_wait_ms() -> float | None:
    """How long this (GUI) thread has waited for a CPU in total (Linux schedstat), else None."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as f:
            return int(f.read().split()[1]) / 1e6
    except (OSError, IndexError, ValueError):
        return None


def _timer_probe(app, seconds: float, during=None) -> tuple[float, float, float, float | None]:
    """Run a 10 ms QTimer for `seconds` (calling `during(elapsed)` each tick); returns the
    (median, p99, max) tick interval in ms and the longest interval *less the time the GUI thread
    spent waiting for a CPU* (None where the OS does not say). Late ticks = the GUI thread was busy,
    blocked (the GIL, a lock) or, on a loaded machine, not scheduled: the last figure leaves that
    last cause out, so it stays meaningful while other work shares the cores."""
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer

    ticks: list[float] = []
    waits: list[float | None] = []
    clock = QElapsedTimer()
    clock.start()
    timer = QTimer(interval=10)
    timer.setTimerType(Qt.PreciseTimer)

    def tick():
        ticks.append(clock.nsecsElapsed() / 1e6)
        waits.append(_gui_thread_cpu_wait_ms())
        if during is not None:
            during(ticks[-1] / 1000)
    timer.timeout.connect(tick)
    timer.start()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    iv = np.diff(ticks)
    own = None if None in waits else float((iv - np.diff(np.array(waits, dtype=float))).max())
    return float(np.median(iv)), float(np.percentile(iv, 99)), float(iv.max()), own


def _own(own: float | None) -> str:
    return "" if own is None else f"; less waiting for a CPU: max {own:.1f} ms"


def _add_earlier_takes(store, dataset_id: int, n: int) -> None:
    """n finished takes with QC already stored (a session well under way), all pointing at one short
    WAV: what the GUI thread does after a take then scales with the session as it would."""
    import json

    import soundfile as sf

    wav = store.takes_folder(dataset_id) / "earlier.wav"
    sf.write(str(wav), np.zeros(48000, np.float32), 48000)
    qc = {"duration_s": 3.2, "peak_dbfs": -3.0, "clipped_samples": 0, "lufs": -20.0, "noise_floor_dbfs": -70.0,
          "snr_db": 40.0, "lead_silence_s": 0.3, "trail_silence_s": 0.4, "words": 8, "words_per_s": 3.0,
          "wer": 0.0, "hypothesis": "", "flags": [], "notes": []}
    prompts = store.prompts(dataset_id)[1:n + 1]  # the first prompt is the one the benchmark records
    now = time.strftime("%Y-%m-%dT%H:%M:%S")
    with store.library.transaction() as c:
        c.executemany("INSERT INTO dataset_takes (dataset_id, prompt_id, status, name, path, is_best, duration_s, "
                      "sample_rate, qc, created) VALUES (?,?,?,?,?,?,?,?,?,?)",
                      [(dataset_id, p.id, "done", f"{p.key}_take1", str(wav), 1, 3.2, 48000, json.dumps(qc), now)
                       for p in prompts])


def bench_gui(record_s: float, n_prompts: int = 10, earlier_takes: int = 0) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["MYNAH_HOME"] = tempfile.mkdtemp(prefix="mynah-bench-")
    from PySide6.QtWidgets import QApplication

    from engine.text.prompts import builtin_script
    from studio.core.library import Library
    from studio.core.paths import get_paths
    from studio.core.settings import Settings
    from studio.ui.context import StudioContext
    from studio.ui.dataset.workspace import DatasetWorkspace

    app = QApplication.instance() or QApplication([])
    paths = get_paths()
    ctx = StudioContext(paths=paths, library=Library(paths.library_db), settings=Settings())
    ws = DatasetWorkspace(ctx)
    ws.resize(1200, 760)
    ws.show()
    ds = ws.store.create("bench", sample_rate=48000)
    ws.store.add_prompts(ds.id, builtin_script().prompts[:n_prompts])
    _add_earlier_takes(ws.store, ds.id, min(earlier_takes, n_prompts - 1))
    ws.open_dataset(ds.id)
    print(f"dataset: {n_prompts} prompts, {min(earlier_takes, n_prompts - 1)} earlier takes")
    med, p99, mx, own = _timer_probe(app, 3.0)
    print(f"QTimer jitter probe (10 ms timer, idle workspace): median {med:.1f} ms, p99 {p99:.1f} ms, max {mx:.1f} ms"
          + _own(own))
    tp = ws.teleprompter
    tp._stop_monitor()
    state = {"phase": "start"}
    calls: list[float] = []  # how long each start/stop took on the GUI thread (ms)
    real_toggle = tp.toggle_record

    def timed_toggle():
        t0 = time.perf_counter()
        real_toggle()
        calls.append((time.perf_counter() - t0) * 1000)
    tp.toggle_record = timed_toggle

    def during(t: float) -> None:
        # take 1 records for record_s, then stops (QC with ASR starts on the analysis thread) and
        # take 2 records while that QC runs.
        if state["phase"] == "start":
            tp.toggle_record()
            state["phase"] = "rec1"
        elif state["phase"] == "rec1" and t > record_s:
            tp.toggle_record()
            tp.toggle_record()
            state["phase"] = "rec2"
        elif state["phase"] == "rec2" and t > 2 * record_s:
            tp.toggle_record()
            state["phase"] = "done"
    try:
        med, p99, mx, own = _timer_probe(app, 2 * record_s + 0.5, during)
    except Exception as exc:  # no input device on this machine
        print(f"GUI stall while recording: skipped ({exc})")
        return
    print("start/stop calls on the GUI thread (ms): " + ", ".join(f"{c:.0f}" for c in calls))
    if tp.warning.text():
        print(f"(recorder note: {tp.warning.text()})")
    print(f"GUI while recording 2 takes of {record_s:.0f} s and running QC (+ASR) on the first: "
          f"10 ms timer median {med:.1f} ms, p99 {p99:.1f} ms, max {mx:.1f} ms "
          f"(longest GUI stall {max(0.0, mx - 10):.0f} ms; target <= 50 ms)")
    if own is not None:
        print(f"  the same less the GUI thread's waits for a CPU (other processes on the cores): max interval "
              f"{own:.1f} ms (longest stall caused inside the app {max(0.0, own - 10):.0f} ms)")
    t = time.monotonic()
    while ws.qc.busy and time.monotonic() - t < 120:
        app.processEvents()
        time.sleep(0.01)
    takes = ws.store.takes(ds.id)
    failed = [x.qc["error"] for x in takes if "error" in x.qc]
    print(f"takes registered: {len(takes)}; QC done on {sum(1 for x in takes if x.qc and 'error' not in x.qc)}"
          + (f"; QC failed on {len(failed)}: {failed[0]}" if failed else ""))
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    ws.shutdown()
    from studio.ui.widgets.background import shutdown_pools

    shutdown_pools()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-asr", action="store_true")
    ap.add_argument("--beam", type=int, default=1)
    ap.add_argument("--skip-gui", action="store_true")
    ap.add_argument("--gui-only", action="store_true", help="only the GUI-stall figure")
    ap.add_argument("--record-seconds", type=float, default=4.0)
    ap.add_argument("--prompts", type=int, default=10, help="prompts in the benchmark dataset (CMU ARCTIC, max 1132)")
    ap.add_argument("--earlier-takes", type=int, default=0, help="finished takes already in the dataset")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} CPU cores (shared with other work right now: figures are pessimistic); "
          f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if not args.gui_only:
        bench_segment(not args.no_asr, args.beam)
    if not args.skip_gui:
        bench_gui(args.record_seconds, args.prompts, args.earlier_takes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
