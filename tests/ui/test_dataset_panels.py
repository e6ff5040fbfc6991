"""Dataset workspace panels without audio devices: scripts, new-dataset validation, long-recording
proofreading with undo, QC filter + retake queue, export dialog asking before replacing, a QC process
killed mid-take."""
from __future__ import annotations

import os
import signal

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt

from engine.text.prompts import Prompt


@pytest.fixture
def workspace(qtbot, qapp):
    from studio.core.library import Library
    from studio.core.paths import get_paths
    from studio.core.settings import Settings
    from studio.ui.context import StudioContext
    from studio.ui.dataset.workspace import DatasetWorkspace

    paths = get_paths()
    ctx = StudioContext(paths=paths, library=Library(paths.library_db), settings=Settings())
    ws = DatasetWorkspace(ctx)
    ws.showEvent = lambda ev: None  # no input monitor: these tests use no audio device
    qtbot.addWidget(ws)
    ws.resize(1200, 760)
    yield ws
    ws.shutdown()
    from studio.ui.widgets.background import shutdown_pools

    shutdown_pools()
    ctx.library.close()


def test_new_dataset_dialog_keeps_input_on_error(qtbot, workspace):
    from studio.ui.dataset.new_dataset_dialog import NewDatasetDialog

    workspace.store.create("Taken")
    dlg = NewDatasetDialog(workspace.store, None)
    qtbot.addWidget(dlg)
    dlg.name.setText("Taken")
    dlg.speaker.setText("Ann")
    dlg.create()
    assert "already exists" in dlg.error.text() and dlg.speaker.text() == "Ann" and dlg.dataset is None
    dlg.name.setText("Fresh")
    dlg.rate.setCurrentIndex(0)
    dlg.create()
    assert dlg.dataset.name == "Fresh" and dlg.dataset.sample_rate == 24000


def test_scripts_add_prompts_and_bad_ones_explain(qtbot, workspace, tmp_path):
    ws = workspace
    ds = ws.store.create("Scripted")
    ws.open_dataset(ds.id)
    messages = []
    ws.ctx.status.message.connect(lambda m, t: messages.append(m))
    bad = tmp_path / "empty.txt"
    bad.write_text("")
    ws.add_script_file(bad)
    assert "empty" in messages[-1] and ws.store.prompts(ds.id) == []
    good = tmp_path / "mine.tsv"
    good.write_text("m1\tFirst line.\nm1\tSecond line.\nm3\tFirst line.\n")
    ws.add_script_file(good)
    assert [p.key for p in ws.store.prompts(ds.id)] == ["m1", "m1-2"]
    assert "2 note(s)" in messages[-1]
    ws.add_builtin_script("cmu_arctic")
    assert len(ws.store.prompts(ds.id)) == 2 + 1132
    tp = ws.teleprompter
    assert tp.prompt_label.text() == "First line." and "Next: Second line." == tp.next_label.text()
    qtbot.keyClick(tp, Qt.Key_Right)
    qtbot.keyClick(tp, Qt.Key_S)  # skip prompt 2 -> prompt 3
    assert tp.index == 2 and ws.store.prompts(ds.id)[1].skipped
    qtbot.keyClick(tp, Qt.Key_Left)
    assert tp.index == 1 and ws.store.get(ds.id).position == 1
    # The chart shows the whole script's coverage (CMU ARCTIC covers every phone) once computed.
    qtbot.waitUntil(lambda: ws.chart.script is not None and ws.chart.script.fraction == 1.0, timeout=20000)
    assert ws.chart.recorded.fraction == 0.0
    ws.grab().save(str(tmp_path / "scripted.png"))


def test_long_recording_proofreading_with_undo(qtbot, workspace, speech_clips, tmp_path):
    ws = workspace
    ds = ws.store.create("From long", sample_rate=24000)
    ws.open_dataset(ds.id)
    rows = [r for r in speech_clips if r["file"].startswith("vctk_p225")][:4]
    parts = []
    for r in rows:
        x, sr = sf.read(str(r["path"]), dtype="float32")
        parts += [x, np.zeros(int(0.7 * sr), np.float32)]
    sf.write(str(tmp_path / "long.wav"), np.concatenate(parts), sr)
    panel = ws.long
    panel.asr.setChecked(False)
    with qtbot.waitSignal(panel.segmented, timeout=60000) as blocker:
        ws.import_files([tmp_path / "long.wav"])
    assert blocker.args == [4] and ws.tabs.currentWidget() is panel
    assert panel.table.rowCount() == 4
    for r, row in enumerate(rows):  # proofreading: type each segment's text
        panel.table.item(r, 3).setText(row["transcript"])
    assert panel.segments[2].text == rows[2]["transcript"]
    panel.table.setCurrentCell(0, 3)
    panel.merge_selected()
    assert panel.table.rowCount() == 3 and rows[1]["transcript"] in panel.segments[0].text
    panel.playhead_s = panel.segments[0].start_s + 2.0
    panel.split_selected()
    assert panel.table.rowCount() == 4
    panel.table.setCurrentCell(3, 3)
    panel.delete_selected()
    assert panel.table.rowCount() == 3
    ws.undo_stack.undo()
    ws.undo_stack.undo()
    ws.undo_stack.undo()  # merge undone: back to the four segments as typed
    assert [s.text for s in panel.segments] == [r["transcript"] for r in rows]
    panel.grab().save(str(tmp_path / "long.png"))
    with qtbot.waitSignal(panel.added, timeout=30000):
        panel.add_to_dataset()
    assert [p.text for p in ws.store.prompts(ds.id)] == [r["transcript"] for r in rows]
    assert len(ws.store.best_takes(ds.id)) == 4


