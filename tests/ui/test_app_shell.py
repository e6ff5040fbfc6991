"""Main window behaviour: state restore, shortcuts, drag-and-drop, one error dialog, recovery offer."""
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent


def _make_window(qtbot, qapp):
    from studio.ui.app import create_window

    w = create_window()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    return w


def _close(w):
    from studio.ui.widgets.background import analysis_pool, shutdown_pools

    w.close()
    shutdown_pools()
    analysis_pool().waitForDone(60000)
    w.ctx.library.close()


@pytest.fixture
def window(qtbot, qapp):
    w = _make_window(qtbot, qapp)
    yield w
    _close(w)


class FakePlayer:
    """Stands in for studio.core.player.Player where no audio device is wanted."""

    def __init__(self, device=None):
        self.calls, self.is_playing, self.is_paused, self.position_s, self.error = [], False, False, 0.0, None

    def play(self, samples, sr, start_s=0.0):
        self.calls.append(("play", len(samples), sr, start_s))
        self.is_playing, self.position_s = True, start_s

    def pause(self):
        self.calls.append(("pause",))
        self.is_playing, self.is_paused = False, True

    def resume(self):
        self.calls.append(("resume",))
        self.is_playing, self.is_paused = True, False

    def stop(self):
        self.calls.append(("stop",))
        self.is_playing = False


class FakeRecorder:
    def __init__(self, out: Path):
        self.out, self.overflows, self.frames_written, self.error, self.samplerate = out, 3, 0, None, 16000
        self.started = False

    def start(self):
        self.started = True
        return self.out

    def level(self):
        from types import SimpleNamespace

        return SimpleNamespace(rms_dbfs=-20.0, peak_dbfs=0.0, clipped=True)

    def stop(self):
        sf.write(self.out, 0.2 * np.sin(np.arange(16000) / 5).astype(np.float32), 16000)
        return self.out


def test_window_and_panel_state_restored_on_restart(qtbot, qapp):
    w = _make_window(qtbot, qapp)
    w.resize(760, 540)  # fits the 800x600 offscreen screen (restore clamps to the screen)
    qtbot.wait(50)
    size = (w.width(), w.height())
    assert size != (1400, 900)  # really changed from the default
    ws = w.workspace("Voices")
    ws.view.splitter.setSizes([250, 300, 210])
    sizes = ws.view.splitter.sizes()
    _close(w)
    w2 = _make_window(qtbot, qapp)
    try:
        assert (w2.width(), w2.height()) == size
        assert w2.workspace("Voices").view.splitter.sizes() == sizes
    finally:
        _close(w2)


def test_shortcuts_space_r_ctrl_i_ctrl_z(qtbot, window, speech_clips, tmp_path, monkeypatch):
    ctx = window.ctx
    player = FakePlayer()
    ctx.player_factory = lambda device: player
    ws = window.workspace("Voices")
    # Ctrl+I opens the import dialog; the chosen file opens in Voices.
    from PySide6.QtWidgets import QFileDialog

    chosen = str(speech_clips[0]["path"])
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: ([chosen], "")))
    with qtbot.waitSignal(ws.controller.importFinished, timeout=20000):
        qtbot.keyClick(window, Qt.Key_I, Qt.ControlModifier)
    assert ws.controller.state.name == Path(chosen).name
    # Space plays, Space pauses, Space resumes.
    qtbot.keyClick(window, Qt.Key_Space)
    assert player.calls[-1][0] == "play" and player.calls[-1][1] == ws.controller.state.samples.size
    assert window.transport.playing
    qtbot.keyClick(window, Qt.Key_Space)
    assert player.calls[-1] == ("pause",) and not window.transport.playing
    qtbot.keyClick(window, Qt.Key_Space)
    assert player.calls[-1] == ("resume",)
    # Typing a space or an R into the transcript types text instead of firing the shortcuts.
    ws.view.transcript_edit.setFocus()
    qtbot.keyClicks(ws.view.transcript_edit, "r r")
    assert ws.view.transcript_edit.toPlainText() == "r r"
    assert player.calls[-1] == ("resume",)
    window.setFocus()
    # R starts a recording (meter shows clip + overflows), R again stops and opens it.
    rec = FakeRecorder(tmp_path / "take.wav")
    monkeypatch.setattr(ctx, "make_recorder", lambda **kw: rec)
    qtbot.keyClick(window, Qt.Key_R)
    assert rec.started and ws.controller.is_recording and ws.view.record_action.isChecked()
    qtbot.waitUntil(lambda: ws.view.meter.clipped and ws.view.meter.overflows == 3, timeout=3000)
    assert "3 overflows" in ws.view.meter.overflow_label.text()
    with qtbot.waitSignal(ws.controller.importFinished, timeout=20000):
        qtbot.keyClick(window, Qt.Key_R)
    assert not ws.controller.is_recording and ws.controller.state.name == "take.wav"
    # Ctrl+Z steps back to the previously open clip.
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    assert ws.controller.state.name == Path(chosen).name


