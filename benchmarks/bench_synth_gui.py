"""Synthesize workspace responsiveness: time from Generate to first sound, and the GUI thread's
longest stall while a take is generated (a 10 ms QTimer probe: any lateness is time the GUI froze).

A stall is either the GUI thread busy (its own work) or starved (the engine thread holding the GIL,
other processes holding the CPU). So every event the GUI thread dispatches is timed too
(QApplication.notify): "busiest event" is the GUI thread's own worst piece of work, named by event
type and receiver; stall minus that is starvation. The load average is printed with each run,
since on a shared machine it moves the stall figure more than the code does. Python's cyclic GC
stops every thread, so the longest collection is printed as well. After each take the GUI is probed
for `--settle` seconds more (the take's spectrogram is computed then), reported apart.
The bench sets sys.setswitchinterval as the app does. `--gc-freeze` tries gc.freeze() after start-up
(a proposal for app.py: collections then skip every start-up object). `--verbose` lists each run's
5 busiest GUI events and what other threads did when a sampling thread was starved.

Default: a tiny random CSM checkpoint (tests/engine/tiny_csm.py, needs transformers) installed through
"Import local folder", offscreen Qt, 2 runs. `--fake` uses the deterministic fake backend instead
(measures the GUI/bridge path alone). `--runs N`, `--text "..."` for longer runs.

    python benchmarks/bench_synth_gui.py [--fake] [--runs 3] [--gc-freeze] [--verbose]
"""
from __future__ import annotations

import argparse
import heapq
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


def _event_timer_app(QApplication):
    """A QApplication that times every event it dispatches on the GUI thread (outermost only)."""
    from PySide6.QtCore import QEvent

    class TimedApp(QApplication):
        def __init__(self, argv):
            super().__init__(argv)
            self.depth = 0
            self.label = ""  # the engine event being dispatched, if any
            self.recording = False
            # min-heap of the 5 longest: (wall s, GUI thread CPU s, what); wall > CPU = preempted meanwhile
            self.worst: list[tuple[float, float, str]] = []

        def notify(self, receiver, event):
            if not self.recording or self.depth:
                return super().notify(receiver, event)
            self.depth += 1
            self.label = ""
            t, c = time.perf_counter(), time.thread_time()
            try:
                return super().notify(receiver, event)
            finally:
                dt, cpu = time.perf_counter() - t, time.thread_time() - c
                self.depth -= 1
                if len(self.worst) < 5 or dt > self.worst[0][0]:
                    try:
                        what = f"{QEvent.Type(event.type()).name} -> {type(receiver).__name__}{self.label}"
                    except Exception:  # an event type Qt has no name for
                        what = f"event {int(event.type())} -> {type(receiver).__name__}"
                    heapq.heappush(self.worst, (dt, cpu, what))
                    if len(self.worst) > 5:
                        heapq.heappop(self.worst)

    return TimedApp


def _gil_sampler(stop, found: list) -> None:
    """--verbose: a thread that wakes every 2 ms; when it was kept from running for > 60 ms (the
    GIL or the CPU was held), note what the other threads were doing the moment it got back."""
    import threading
    import traceback

    me = threading.get_ident()
    last = time.perf_counter()
    while not stop.is_set():
        time.sleep(0.002)
        now = time.perf_counter()
        if now - last > 0.060:
            stacks = []
            for ident, frame in sys._current_frames().items():
                if ident != me and ident != threading.main_thread().ident:
                    stacks.append("".join(traceback.format_stack(frame, limit=4)))
            found.append((now - last, stacks))
        last = now


