"""Voices flags generated speech: a take carrying Mynah's AI watermark, imported as a reference, is
flagged under the clip readouts and saving it as a voice asks first; a real recording is not."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from studio.ui.voices.provenance import FLAG
from studio.ui.voices.workspace import VoicesWorkspace
from tests.ui.eval_fakes import FakeScorer, fake_bridge
from tests.ui.test_synthesize_helpers import make_ctx


@pytest.fixture
def ws(qtbot):
    ctx = make_ctx()
    ctx.engine_bridge = fake_bridge(FakeScorer())
    w = VoicesWorkspace(ctx)
    qtbot.addWidget(w)
    w.resize(1300, 760)
    w.show()
    yield w
    w.shutdown()
    ctx.engine_bridge.shutdown()
    from studio.ui.widgets.background import shutdown_pools

    shutdown_pools()


@pytest.fixture
def clips(speech_clips, tmp_path):
    """A real recording, and the same recording as a marked 24 kHz take would be exported."""
    from engine import provenance
    from engine.audio.resample import resample

    row = next(r for r in speech_clips if r["file"].startswith("librispeech"))
    x, sr = sf.read(str(row["path"]), dtype="float32")
    take = provenance.embed(resample(x, sr, 24000), 24000)
    marked = tmp_path / "generated_take.wav"
    sf.write(marked, take, 24000, subtype="PCM_16")
    return Path(row["path"]), marked


def _open(qtbot, ws, path):
    with qtbot.waitSignal(ws.provenance.checked, timeout=60000) as blocker:
        ws.import_files([path])
    return blocker.args[0]


def _fill_form(ws, name):
    ws.view.name_edit.setText(name)
    ws.view.transcript_edit.setPlainText("words")
    ws.view.consent_check.setChecked(True)


def test_a_marked_take_is_flagged_and_cloning_it_asks_first(ws, qtbot, clips):
    _, marked = clips
    detection = _open(qtbot, ws, marked)
    assert detection.marked and detection.score > 0.95
    label = ws.provenance.label
    assert FLAG in label.text() and label.property("flagged") is True
    if os.environ.get("MYNAH_SCREENSHOT_DIR"):  # docs: the flag as the user sees it
        qtbot.wait(200)
        ws.grab().save(str(Path(os.environ["MYNAH_SCREENSHOT_DIR"]) / "voices_watermark_flag.png"))
    asked = []
    ws.provenance.ask = lambda: asked.append(1) or False  # the user says no
    _fill_form(ws, "Generated")
    ws.controller.save_voice()
    assert asked and ws.ctx.voices.list() == []
    assert "AI watermark" in ws.view.save_error.text()
    ws.provenance.ask = lambda: True  # ... and then yes
    with qtbot.waitSignal(ws.controller.voiceSaved, timeout=20000):
        ws.controller.save_voice()
    assert [v.name for v in ws.ctx.voices.list()] == ["Generated"]


def test_a_recording_is_not_flagged_and_saves_without_asking(ws, qtbot, clips):
    recording, _ = clips
    detection = _open(qtbot, ws, recording)
    assert not detection.marked and detection.score < 0.05
    assert FLAG not in ws.provenance.label.text() and "No AI watermark" in ws.provenance.label.text()
    ws.provenance.ask = lambda: pytest.fail("a clean recording must not ask")
    _fill_form(ws, "Real")
    with qtbot.waitSignal(ws.controller.voiceSaved, timeout=20000):
        ws.controller.save_voice()


def test_check_for_watermark_runs_again_on_demand(ws, qtbot, clips):
    _, marked = clips
    _open(qtbot, ws, marked)
    with qtbot.waitSignal(ws.provenance.checked, timeout=60000) as blocker:
        ws.provenance.check_button.click()
    assert blocker.args[0].marked


def test_an_imported_export_shows_its_content_credentials(ws, qtbot, clips, tmp_path):
    from engine import provenance
    from studio.core.export import ExportItem, ExportOptions, export_item

    _, marked = clips
    audio, sr = sf.read(str(marked), dtype="float32")
    item = ExportItem(audio=audio, sample_rate=sr, take_id="t1", model_id="sesame/csm-1b", voice_name="Ann",
                      text="words", seed=1, watermark=provenance.stamp().to_dict(), voice_consent=True)
    res = export_item(item, tmp_path / "exports", ExportOptions(format_key="wav16",
                                                                credentials_dir=ws.ctx.paths.credentials))
    _open(qtbot, ws, res.path)
    assert FLAG in ws.provenance.label.text()
    text = ws.provenance.credentials.text()
    assert ws.provenance.credentials.isVisible()
    assert "Content credentials (embedded): AI-generated, by Mynah" in text and "signature valid" in text
    assert "sesame/csm-1b" in text and "voice consent yes" in text