def test_long_recording_from_a_browser_recording(qtbot, workspace, speech_clips, tmp_path):
    """A long recording made in a browser (.webm, Opus) segments like a WAV does."""
    from tests.container_audio import encode

    ws = workspace
    ds = ws.store.create("From the browser", sample_rate=24000)
    ws.open_dataset(ds.id)
    parts = []
    for r in [r for r in speech_clips if r["file"].startswith("vctk_p226")][:3]:
        x, sr = sf.read(str(r["path"]), dtype="float32")
        parts += [x, np.zeros(int(0.7 * sr), np.float32)]
    audio = np.concatenate(parts)
    path = encode(tmp_path / "talk.webm", audio, sr, "webm", "libopus")
    from engine.audio import segment as S

    as_wav = [(round(s.start_s, 1), round(s.end_s, 1)) for s in S.segment_audio(audio, sr, S.SegmentOptions())[0]]
    ws.long.asr.setChecked(False)
    with qtbot.waitSignal(ws.long.segmented, timeout=60000) as blocker:
        ws.import_files([path])
    assert blocker.args == [len(as_wav)] and len(as_wav) >= 3  # (one clip has a pause of its own)
    assert [(round(s.start_s, 1), round(s.end_s, 1)) for s in ws.long.segments] == as_wav


def test_qc_filter_retake_queue_and_export_dialog(qtbot, workspace, speech_clips, tmp_path):
    ws = workspace
    ds = ws.store.create("QC me", sample_rate=24000)
    rows = [r for r in speech_clips if r["file"].startswith("ljspeech_lj_LJ001-000")][:3]
    ws.store.add_prompts(ds.id, [Prompt(f"q{i}", r["transcript"]) for i, r in enumerate(rows)])
    for i, (p, r) in enumerate(zip(ws.store.prompts(ds.id), rows)):
        x, sr = sf.read(str(r["path"]), dtype="float32")
        if i == 1:
            x = np.clip(x * 10, -1, 1)  # a clipped take
        path = ws.store.takes_folder(ds.id) / f"{p.key}.wav"
        sf.write(str(path), np.concatenate([np.zeros(4000, np.float32), x, np.zeros(4000, np.float32)]), sr)
        t = ws.store.begin_take(ds.id, p.id, p.key)
        ws.store.finish_take(t, path, duration_s=len(x) / sr, sample_rate=sr)
    ws.show()
    ws.tabs.setCurrentWidget(ws.qc)
    ws.open_dataset(ds.id)
    ws.qc.use_asr.setChecked(False)
    with qtbot.waitSignal(ws.qc.qcFinished, timeout=60000):
        ws.qc.run_for(None)
    table = ws.qc.table.model()
    assert table.rowCount() == 3
    ws.qc.filter.setCurrentText("clipping")
    assert table.rowCount() == 1 and table.index(0, 0).data() == "q1"
    assert ws.qc.queue.count() == 1 and ws.qc.queue.item(0).text().startswith("q1: clipping")
    ws.qc.queue.itemDoubleClicked.emit(ws.qc.queue.item(0))
    assert ws.tabs.currentWidget() is ws.teleprompter and ws.teleprompter.index == 1
    ws.tabs.setCurrentWidget(ws.qc)
    ws.grab().save(str(tmp_path / "qc.png"))

    dlg = ws.open_export()
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    dlg.dest.setText(str(dest))
    dlg.format.setCurrentIndex(list(__import__("studio.core.dataset_export", fromlist=["FORMATS"]).FORMATS).index("jsonl"))
    dlg.start(confirm_overwrite=lambda p: False)
    assert "not empty" in dlg.status.text() and (dest / "keep.txt").read_text() == "mine"
    with qtbot.waitSignal(dlg.exported, timeout=60000) as blocker:
        dlg.start(confirm_overwrite=lambda p: True)
    assert blocker.args[0] is not None and len(blocker.args[0].clips) == 3
    assert (dest / "train.jsonl").exists() and "clipping: 1" in (dest / "README.md").read_text()
    dlg.grab().save(str(tmp_path / "export.png"))


