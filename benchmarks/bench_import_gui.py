"""Importing a long file through the GUI: time to waveform, time to mel, and the worst GUI stall.

Writes a synthetic 48 kHz stereo WAV (default 60 minutes, ~690 MB in a temp dir), imports it into
the Voices workspace offscreen, and measures with a QTimer jitter probe (5 ms period) how long the
GUI thread was ever unresponsive meanwhile. Targets: waveform < 2 s, mel < 10 s, stall < 50 ms.
"Waveform shown" is the controller's `waveformShown`: the exact envelope of the WHOLE file has been
handed to the plot (a 16-bit file's overview pass, before its samples are decoded; for other
files, the imported clip). The clip is playable/editable at `importFinished`, printed too.
The stall during import is probed until the mel detail is in (overview first on long files).
Usage: python benchmarks/bench_import_gui.py [--minutes 60] [--keep FILE]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install


def write_long_file(path: Path, minutes: float, sr: int = 48000) -> None:
    """Speech-like bursts (modulated tones + noise) so waveform and mel have real structure."""
    rng = np.random.default_rng(0)
    block_s = 10
    t = np.arange(block_s * sr) / sr
    env = (0.5 + 0.5 * np.sin(2 * np.pi * 3.1 * t)) * (np.sin(2 * np.pi * 0.21 * t) > -0.3)
    blocks = []
    for i in range(6):  # a minute of distinct material, repeated (writing stays fast)
        f0 = 110 + 40 * np.sin(2 * np.pi * 0.05 * (t + i * block_s))
        tone = np.sin(2 * np.pi * np.cumsum(f0) / sr) + 0.3 * np.sin(4 * np.pi * np.cumsum(f0) / sr)
        x = (0.3 * env * tone + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
        blocks.append(np.stack([x, 0.8 * x], axis=1))
    with sf.SoundFile(path, "w", sr, 2, subtype="PCM_16") as f:
        for i in range(int(minutes * 60 / block_s)):
            f.write(blocks[i % len(blocks)])


class JitterProbe:
    """A 5 ms QTimer; the longest gap between its ticks is the longest GUI stall."""

    def __init__(self):
        from PySide6.QtCore import QTimer

        self.max_gap = 0.0
        self.last = time.perf_counter()
        self.timer = QTimer(interval=5)
        self.timer.timeout.connect(self._tick)

    def start(self):
        self.last = time.perf_counter()
        self.max_gap = 0.0
        self.timer.start()

    def _tick(self):
        now = time.perf_counter()
        self.max_gap = max(self.max_gap, now - self.last)
        self.last = now


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--keep", type=Path, help="reuse/keep the test file at this path")
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = Path(tempfile.mkdtemp(prefix="mynah-bench-import-"))
    os.environ["MYNAH_HOME"] = str(tmp / "home")
    path = args.keep or tmp / f"long_{args.minutes:g}min_48k_stereo.wav"
    if not path.exists():
        t = time.perf_counter()
        write_long_file(path, args.minutes)
        print(f"wrote {path.name}: {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t:.1f} s")

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["bench"])
    from studio.ui.app import GIL_SWITCH_INTERVAL_S, create_window

    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)  # as run_gui does
    from studio.ui.widgets.background import analysis_pool, shutdown_pools

    w = create_window()
    w.resize(1400, 900)
    w.show()
    ws = w.workspace("Voices")
    c = ws.controller
    app.processEvents()
    # A user takes a few seconds to pick a file: let the workspace's one-off start-up work (device
    # list, scipy imports warmed up off the GUI thread) finish first, and say how long it took.
    from PySide6.QtCore import QThreadPool

    t_warm = time.perf_counter()
    while (analysis_pool().activeThreadCount() or QThreadPool.globalInstance().activeThreadCount()) \
            and time.perf_counter() - t_warm < 30:
        app.processEvents()
        time.sleep(0.005)
    print(f"workspace start-up work (device list, scipy warm-up) done after {time.perf_counter() - t_warm:.2f} s")
    marks: dict[str, float] = {}
    c.waveformShown.connect(lambda: marks.setdefault("waveform", time.perf_counter()))
    c.importFinished.connect(lambda p, ok: marks.setdefault("imported", time.perf_counter()))
    c.previewShown.connect(lambda: marks.setdefault("preview", time.perf_counter()))
    c.melReady.connect(lambda: marks.setdefault("mel", time.perf_counter()))
    c.melDetailReady.connect(lambda: marks.setdefault("mel_detail", time.perf_counter()))
    probe = JitterProbe()
    probe.start()
    t0 = time.perf_counter()
    ws.import_files([path])
    while "mel_detail" not in marks and time.perf_counter() - t0 < 600:
        app.processEvents()
        time.sleep(0.001)
    stall_import = probe.max_gap
    # Zoom/pan across the whole file as a user would, still probing the GUI thread.
    probe.start()
    dur = ws.view.waveform.duration_s
    for lo, hi in ((0, dur), (dur / 2, dur / 2 + 30), (dur / 3, dur / 3 + 0.5), (0, dur)):
        ws.view.waveform.zoom_to(lo, hi)
        end = time.perf_counter() + 0.3
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)
    stall_zoom = probe.max_gap
    probe.timer.stop()
    ok = c.state is not None
    print(f"file: {args.minutes:g} min, 48 kHz stereo WAV ({path.stat().st_size / 1e6:.0f} MB); imported: {ok}")
    if "preview" in marks:
        print(f"waveform started growing (exact envelope of what is read) after {marks['preview'] - t0:.2f} s")
    if "waveform" in marks:
        print(f"exact waveform of the whole file shown after {marks['waveform'] - t0:.2f} s (target 2 s)")
    if "imported" in marks:
        print(f"clip decoded (playable, editable) after {marks['imported'] - t0:.2f} s")
    if "mel" in marks:
        print(f"mel spectrogram of the whole file shown after {marks['mel'] - t0:.2f} s (target 10 s)")
    if "mel_detail" in marks:
        print(f"10 ms-hop mel detail (for zooming in) in after {marks['mel_detail'] - t0:.2f} s")
    print(f"longest GUI stall during import: {stall_import * 1000:.0f} ms (target 50 ms)")
    print(f"longest GUI stall while zooming/panning the whole file: {stall_zoom * 1000:.0f} ms")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    w.close()
    shutdown_pools()
    analysis_pool().waitForDone(600000)
    w.ctx.library.close()
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
