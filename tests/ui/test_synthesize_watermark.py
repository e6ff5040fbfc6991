"""Synthesize: every stored take carries the AI watermark and its recipe says with what; a stopped
take too; turning marking off needs a confirmation and then the recipe says "not marked"."""
from __future__ import annotations

import pytest
import soundfile as sf

from engine import provenance
from engine.audio.resample import resample
from tests.engine.test_worker_watermark import SR, SpeechFake
from tests.ui.test_synthesize_workspace import generate, make_ws  # noqa: F401  the workspace fixture


@pytest.fixture(scope="module")
def speech(speech_clips):
    clip = next(c for c in speech_clips if c["file"].startswith("librispeech"))
    x, sr = sf.read(str(clip["path"]), dtype="float32")
    return resample(x, sr, SR)[: 4 * SR]


def test_generated_take_is_marked_and_says_so(make_ws, qtbot, speech):  # noqa: F811
    ws, _ = make_ws(SpeechFake(speech))
    generate(qtbot, ws, timeout=60000)
    (take,) = ws.takes.list()
    assert take.recipe.watermark["method"] == "perth-implicit"
    assert take.recipe.watermark["model"] == "perth_net_250000"
    audio, sr = ws.takes.load_audio(take)
    assert provenance.detect(audio, sr) > 0.95
    assert "AI watermark" in ws.view.take_info.text() and "no AI watermark" not in ws.view.take_info.text()


def test_a_stopped_take_is_marked_too(make_ws, qtbot, speech):  # noqa: F811
    ws, _ = make_ws(SpeechFake(speech, frame_delay_s=0.02))
    chunks = []
    ws.ctx.engine_bridge.audioChunk.connect(lambda ev: chunks.append(ev))
    with qtbot.waitSignal(ws.controller.batchFinished, timeout=60000):
        ws.controller.generate()
        qtbot.waitUntil(lambda: sum(c.audio.size for c in chunks) >= 2 * SR, timeout=30000)
        ws.view.stop_button.click()
    (take,) = ws.takes.list()
    assert take.status == "cancelled" and take.recipe.watermark is not None
    audio, sr = ws.takes.load_audio(take)
    assert audio.size >= 2 * SR and provenance.detect(audio, sr) > 0.95


def test_turning_the_watermark_off_asks_and_is_recorded(make_ws, qtbot, speech):  # noqa: F811
    ws, _ = make_ws(SpeechFake(speech))
    box, switch = ws.view.watermark_box, ws.watermark
    assert box.isChecked() and ws.ctx.settings.watermark_takes
    switch.confirm_off = lambda: False  # the user reads the explanation and keeps it
    box.setChecked(False)
    assert box.isChecked() and ws.ctx.settings.watermark_takes
    switch.confirm_off = lambda: True
    box.setChecked(False)
    assert not ws.ctx.settings.watermark_takes
    generate(qtbot, ws, timeout=60000)
    (take,) = ws.takes.list()
    assert take.recipe.watermark is None
    audio, sr = ws.takes.load_audio(take)
    assert provenance.detect(audio, sr) < provenance.DETECT_THRESHOLD
    assert "no AI watermark" in ws.view.take_info.text()
