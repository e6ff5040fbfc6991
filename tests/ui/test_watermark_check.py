""""Check for watermark" wherever clips are shown: a marked take in Synthesize's history is flagged
(button and the list's menu action), a clean one is not; each Compare lane is checked on the audio it
plays, and in a blind test the verdict leaks no identity; dataset takes are checked in their QC (the
QC process) and on demand from the Takes & QC table."""
from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt

from studio.core.takes import TakeRecipe
from studio.ui.widgets.watermark_check import FLAG, NOT_FOUND
from tests.ui.test_dataset_panels import workspace  # noqa: F401  the Dataset workspace fixture
from tests.ui.test_synthesize_workspace import make_ws  # noqa: F401  the Synthesize workspace fixture

SR = 24000


@pytest.fixture(scope="module")
def audio(speech_clips):
    """(clean, marked): 4 s of a real recording at 24 kHz, and the same as a marked take."""
    from engine import provenance
    from engine.audio.resample import resample

    row = next(r for r in speech_clips if r["file"].startswith("librispeech"))
    x, sr = sf.read(str(row["path"]), dtype="float32")
    clean = resample(x, sr, SR)[: 4 * SR].astype(np.float32)
    return clean, provenance.embed(clean, SR).astype(np.float32)


def _action(menu, text: str):
    return next(a for a in menu.actions() if a.text() == text)


def _shot(widget, name: str) -> None:
    folder = os.environ.get("MYNAH_SCREENSHOT_DIR")
    if folder:  # docs: the verdict as the user sees it
        widget.grab().save(str(Path(folder) / name))


def test_a_marked_take_in_the_history_is_flagged(make_ws, qtbot, audio):  # noqa: F811
    ws, _ = make_ws(voice=False)  # the history lists every take
    ws.resize(1300, 800)
    ws.show()
    clean, marked = audio
    recipe = TakeRecipe(model_id="local/fake-tts", text="A take.", voice_id=None, seed=5, temperature=0.9)
    from dataclasses import replace

    from engine import provenance

    t_marked = ws.takes.add(replace(recipe, watermark=provenance.stamp().to_dict()), marked, SR)
    t_clean = ws.takes.add(recipe, clean, SR)  # made with the watermark turned off
    check, label = ws.watermark_check, ws.view.watermark_result
    ws.history.select(t_marked.id)
    assert ws.history.current.id == t_marked.id
    assert not label.isVisible()  # nothing claimed before a check
    with qtbot.waitSignal(check.checks.checked, timeout=60000) as got:
        ws.view.check_watermark_button.click()
        assert "Checking" in label.text()
    assert got.args[0] == t_marked.id and got.args[1].score > 0.95
    assert FLAG in label.text() and label.property("flagged") is True and label.isVisible()
    _shot(ws, "synthesize_watermark_check.png")
    ws.history.select(t_clean.id)  # the verdict belongs to its take
    assert not label.isVisible()
    with qtbot.waitSignal(check.checks.checked, timeout=60000):
        _action(check.menu(), "Check for watermark").trigger()  # the history list's right-click menu
    assert NOT_FOUND in label.text() and FLAG not in label.text() and label.property("flagged") is False
    ws.history.select(t_marked.id)  # reselected: its verdict shows again without a new check
    assert FLAG in label.text() and label.isVisible()


def test_compare_lanes_are_checked_and_blind_lanes_leak_nothing(qtbot, audio):
    from studio.ui.compare.workspace import CompareWorkspace
    from tests.ui.test_compare_workspace import _visible_strings
    from tests.ui.test_synthesize_helpers import make_ctx

    clean, marked = audio
    ctx = make_ctx()
    voice = ctx.voices.create("Ann", transcript="Reference words.", consent=True, samples=clean, sample_rate=SR)
    from studio.core.takes import TakeStore

    take = TakeStore(ctx.library, ctx.paths).add(
        TakeRecipe(model_id="sesame/csm-1b", text="one", voice_id=voice.id, seed=11, temperature=0.9), marked, SR)
    ws = CompareWorkspace(ctx)
    qtbot.addWidget(ws)
    ws.resize(1200, 720)
    ws.show()
    c, checks = ws.controller, ws.watermark.checks
    with qtbot.waitSignal(c.lanesReady, timeout=20000):
        c.add_items([("take", take.id), ("recording", voice.id)])
    for i in range(2):
        with qtbot.waitSignal(checks.checked, timeout=60000):
            c.rows[i].check_watermark.click()
    assert FLAG in c.rows[0].watermark.text() and c.rows[0].watermark.property("flagged") is True
    assert NOT_FOUND in c.rows[1].watermark.text()
    assert "score 0.9" in c.rows[0].watermark.text() or "score 1.00" in c.rows[0].watermark.text()
    _shot(ws, "compare_watermark_check.png")

    c.start_blind(random.Random(1))
    assert not any(r.watermark.isVisible() for r in c.rows)  # nothing checked with names showing carries over
    for i in range(2):
        with qtbot.waitSignal(checks.checked, timeout=60000):
            c.rows[i].check_watermark.click()
    marked_row = next(i for i, lane in enumerate(c.lanes) if lane.item.key == f"take:{take.id}")
    texts = [r.watermark.text() for r in c.rows]
    assert FLAG in texts[marked_row] and NOT_FOUND in texts[1 - marked_row]
    assert all(t.endswith("(score 1.0)") or t.endswith("(score 0.0).") for t in texts), texts  # one decimal
    secrets = ["sesame", "csm", "seed", "11", "Ann", "Reference", "reference", take.id, "T=0.9", "voice"]
    leaks = [(s, x) for x in _visible_strings(ws) for s in secrets if s in x]
    assert leaks == []
    _shot(ws, "compare_watermark_check_blind.png")
    ws.shutdown()


