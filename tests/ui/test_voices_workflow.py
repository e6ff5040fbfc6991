"""The clone-reference workflow a user goes through, end to end, offscreen."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def window(qtbot, qapp):
    from studio.ui.app import create_window
    from studio.ui.theme import apply_dark_theme

    apply_dark_theme(qapp)
    w = create_window()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()
    from studio.ui.widgets.background import shutdown_pools

    shutdown_pools()
    w.ctx.library.close()


def _open(qtbot, ws, path: Path):
    c = ws.controller
    with qtbot.waitSignal(c.importFinished, timeout=30000) as blocker:
        ws.import_files([path])
    return blocker.args


def _clip(speech_clips, lo=8.0, hi=16.0):
    info = {}
    for line in (Path(speech_clips[0]["path"]).parent / "audio_info.tsv").read_text().splitlines()[1:]:
        f = line.split("\t")
        info[f[0]] = float(f[1])
    for row in speech_clips:
        if lo <= info.get(row["file"], 0) <= hi:
            return row, info[row["file"]]
    pytest.skip("no speech clip of the right length")


def test_import_trim_normalize_save_then_restart_finds_voice(qtbot, window, speech_clips, mynah_home):
    row, duration = _clip(speech_clips)
    ws = window.workspace("Voices")
    c, v = ws.controller, ws.view
    assert _open(qtbot, ws, row["path"]) == [str(row["path"]), True]
    # The waveform shows the whole file and the readouts fill in.
    assert v.waveform.duration_s == pytest.approx(duration, abs=0.01)
    assert v.clip_title.text() == Path(row["file"]).name
    qtbot.waitUntil(lambda: v.mel.has_image() and c.report is not None, timeout=30000)
    assert v.readouts["duration"].text().startswith(f"{duration:.2f} s")
    assert v.readouts["lufs"].text().endswith("LUFS")

    # Trim to a 1.0-6.0 s selection.
    v.waveform.set_selection(1.0, 6.0)
    assert v.trim_action.isEnabled()
    with qtbot.waitSignal(c.clipChanged, timeout=10000):
        v.trim_action.trigger()
    assert c.state.duration_s == pytest.approx(5.0, abs=1e-3)
    assert v.waveform.duration_s == pytest.approx(5.0, abs=1e-3)

    # Peak-normalize to -3 dBFS, then Ctrl+Z restores the previous level.
    before = float(np.max(np.abs(c.state.samples)))
    v.normalize_mode.setCurrentIndex(v.normalize_mode.findData("peak"))
    v.normalize_target.setValue(-3.0)
    with qtbot.waitSignal(c.clipChanged, timeout=10000):
        v.normalize_action.trigger()
    assert float(np.max(np.abs(c.state.samples))) == pytest.approx(10 ** (-3 / 20), rel=1e-3)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    assert float(np.max(np.abs(c.state.samples))) == pytest.approx(before, rel=1e-5)
    assert c.state.duration_s == pytest.approx(5.0, abs=1e-3)  # only the last edit was undone
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)  # redo
    assert float(np.max(np.abs(c.state.samples))) == pytest.approx(10 ** (-3 / 20), rel=1e-3)

    # Save: the consent tick is required; nothing is saved without it, nothing typed is lost.
    v.name_edit.setText("Narrator")
    v.transcript_edit.setPlainText(row["transcript"])
    v.save_button.click()
    assert "consent" in v.save_error.text().lower()
    assert c.ctx.voices.list() == [] and v.name_edit.text() == "Narrator"
    v.consent_check.setChecked(True)
    with qtbot.waitSignal(c.voiceSaved, timeout=20000):
        v.save_button.click()
    assert [v.voice_list.item(i).text() for i in range(v.voice_list.count())] == ["Narrator"]
    window.close()
    window.ctx.library.close()

    # A new process on the same data directory finds the voice intact through the GUI.
    script = textwrap.dedent("""
        import json, soundfile as sf
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from studio.ui.app import create_window
        w = create_window(); w.show()
        ws = w.workspace("Voices")
        names = [ws.view.voice_list.item(i).text() for i in range(ws.view.voice_list.count())]
        voice = w.ctx.voices.list()[0]
        print(json.dumps({"names": names, "transcript": voice.transcript, "consent": voice.consent,
                          "duration": sf.info(str(voice.clips[0].working_path)).duration,
                          "original_exists": voice.clips[0].original_path.exists()}))
    """)
    env = {**os.environ, "MYNAH_HOME": str(mynah_home), "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["names"] == ["Narrator"]
    assert got["transcript"] == row["transcript"] and got["consent"] is True
    assert got["duration"] == pytest.approx(5.0, abs=1e-3)
    assert got["original_exists"]


def test_cut_and_auto_trim_are_undoable(qtbot, window, tmp_path):
    sr = 16000
    x = np.zeros(sr * 4, np.float32)
    x[sr:3 * sr] = 0.5 * np.sin(2 * np.pi * 300 * np.arange(2 * sr) / sr)  # 1 s silence, 2 s tone, 1 s silence
    path = tmp_path / "padded.wav"
    sf.write(path, x, sr)
    ws = window.workspace("Voices")
    c, v = ws.controller, ws.view
    _open(qtbot, ws, path)
    with qtbot.waitSignal(c.clipChanged, timeout=10000):
        v.autotrim_action.trigger()
    assert c.state.duration_s == pytest.approx(2.2, abs=0.05)  # 0.1 s of air kept each side
    v.waveform.set_selection(0.5, 1.0)
    with qtbot.waitSignal(c.clipChanged, timeout=10000):
        v.cut_action.trigger()
    assert c.state.duration_s == pytest.approx(1.7, abs=0.05)
    c.undo_stack.undo()
    c.undo_stack.undo()
    assert c.state.duration_s == pytest.approx(4.0)
    c.undo_stack.undo()  # undo the import itself: back to an empty editor
    assert c.state is None and v.clip_title.text() == "No clip open"


def test_trim_without_selection_explains(qtbot, window, speech_clips):
    ws = window.workspace("Voices")
    _open(qtbot, ws, speech_clips[0]["path"])
    assert not ws.view.trim_action.isEnabled()
    messages = []
    window.ctx.status.message.connect(lambda t, _ms: messages.append(t))
    ws.controller.trim_to_selection()
    assert any("Select a region" in m for m in messages)


def test_library_rename_delete_duplicate_with_undo(qtbot, window):
    sr = 16000
    store = window.ctx.voices
    store.create("Alice", consent=True, samples=np.ones(sr, np.float32) * 0.1, sample_rate=sr)
    ws = window.workspace("Voices")
    c, lst = ws.controller, ws.view.voice_list
    c.refresh_library()
    names = lambda: [lst.item(i).text() for i in range(lst.count())]  # noqa: E731
    lst.setCurrentRow(0)
    c.rename_voice(store.list()[0].id, "Alice B")
    assert names() == ["Alice B"]
    ws.view.duplicate_voice_button.click()
    assert names() == ["Alice B", "Alice B copy"]
    lst.setCurrentRow(0)
    ws.view.delete_voice_button.click()
    assert names() == ["Alice B copy"]
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    assert names() == ["Alice B", "Alice B copy"]
    c.undo_stack.undo()  # undo duplicate
    c.undo_stack.undo()  # undo rename
    assert names() == ["Alice"]
