"""VoiceDesign in the Voices workspace, on the tiny Qwen3 model made a VoiceDesign model: describe a
voice, audition seeds (different seeds, different voices), keep one as a designed voice (no consent
tick, its description kept), and it is a usable voice in Synthesize."""
import json
import shutil

import numpy as np
import pytest

from studio.ui.engine_bridge import EngineBridge
from studio.ui.voices.design_dialog import DesignVoiceDialog
from studio.ui.voices.workspace import VoicesWorkspace
from tests.ui.test_synthesize_helpers import make_ctx

pytestmark = pytest.mark.slow


@pytest.fixture
def design_model(tmp_path):
    from tests.engine.qwen3_ref.tiny import cached_full_model

    folder = tmp_path / "design"
    shutil.copytree(cached_full_model(), folder, ignore=shutil.ignore_patterns("build*", ".complete"))
    cfg = json.loads((folder / "config.json").read_text())
    cfg["tts_model_type"] = "voice_design"
    (folder / "config.json").write_text(json.dumps(cfg))
    return folder


def test_describe_audition_keep_a_designed_voice(qtbot, design_model, monkeypatch):
    monkeypatch.setattr(DesignVoiceDialog, "extra_models", [("tiny-design", design_model)])
    monkeypatch.setattr(DesignVoiceDialog, "max_audio_seconds", 0.8)
    ctx = make_ctx()
    ctx.engine_bridge = EngineBridge()
    try:
        ws = VoicesWorkspace(ctx)
        qtbot.addWidget(ws)
        dlg = ws.design_voice()
        assert dlg.audition() is False and "Describe the voice" in dlg.message.text()  # nothing to go on
        dlg.description.setPlainText("A warm, low female voice, slow, with a slight rasp")
        dlg.sample_text.setText("Hello there, this is a tiny test voice.")
        with qtbot.waitSignal(dlg.auditioned, timeout=180000):
            assert dlg.audition(seeds=[11, 12])
        assert dlg.auditions.count() == 2, dlg.message.text()
        (a, sr), (b, _) = dlg._results[11], dlg._results[12]
        assert sr == 24000 and len(a) > 0 and not np.array_equal(a[:len(b)], b[:len(a)])

        assert dlg.keep_selected() is None and "Name the voice" in dlg.message.text()
        dlg.name.setText("Rasp")
        dlg.auditions.setCurrentRow(1)
        seed = dlg.auditions.currentItem().data(0x0100)
        vid = dlg.keep_selected()
        voice = ctx.voices.get(vid)
        assert voice.designed == "A warm, low female voice, slow, with a slight rasp" and not voice.consent
        assert voice.transcript == "Hello there, this is a tiny test voice." and len(voice.clips) == 1
        clip, clip_sr = ctx.voices.load_clip(voice.clips[0])
        assert np.allclose(clip, dlg._results[seed][0], atol=1e-6) and clip_sr == 24000
        names = [ws.view.voice_list.item(i).text() for i in range(ws.view.voice_list.count())]
        assert "Rasp" in names
        ws.view.voice_list.setCurrentRow(names.index("Rasp"))
        assert "Designed, not recorded" in ws.view.voice_details.text()
    finally:
        ctx.engine_bridge.shutdown()


def test_without_a_voice_design_model_the_dialog_says_where_to_get_one(qtbot):
    ctx = make_ctx()
    dlg = DesignVoiceDialog(ctx)
    qtbot.addWidget(dlg)
    assert not dlg.audition_button.isEnabled() and "VoiceDesign" in dlg.message.text()
