"""EngineBridge: engine events arrive as Qt signals on the GUI thread."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from engine.jobs import LoadModel, Synthesize
from studio.ui.engine_bridge import EngineBridge, describe_state
from tests.engine.test_worker_fake_backend import FakeBackend

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def bridge_with(qtbot, tmp_path):
    bridges = []

    def make(backend=None, load=True):
        backend = backend or FakeBackend()
        bridge = EngineBridge(backend_factory=lambda name: backend)
        bridges.append(bridge)
        if load:
            (tmp_path / "csm-tiny").mkdir()
            req = LoadModel(model_dir=tmp_path / "csm-tiny", model_id="local/csm-tiny")
            with qtbot.waitSignal(bridge.done, timeout=5000, check_params_cb=lambda ev: ev.job_id == req.job_id):
                bridge.submit(req)
        return bridge, backend

    yield make
    for b in bridges:
        b.shutdown()


def test_synthesis_streams_to_gui_thread_slots(qtbot, bridge_with):
    bridge, _ = bridge_with()
    gui_thread = QApplication.instance().thread()
    seen = {"chunks": [], "frames": 0, "progress": 0, "threads": set()}

    def on_chunk(ev):
        seen["chunks"].append(ev.audio)
        seen["threads"].add(QThread.currentThread() is gui_thread)

    bridge.audioChunk.connect(on_chunk)
    bridge.codeFrame.connect(lambda ev: seen.__setitem__("frames", seen["frames"] + 1))
    bridge.progress.connect(lambda ev: seen.__setitem__("progress", seen["progress"] + 1))
    req = Synthesize(text="A sentence for the studio to speak aloud.", stream_frames=2, watermark=False)
    with qtbot.waitSignal(bridge.done, timeout=5000, check_params_cb=lambda ev: ev.job_id == req.job_id) as blocker:
        bridge.submit(req)
    result = blocker.args[0].result
    assert len(seen["chunks"]) > 2 and seen["threads"] == {True}
    assert np.array_equal(np.concatenate(seen["chunks"]), result.audio)
    assert seen["frames"] == result.codes.shape[1] and seen["progress"] > 0


def test_cancel_gives_cancelled_signal_and_no_done(qtbot, bridge_with):
    bridge, backend = bridge_with(FakeBackend(frame_delay_s=0.02))
    dones = []
    bridge.done.connect(dones.append)
    req = Synthesize(text=" ".join(["word"] * 80), stream_frames=1)
    with qtbot.waitSignal(bridge.audioChunk, timeout=5000):
        bridge.submit(req)
    with qtbot.waitSignal(bridge.cancelled, timeout=5000) as blocker:
        assert bridge.cancel(req.job_id)
    assert blocker.args[0].job_id == req.job_id
    qtbot.wait(100)  # nothing may trail in after the cancel
    assert not [d for d in dones if d.job_id == req.job_id]


def test_failure_signal_and_the_engine_keeps_working(qtbot, bridge_with):
    bridge, backend = bridge_with(FakeBackend(fail_at_frame=2))
    bad = Synthesize(text="this breaks")
    with qtbot.waitSignal(bridge.failed, timeout=5000) as blocker:
        bridge.submit(bad)
    assert blocker.args[0].job_id == bad.job_id and "exploded" in blocker.args[0].message
    backend.fail_at_frame = None
    good = Synthesize(text="this works")
    with qtbot.waitSignal(bridge.done, timeout=5000, check_params_cb=lambda ev: ev.job_id == good.job_id):
        bridge.submit(good)


def test_state_changes_for_the_status_bar(qtbot, bridge_with, tmp_path):
    bridge, _ = bridge_with(load=False)
    states = []
    bridge.stateChanged.connect(states.append)
    (tmp_path / "csm-tiny").mkdir()
    with qtbot.waitSignal(bridge.stateChanged, timeout=5000,
                          check_params_cb=lambda s: s.state == "idle" and s.models):
        bridge.submit(LoadModel(model_dir=tmp_path / "csm-tiny", model_id="local/csm-tiny"))
    names = [s.state for s in states]
    assert "loading" in names and names[-1] == "idle"
    assert describe_state(bridge.state) == "Idle · csm-tiny"
    loading = next(s for s in states if s.state == "loading")
    assert describe_state(loading).startswith("Loading: Loading local/csm-tiny")
    with qtbot.waitSignal(bridge.stateChanged, timeout=5000, check_params_cb=lambda s: s.state == "busy") as b:
        bridge.submit(Synthesize(text="busy now"))
    assert describe_state(b.args[0]) == "Busy: Generating speech · csm-tiny"


def test_shutdown_stops_the_engine(qtbot, bridge_with):
    bridge, backend = bridge_with()
    bridge.shutdown()
    assert not bridge.worker.is_alive and backend.unloaded


def test_importing_the_bridge_does_not_import_torch():
    code = "import sys, studio.ui.engine_bridge; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_thousands_of_streamed_events_do_not_corrupt_the_interpreter(qtbot, bridge_with):
    """PySide6 6.12.0's emit() drops a reference to True on every call; unguarded, a long take's
    events free True and abort the whole app. The bridge must leave True's refcount alone."""
    bridge, _ = bridge_with()
    req = Synthesize(text=" ".join(["word"] * 400), stream_frames=1)  # 800 frames, ~2,400 events
    before = sys.getrefcount(True)
    with qtbot.waitSignal(bridge.done, timeout=20000, check_params_cb=lambda ev: ev.job_id == req.job_id):
        bridge.submit(req)
    assert abs(sys.getrefcount(True) - before) < 200


def test_plain_signals_keep_the_interpreter_sound(qtbot):
    """Guards the PySide6 pin (6.12.0 drops a reference to True per emit and aborts the app)."""
    from PySide6.QtCore import QObject, Signal

    class Ticker(QObject):
        tick = Signal(int)

    t = Ticker()
    seen = []
    t.tick.connect(seen.append)
    before = sys.getrefcount(True)
    for i in range(3000):
        t.tick.emit(i)
    assert len(seen) == 3000 and abs(sys.getrefcount(True) - before) < 100