def _dataset_with_takes(ws, audio, tmp_path):
    from engine.text.prompts import Prompt

    clean, marked = audio
    ds = ws.store.create("Mic", sample_rate=SR)
    ws.store.add_prompts(ds.id, [Prompt("p1", "first"), Prompt("p2", "second")])
    ids = []
    for prompt, x in zip(ws.store.prompts(ds.id), (clean, marked)):
        tid = ws.store.begin_take(ds.id, prompt.id, prompt.key)
        path = ws.store.takes_folder(ds.id) / f"{prompt.key}_1.wav"
        sf.write(str(path), x, SR, subtype="PCM_24")  # as the recorder writes a take
        ws.store.finish_take(tid, path, duration_s=len(x) / SR, sample_rate=SR)
        ids.append(tid)
    ws.open_dataset(ds.id)
    return ids


def test_dataset_takes_are_checked_in_qc_and_on_demand(qtbot, workspace, audio, tmp_path):  # noqa: F811
    ws = workspace
    ws.show()
    clean_id, marked_id = _dataset_with_takes(ws, audio, tmp_path)
    ws.tabs.setCurrentWidget(ws.qc)
    # A take recorded through the mic is QC'd in the QC process; the watermark check is part of it.
    ws.qc.use_asr.setChecked(False)
    with qtbot.waitSignal(ws.qc.qcFinished, timeout=120000):
        ws.qc.run_for([clean_id, marked_id])
    assert "watermark" in ws.store.take(marked_id).qc["flags"]
    assert ws.store.take(marked_id).qc["watermark"] > 0.95
    assert "watermark" not in ws.store.take(clean_id).qc["flags"]
    assert ws.store.take(clean_id).qc["watermark"] < 0.05
    model = ws.qc.model
    rows = {model.rows[r][0].id: r for r in range(model.rowCount())}
    assert "watermark" in model.index(rows[marked_id], model.columnCount() - 1).data()
    assert FLAG in model.index(rows[marked_id], model.columnCount() - 1).data(Qt.ToolTipRole)
    ws.qc.filter.setCurrentText("watermark")
    assert [model.rows[r][0].id for r in range(model.rowCount())] == [marked_id]
    ws.qc.filter.setCurrentText("All takes")
    # "Check for watermark" on a row of the table: the verdict under the table.
    wm = ws.watermark
    rows = {model.rows[r][0].id: r for r in range(model.rowCount())}
    ws.qc.table.selectRow(rows[marked_id])
    with qtbot.waitSignal(wm.checks.checked, timeout=60000):
        wm.button.click()
    assert FLAG in wm.result.text() and "p2" in wm.result.text() and wm.result.property("flagged") is True
    _shot(ws, "dataset_watermark_check.png")
    rows = {model.rows[r][0].id: r for r in range(model.rowCount())}
    ws.qc.table.selectRow(rows[clean_id])
    with qtbot.waitSignal(wm.checks.checked, timeout=60000):
        _action(wm.menu(), "Check for watermark").trigger()  # the QC table's right-click menu
    assert NOT_FOUND in wm.result.text() and wm.result.property("flagged") is False


@pytest.mark.audio
def test_a_marked_take_played_into_the_mic_is_flagged(qtbot, workspace, pulse_sink, audio):  # noqa: F811
    """The case to catch: generated speech played back into the microphone while recording a prompt.
    Through the real PulseAudio loopback, the recorded take's QC carries the "watermark" flag."""
    from engine.text.prompts import Prompt
    from studio.core.player import Player
    from tests.ui.test_dataset_session import _play_into_sink

    ws = workspace
    _, marked = audio
    ds = ws.store.create("Loopback mark", sample_rate=24000)
    ws.store.add_prompts(ds.id, [Prompt("m1", "If the reader will excuse me.")])
    ws.qc.use_asr.setChecked(False)
    ws.open_dataset(ds.id)
    ws.show()
    qtbot.waitExposed(ws)
    tp, player = ws.teleprompter, Player()
    qtbot.keyClick(tp, Qt.Key_R)
    qtbot.waitUntil(lambda: tp.recorder is not None and tp.recorder.frames_written > 0, timeout=10000)
    qtbot.wait(300)
    _play_into_sink(player, marked, SR)
    qtbot.wait(int(1000 * len(marked) / SR) + 600)
    with qtbot.waitSignal(ws.qc.qcFinished, timeout=120000):
        qtbot.keyClick(tp, Qt.Key_R)
    player.stop()
    (take,) = ws.store.takes(ds.id)
    assert "watermark" in take.qc["flags"] and take.qc["watermark"] > 0.5, take.qc
    assert "watermark" in tp.takes_label.text()  # the teleprompter's take line says so at once