class _GcClock:
    """Python's cyclic GC stops every thread while it runs (whichever thread triggered it): time it."""

    def __init__(self):
        import gc

        self.longest, self.count, self._t = 0.0, 0, 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._t = time.perf_counter()
        else:
            self.count += 1
            self.longest = max(self.longest, time.perf_counter() - self._t)

    def reset(self) -> None:
        self.longest, self.count = 0.0, 0


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fake", action="store_true", help="fake backend instead of the tiny CSM")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--text", default="Hello there. This is a short benchmark sentence for the studio.")
    ap.add_argument("--gc-freeze", action="store_true",
                    help="gc.freeze() once the window is built (a proposal for app start-up: full "
                         "collections then skip every start-up object, which shortens GC pauses)")
    ap.add_argument("--settle", type=float, default=2.0,
                    help="seconds probed after each take (its spectrogram), before the next run")
    ap.add_argument("--verbose", action="store_true", help="list the 5 busiest GUI events of each run")
    ap.add_argument("--max-seconds", type=float, default=1.5, help="cap on generated audio per take")
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="mynah-bench-"))
    os.environ["MYNAH_HOME"] = str(home)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = _event_timer_app(QApplication)(["bench"])
    from studio.ui.app import GIL_SWITCH_INTERVAL_S

    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)  # as run_gui does: the engine thread yields the GIL often
    from studio.core.library import Library
    from studio.core.paths import get_paths
    from studio.core.settings import Settings
    from studio.ui.context import StudioContext
    from studio.ui.engine_bridge import EngineBridge

    dispatch = EngineBridge._dispatch

    def named_dispatch(self, event):  # so the busiest-event list names the engine event, not just the bridge
        app.label = f" ({type(event).__name__})"  # read by notify when this event's dispatch ends
        dispatch(self, event)
    EngineBridge._dispatch = named_dispatch
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
    t = time.perf_counter()
    while time.perf_counter() - t < 0.5:  # the window's first paint is not part of a generation
        app.processEvents()
        time.sleep(0.01)
    if args.gc_freeze:
        import gc

        gc.collect()
        gc.freeze()

    firsts, stalls, totals, busiest = [], [], [], []
    gc_clock = _GcClock()
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
        app.worst = []
        gc_clock.reset()
        app.recording = True
        if args.verbose:
            import threading

            stop, starved = threading.Event(), []
            threading.Thread(target=_gil_sampler, args=(stop, starved), daemon=True).start()
        timer.start()
        t0 = time.perf_counter()
        last[0] = t0
        if not ws.controller.generate():
            print("could not start:", ws.view.message.text())
            return 1
        while not done and time.perf_counter() - t0 < 300:
            app.processEvents()
            time.sleep(0.001)
        during, total = worst[0], time.perf_counter() - t0
        app.recording = False
        busy = sorted(app.worst, reverse=True)
        gc_longest, gc_count = gc_clock.longest, gc_clock.count
        # Then the user listens: the finished take's spectrogram is computed in the background
        # (the first time, its module imports hold the GIL). Probed apart, and so that the next
        # run starts from an idle GUI as a real second click would.
        worst[0], t1 = 0.0, time.perf_counter()
        while time.perf_counter() - t1 < args.settle:
            app.processEvents()
            time.sleep(0.001)
        after = worst[0]
        worst[0] = during
        timer.stop()
        ws.controller.batchFinished.disconnect()
        takes = ws.takes.list()
        if not takes or takes[0].status != "complete":
            print(f"run {run + 1}: generation did not complete: {ws.view.message.text()}")
            return 1
        first = None if player.first_play_at is None else player.first_play_at - t0
        firsts.append(first)
        stalls.append(worst[0])
        totals.append(total)
        busiest.append(busy[0][0] if busy else 0.0)
        busiest_cpu = max((b[1] for b in busy), default=0.0)
        note = " (includes model load)" if run == 0 else ""
        print(f"run {run + 1}: first sound {first if first is None else f'{first:.3f} s'}{note}, "
              f"take {takes[0].duration_s:.2f} s generated in {total:.2f} s, "
              f"longest GUI stall {1000 * worst[0]:.1f} ms, busiest GUI event {1000 * busiest[-1]:.1f} ms "
              f"(most CPU in one event {1000 * busiest_cpu:.1f} ms), "
              f"longest GC pause {1000 * gc_longest:.1f} ms ({gc_count} collections), "
              f"then {1000 * after:.1f} ms in the {args.settle:g} s after it, load average {_load()}")
        if args.verbose:
            for dt, cpu, what in busy:
                print(f"    {1000 * dt:7.1f} ms ({1000 * cpu:5.1f} ms CPU)  {what}")
            stop.set()
            for dt, stacks in sorted(starved, key=lambda x: -x[0])[:3]:
                print(f"    a thread starved {1000 * dt:.0f} ms; other threads then:")
                for st in stacks:
                    print("      " + st.replace("\n", "\n      "))
    warm = [f for f in firsts[1:] if f is not None] or [f for f in firsts if f is not None]
    print(f"== {label}: Generate -> first sound {min(warm):.3f} s (best warm run), "
          f"longest GUI stall {1000 * max(stalls):.1f} ms over {args.runs} runs "
          f"(warm runs: {1000 * max(stalls[1:] or stalls):.1f} ms); the GUI thread's own busiest event "
          f"{1000 * max(busiest):.1f} ms (warm: {1000 * max(busiest[1:] or busiest):.1f} ms); "
          f"load average {_load()}")
    ctx.engine_bridge.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