class _FakeRecorder:
    """Stands in for studio.core.recorder.Recorder: levels scripted by the test."""

    def __init__(self, path, levels):
        self.path, self.levels = path, list(levels)
        self.error, self.overflows, self.samplerate, self.duration_s = None, 0, 24000, 2.0

    def level(self):
        from types import SimpleNamespace

        db = self.levels.pop(0) if len(self.levels) > 1 else self.levels[0]
        return SimpleNamespace(rms_dbfs=db, peak_dbfs=db + 6, clipped=False)

    def stop(self):
        return self.path


def test_auto_stop_after_trailing_silence_and_device_change_warning(qtbot, workspace, tmp_path):
    ws = workspace
    ds = ws.store.create("Auto", sample_rate=24000)
    ws.store.add_prompts(ds.id, [Prompt("a0", "Hello there.")])
    ws.store.update(ds.id, input_device="USB mic @ 48000 Hz")
    ws.open_dataset(ds.id)
    tp = ws.teleprompter
    assert "input changed" in tp.warning.text() and "USB mic" in tp.warning.text()
    p = ws.store.prompts(ds.id)[0]
    take = ws.store.begin_take(ds.id, p.id, "a0_take1")
    wav = tmp_path / "a0_take1.wav"
    sf.write(str(wav), np.zeros(24000, np.float32), 24000)
    # Speech for a while, then silence: the take stops by itself after the chosen silence.
    tp.auto_stop.setChecked(True)
    tp.auto_stop_s.setValue(0.5)
    tp.recorder, tp._take_id = _FakeRecorder(wav, [-20.0] * 12 + [-70.0]), take
    tp._started = __import__("time").monotonic() - 2.0
    tp._auto_timer.start()
    qtbot.waitUntil(lambda: tp.recorder is None, timeout=5000)
    qtbot.waitUntil(lambda: not tp.saving, timeout=5000)
    assert ws.store.take(take).status == "done" and ws.store.take(take).is_best


def _one_take(ws, speech_clips):
    row = next(r for r in speech_clips if r["file"] == "ljspeech_lj_LJ001-0003.wav")
    ds = ws.store.create("Crashy", sample_rate=24000)
    ws.store.add_prompts(ds.id, [Prompt("c0", row["transcript"])])
    p = ws.store.prompts(ds.id)[0]
    x, sr = sf.read(str(row["path"]), dtype="float32")
    path = ws.store.takes_folder(ds.id) / "c0.wav"
    sf.write(str(path), np.concatenate([np.zeros(4000, np.float32), x, np.zeros(4000, np.float32)]), sr)
    t = ws.store.begin_take(ds.id, p.id, p.key)
    ws.store.finish_take(t, path, duration_s=len(x) / sr, sample_rate=sr)
    return ds, t, path


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="kills the QC process with POSIX signals")
def test_qc_process_crash_keeps_the_take_and_says_qc_failed(qtbot, workspace, speech_clips):
    from studio.core.qc_worker import QcWorker
    from studio.ui.dataset.qc_model import QC_COLUMN

    ws = workspace
    ws.qc.worker = worker = QcWorker()  # its own child, so killing it disturbs nothing else
    try:
        ds, take, path = _one_take(ws, speech_clips)
        ws.show()
        ws.open_dataset(ds.id)
        ws.tabs.setCurrentWidget(ws.qc)
        ws.qc.use_asr.setChecked(False)
        worker.start()
        os.kill(worker.pid, signal.SIGSTOP)
        pid = worker.pid
        with qtbot.waitSignal(ws.qc.qcFinished, timeout=60000):
            ws.qc.run_for([take])
            qtbot.waitUntil(lambda: worker.waiting_for_reply, timeout=10000)
            os.kill(pid, signal.SIGKILL)
        cell = ws.qc.table.model().index(0, QC_COLUMN).data()
        assert cell.startswith("QC failed: the QC process stopped unexpectedly") and "SIGKILL" in cell, cell
        assert "QC failed on 1" in ws.qc.summary.text()
        assert path.exists() and ws.store.take(take).usable  # the take is kept
        assert "QC failed" in ws.teleprompter.takes_label.text()
        ws.qc.filter.setCurrentText("Flagged")
        assert ws.qc.table.model().rowCount() == 1
        with qtbot.waitSignal(ws.qc.qcFinished, timeout=60000):  # Re-run QC: a fresh process checks it
            ws.qc.rerun.click()
        ws.qc.filter.setCurrentText("All takes")
        assert ws.qc.table.model().index(0, QC_COLUMN).data() == "ok"
        assert "QC failed" not in ws.qc.summary.text()
    finally:
        worker.close()
