"""Synthesize workspace responsiveness: time from Generate to first sound, and the GUI thread's
longest stall while a take is generated (a 10 ms QTimer probe: any lateness is time the GUI froze).

Default: a tiny random CSM checkpoint (tests/engine/tiny_csm.py, needs transformers) installed through
"Import local folder", offscreen Qt, 2 runs. `--fake` uses the deterministic fake backend instead
(measures the GUI/bridge path alone). `--runs N`, `--text "..."` for longer runs.

    python benchmarks/bench_synth_gui.py [--fake] [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


class _ClockPlayer:
    """Notes when the first sound is handed to the audio device (no device needed)."""

    def __init__(self):
        self.first_play_at: float | None = None
        self.is_playing, self.position_s, self.duration_s, self.error = False, 0.0, 0.0, None

    def play(self, samples, sr, start_s=0.0):
        if self.first_play_at is None:
            self.first_play_at = time.perf_counter()
        self.is_playing = True

    def set_source(self, samples, sr):
        pass

    def stop(self):
        self.is_playing = False

    pause = resume = stop


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fake", action="store_true", help="fake backend instead of the tiny CSM")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--text", default="Hello there. This is a short benchmark sentence for the studio.")
    ap.add_argument("--max-seconds", type=float, default=1.5, help="cap on generated audio per take")
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="mynah-bench-"))
    os.environ["MYNAH_HOME"] = str(home)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from studio.core.library import Library
    from studio.core.paths import get_paths
    from studio.core.settings import Settings
    from studio.ui.context import StudioContext
    from studio.ui.engine_bridge import EngineBridge
    from studio.ui.synthesize.workspace import SynthesizeWorkspace

    paths = get_paths()
    ctx = StudioContext(paths=paths, library=Library(paths.library_db), settings=Settings())
    label = "fake backend"
    if args.fake:
        from tests.engine.test_worker_fake_backend import FakeBackend

        backend = FakeBackend(frame_delay_s=0.02)
        ctx.engine_bridge = EngineBridge(backend_factory=lambda name: backend)
    else:
        from engine.hub.catalog import CSM_1B
        from engine.hub.local import import_local_folder
        from tests.engine.tiny_csm import build_tiny_csm

        t = time.perf_counter()
        src = build_tiny_csm(home / "tiny-src", layout="sesame")
        import_local_folder(src, CSM_1B, paths.models)
        print(f"tiny CSM built and imported in {time.perf_counter() - t:.1f} s")
        ctx.engine_bridge = EngineBridge()
        label = "tiny random CSM (real backend, CPU)"
    ws = SynthesizeWorkspace(ctx)
    if args.fake:
        ws.controller.extra_models = [("local/fake", home, "fake")]
        ws.controller.refresh_models()
    ws.resize(1200, 800)
    ws.show()
    ws.view.text_edit.setPlainText(args.text)
    ws.view.max_seconds.setValue(args.max_seconds)
    ws.view.random_seed.setChecked(False)

    firsts, stalls, totals = [], [], []
    for run in range(args.runs):
        player = _ClockPlayer()
        ctx._player = player
        last = [time.perf_counter()]
        worst = [0.0]

        def probe():
            now = time.perf_counter()
            worst[0] = max(worst[0], now - last[0] - 0.010)
            last[0] = now
        timer = QTimer(interval=10)
        timer.timeout.connect(probe)
        done = []
        ws.controller.batchFinished.connect(lambda: done.append(1))
        timer.start()
        t0 = time.perf_counter()
        last[0] = t0
        if not ws.controller.generate():
            print("could not start:", ws.view.message.text())
            return 1
        while not done and time.perf_counter() - t0 < 300:
            app.processEvents()
            time.sleep(0.001)
        timer.stop()
        ws.controller.batchFinished.disconnect()
        takes = ws.takes.list()
        if not takes or takes[0].status != "complete":
            print(f"run {run + 1}: generation did not complete: {ws.view.message.text()}")
            return 1
        total = time.perf_counter() - t0
        first = None if player.first_play_at is None else player.first_play_at - t0
        firsts.append(first)
        stalls.append(worst[0])
        totals.append(total)
        note = " (includes model load)" if run == 0 else ""
        print(f"run {run + 1}: first sound {first if first is None else f'{first:.3f} s'}{note}, "
              f"take {takes[0].duration_s:.2f} s generated in {total:.2f} s, "
              f"longest GUI stall {1000 * worst[0]:.1f} ms")
    warm = [f for f in firsts[1:] if f is not None] or [f for f in firsts if f is not None]
    print(f"== {label}: Generate -> first sound {min(warm):.3f} s (best warm run), "
          f"longest GUI stall {1000 * max(stalls):.1f} ms over {args.runs} runs")
    ctx.engine_bridge.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
