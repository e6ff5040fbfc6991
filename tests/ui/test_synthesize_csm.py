"""End to end with the real CSM backend on a tiny random checkpoint in the public sesame layout,
installed through the Models workspace's "Import local folder": generate 3 takes (streamed),
re-render bit-identically, export every format and read each back."""
import json

import numpy as np
import pytest
import soundfile as sf

from studio.core.export import ExportOptions, available_formats, export_item, integrated_lufs, read_tags
from studio.ui.engine_bridge import EngineBridge
from studio.ui.models.workspace import ModelsWorkspace
from studio.ui.synthesize.export_dialog import export_items
from studio.ui.synthesize.workspace import SynthesizeWorkspace
from tests.ui.test_synthesize_helpers import make_ctx, speechlike

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def tiny_csm_dir(tmp_path_factory):
    pytest.importorskip("transformers")
    from tests.engine.tiny_csm import build_tiny_csm

    return build_tiny_csm(tmp_path_factory.mktemp("tiny-csm") / "csm-1b", layout="sesame")


def test_tiny_csm_through_import_generate_rerender_export(qtbot, tiny_csm_dir, tmp_path):
    ctx = make_ctx()
    models = ModelsWorkspace(ctx)
    qtbot.addWidget(models)
    models.controller.import_folder(tiny_csm_dir)
    qtbot.waitUntil(lambda: models.controller.task is None, timeout=30000)
    assert models.controller.status_text() == "Installed", models.view.message.text()

    ctx.engine_bridge = EngineBridge()
    try:
        ctx.voices.create("Ann", transcript="Hello there, this is a tiny test voice.", consent=True,
                          samples=speechlike(24000, 2.0), sample_rate=24000)
        ws = SynthesizeWorkspace(ctx)
        qtbot.addWidget(ws)
        v = ws.view
        assert v.model_combo.currentText() == "Sesame CSM-1B"
        v.text_edit.setPlainText("The quick brown fox.")
        v.random_seed.setChecked(False)
        v.seed.setValue(3)
        v.takes_per_click.setValue(3)
        v.max_seconds.setValue(0.4)
        with qtbot.waitSignal(ws.controller.batchFinished, timeout=240000):
            assert ws.controller.generate()
        takes = ws.takes.list()
        assert [t.status for t in takes] == ["complete"] * 3, v.message.text()
        assert sorted(t.seed for t in takes) == [3, 4, 5]
        r = takes[0].recipe
        assert r.backend == "csm" and r.device == "cpu" and len(r.weights_sha256) == 64
        codes = ws.takes.load_codes(takes[0])
        assert codes.shape[0] == 32 and takes[0].duration_s > 0
        assert ws.ctx.player.sources  # streamed to the player

        ws.history.select(takes[-1].id)
        with qtbot.waitSignal(ws.controller.rerenderChecked, timeout=240000) as sig:
            ws.view.rerender_button.click()
        assert sig.args[1] is True, v.message.text()

        (item,) = export_items(ctx, ws.takes, [takes[0].id])
        item.audio = np.tile(item.audio, max(1, int(np.ceil(1.0 * item.sample_rate / len(item.audio)))))
        for fmt in available_formats():
            res = export_item(item, tmp_path / "exports", ExportOptions(format_key=fmt.key, loudness_lufs=-16.0))
            x, sr = sf.read(str(res.path), dtype="float32")
            assert sr == res.sample_rate and abs(len(x) / sr - len(item.audio) / item.sample_rate) < 0.08
            if np.isfinite(integrated_lufs(item.audio, item.sample_rate)):
                assert abs(integrated_lufs(x, sr) + 16.0) < 0.5, fmt.key
            assert "Synthetic speech" in read_tags(res.path)["comment"]
            assert json.loads(res.sidecar.read_text())["recipe"]["seed"] == takes[0].seed
    finally:
        ctx.engine_bridge.shutdown()