def test_playback_failure_is_reported_not_fatal(qtbot, window, speech_clips):
    def broken(device):
        raise RuntimeError("no output device")

    window.ctx.player_factory = broken
    ws = window.workspace("Voices")
    with qtbot.waitSignal(ws.controller.importFinished, timeout=20000):
        ws.import_files([speech_clips[0]["path"]])
    qtbot.keyClick(window, Qt.Key_Space)
    assert "no output device" in window.statusBar().currentMessage()
    assert window.isVisible()


def test_drop_files_on_window_imports_them(qtbot, window, speech_clips):
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(str(speech_clips[1]["path"]))])
    ev = QDropEvent(QPoint(100, 100), Qt.CopyAction, md, Qt.LeftButton, Qt.NoModifier)
    ws = window.workspace("Voices")
    with qtbot.waitSignal(ws.controller.importFinished, timeout=20000):
        window.dropEvent(ev)
    assert ws.controller.state.name == Path(speech_clips[1]["path"]).name


def test_uncaught_exceptions_log_and_show_one_dialog(qtbot, window, mynah_home):
    from studio.core.logging_setup import setup_logging
    from studio.ui.app import ExceptionReporter

    setup_logging(window.ctx.paths.logs)
    rep = ExceptionReporter(window)
    for i in range(3):
        try:
            raise ValueError(f"boom {i}")
        except ValueError as exc:
            rep.handle(type(exc), exc, exc.__traceback__)
    from PySide6.QtWidgets import QMessageBox

    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1 and "3 errors" in boxes[0].informativeText() and "boom 2" in boxes[0].informativeText()
    log_text = (mynah_home / "logs" / "mynah.log").read_text()
    assert "ValueError: boom 0" in log_text and "Traceback" in log_text


def test_missing_and_broken_workspaces(qtbot, qapp, monkeypatch):
    import studio.ui.main_window as mw

    monkeypatch.setattr(mw, "WORKSPACES", [("Voices", "studio.ui.voices.workspace", "VoicesWorkspace"),
                                           ("Ghost", "studio.ui.no_such_area.workspace", "X"),
                                           ("Broken", "studio.ui.voices.workspace", "NoSuchClass")])
    w = _make_window(qtbot, qapp)
    try:
        assert [w.switcher.item(i).text() for i in range(w.switcher.count())] == ["Voices", "Broken"]
        broken = w.show_workspace("Broken")
        assert "could not be opened" in broken.text()
        assert w.isVisible()
    finally:
        _close(w)


def test_incomplete_recording_offered_and_recovered_into_voices(qtbot, qapp, mynah_home):
    from studio.core.paths import get_paths

    inc = get_paths().incomplete
    sf.write(inc / "crashed.wav", (0.3 * np.sin(np.arange(32000) / 7)).astype(np.float32), 16000, subtype="PCM_16")
    w = _make_window(qtbot, qapp)
    try:
        w.after_show()
        qtbot.waitUntil(lambda: getattr(w, "recovery_box", None) is not None and w.recovery_box.isVisible(),
                        timeout=10000)
        assert "1 recording" in w.recovery_box.text()
        ws = w.workspace("Voices")
        recover = [b for b in w.recovery_box.buttons() if b.text() == "Recover"][0]
        with qtbot.waitSignal(ws.controller.importFinished, timeout=20000):
            recover.click()
        assert ws.controller.state.duration_s == pytest.approx(2.0, abs=0.01)
        assert not list(inc.glob("*.wav"))
    finally:
        _close(w)


def test_status_bar_follows_the_engine_once_it_starts(qtbot, window):
    from types import SimpleNamespace

    from PySide6.QtCore import QObject, Signal

    class FakeBridge(QObject):
        stateChanged = Signal(object)

        state = SimpleNamespace(state="idle", models=[], detail="")

    bridge = FakeBridge()
    window.ctx.engine_bridge = bridge  # what the Synthesize workspace does on first use
    assert "no model loaded" in window.engine_label.text()
    bridge.stateChanged.emit(SimpleNamespace(state="loading", models=["sesame/csm-1b"], detail="reading weights"))
    assert window.engine_label.text() == "Engine: Loading: reading weights · csm-1b"
