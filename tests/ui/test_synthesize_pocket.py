"""Pocket TTS in the studio: the workspace recommends it on a CPU, a voice without a transcript clones,
takes stream and store their latents (heat map, no codebooks to hear), the encoded voice is kept with
the voice, re-render is bit-identical, and a Pocket take sits beside a CSM take in one Compare session."""
import numpy as np
import pytest

from studio.ui.compare.workspace import CompareWorkspace
from studio.ui.engine_bridge import EngineBridge
from studio.ui.synthesize.workspace import SynthesizeWorkspace
from tests.ui.test_synthesize_helpers import make_ctx, speechlike

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_pocket_dir(tmp_path_factory):
    from tests.engine.tiny_pocket import build_pocket

    return build_pocket(tmp_path_factory.mktemp("tiny-pocket") / "pocket", "tiny")


def _generate(qtbot, ws):
    with qtbot.waitSignal(ws.controller.batchFinished, timeout=120000):
        assert ws.controller.generate(), ws.view.message.text()


def test_pocket_takes_heat_map_stored_voice_rerender_and_compare_with_csm(qtbot, tiny_pocket_dir):
    ctx = make_ctx()
    ctx.engine_bridge = EngineBridge()
    try:
        voice = ctx.voices.create("Ann", transcript="", consent=True, samples=speechlike(24000, 2.0),
                                  sample_rate=24000)
        ws = SynthesizeWorkspace(ctx)
        qtbot.addWidget(ws)
        c, v = ws.controller, ws.view
        c.extra_models.append(("tiny-pocket", tiny_pocket_dir, "pocket"))
        c.refresh_models()
        assert "Pocket TTS" in v.recommendation.text()  # this machine has no GPU
        v.model_combo.setCurrentIndex(v.model_combo.findText("tiny-pocket"))
        # Pocket's knobs replace top-k/top-p, and its recommended temperature replaces CSM's.
        assert v.temperature.value() == pytest.approx(0.3) and not v.top_k.isEnabled()
        assert v.settings_form.isRowVisible(v.pocket_box)
        v.flow_steps.setValue(2)
        v.device_combo.setCurrentIndex(v.device_combo.findData("cpu"))
        v.text_edit.setPlainText("The quick brown fox.")
        v.random_seed.setChecked(False)
        v.seed.setValue(3)
        v.takes_per_click.setValue(2)
        v.max_seconds.setValue(0.8)
        _generate(qtbot, ws)
        takes = ws.takes.list()
        assert [t.status for t in takes] == ["complete"] * 2, v.message.text()  # no transcript needed
        r = takes[0].recipe
        assert (r.backend, r.device, r.dtype) == ("pocket", "cpu", "float32") and len(r.weights_sha256) == 64
        assert r.options == {"decode_steps": 2} and r.temperature == pytest.approx(0.3)
        latents = ws.takes.load_latents(takes[0])
        assert latents.dtype == np.float32 and latents.shape[0] == 16 and 0 < latents.shape[1] <= 10
        assert ws.takes.load_codes(takes[0]) is None
        stored = list((ctx.paths.voices / str(voice.id) / "states").glob("*.safetensors"))
        assert len(stored) == 1  # encoded once, kept with the voice

        ws.history.select(takes[-1].id)
        assert v.tokens.latent and v.tokens.codes.shape == ws.takes.load_latents(takes[-1]).shape
        assert v.tokens.getPlotItem().getAxis("left").labelText == "latent dim"
        assert not v.hear_codebooks_button.isEnabled()  # no codebooks in a continuous model
        assert "(cpu, float32)" in v.take_info.text() and "decode_steps=2" in v.take_info.text()
        assert "k=50" not in v.take_info.text()
        with qtbot.waitSignal(c.rerenderChecked, timeout=120000) as sig:
            assert c.rerender(takes[-1]), v.message.text()
        assert sig.args[1] is True, v.message.text()
        qtbot.waitUntil(lambda: not c.busy, timeout=30000)
        pocket_take = takes[0]

        pytest.importorskip("transformers")
        from tests.engine.tiny_csm import cached_tiny_csm

        ctx.voices.update(voice.id, transcript="Hello there, this is a tiny test voice.")  # CSM needs one
        c.extra_models.append(("tiny-csm", cached_tiny_csm(), "csm"))
        c.refresh_models()
        v.model_combo.setCurrentIndex(v.model_combo.findText("tiny-csm"))
        assert v.temperature.value() == pytest.approx(0.9) and v.top_k.isEnabled()
        assert not v.settings_form.isRowVisible(v.pocket_box)
        v.takes_per_click.setValue(1)
        v.max_seconds.setValue(0.4)
        _generate(qtbot, ws)
        csm_take = next(t for t in ws.takes.list() if t.recipe.backend == "csm")
        assert ws.takes.load_codes(csm_take).shape[0] == 32
    finally:
        ctx.engine_bridge.shutdown()

    cmp = CompareWorkspace(ctx)
    qtbot.addWidget(cmp)
    with qtbot.waitSignal(cmp.controller.lanesReady, timeout=20000):
        cmp.controller.add_items([("take", pocket_take.id), ("take", csm_take.id)])
    lanes = cmp.controller.lanes
    assert len(lanes) == 2 and len({l.sample_rate for l in lanes}) == 1
    names = " ".join(row.name.text() for row in cmp.controller.rows)
    assert "tiny-pocket" in names and "tiny-csm" in names


def test_preset_voices_of_a_model_without_cloning_and_regenerating_a_chunk(qtbot, tmp_path):
    from tests.engine.tiny_pocket import build_pocket

    folder = build_pocket(tmp_path / "public", "tiny", seed=2, cloning=False, presets=("alba", "marius"))
    ctx = make_ctx()
    ctx.engine_bridge = EngineBridge()
    try:
        ctx.voices.create("Ann", transcript="", consent=True, samples=speechlike(24000, 2.0), sample_rate=24000)
        ws = SynthesizeWorkspace(ctx)
        qtbot.addWidget(ws)
        c, v = ws.controller, ws.view
        c.extra_models.append(("tiny-pocket-public", folder, "pocket"))
        c.refresh_models()
        v.model_combo.setCurrentIndex(v.model_combo.findText("tiny-pocket-public"))
        items = [v.voice_combo.itemText(i) for i in range(v.voice_combo.count())]
        assert "Preset: alba" in items and "Preset: marius" in items
        v.text_edit.setPlainText("Hello there. This is the second sentence of the take.")
        v.random_seed.setChecked(False)
        v.max_seconds.setValue(0.8)

        v.voice_combo.setCurrentIndex(v.voice_combo.findText("Ann"))  # a clip: this model cannot clone it
        _generate(qtbot, ws)
        assert "without voice cloning" in v.message.text() and "alba" in v.message.text()

        v.voice_combo.setCurrentIndex(v.voice_combo.findText("Preset: alba"))
        _generate(qtbot, ws)
        take = ws.takes.list(voice_id="preset:alba")[0]
        assert take.status == "complete" and take.recipe.voice_id == "preset:alba"
        assert len(take.chunk_spans) == 2, take.recipe.chunks  # two sentences, two chunks
        with qtbot.waitSignal(c.takeStored, timeout=120000) as sig:
            assert c.regenerate_chunk(take, 1, seed=99), v.message.text()
        edited = ws.takes.get(sig.args[0])
        a, _ = ws.takes.load_audio(take)
        b, _ = ws.takes.load_audio(edited)
        s0, e0 = take.chunk_spans[0]
        assert np.array_equal(a[:e0 - 2000], b[:e0 - 2000])  # the first chunk is untouched
        assert not np.array_equal(a[e0:e0 + 4000], b[e0:e0 + 4000])  # the second one is new
    finally:
        ctx.engine_bridge.shutdown()


def test_best_of_n_with_pocket_tts(qtbot, tiny_pocket_dir):
    from tests.ui.eval_fakes import FakeScorer, fake_bridge

    scorer = FakeScorer(similarities=[0.61, 0.88, 0.74])
    ctx = make_ctx()
    ctx.engine_bridge = fake_bridge(scorer)  # the real engine and Pocket backend, a fake scorer
    try:
        ctx.voices.create("Ann", transcript="", consent=True, samples=speechlike(24000, 2.0), sample_rate=24000)
        ws = SynthesizeWorkspace(ctx)
        qtbot.addWidget(ws)
        c, v = ws.controller, ws.view
        c.extra_models.append(("tiny-pocket", tiny_pocket_dir, "pocket"))
        c.refresh_models()
        c.refresh_voices()
        v.model_combo.setCurrentIndex(v.model_combo.findText("tiny-pocket"))
        v.text_edit.setPlainText("The quick brown fox.")
        v.random_seed.setChecked(False)
        v.seed.setValue(21)
        v.max_seconds.setValue(0.6)
        v.best_of_n.setValue(3)
        with qtbot.waitSignal(ws.scoring.groupRanked, timeout=120000):
            assert c.generate(), v.message.text()
        takes = ws.takes.list()
        assert sorted(t.seed for t in takes) == [21, 22, 23] and all(t.recipe.backend == "pocket" for t in takes)
        sims = {t.id: ws.scoring.cached(t).similarity for t in takes}
        assert ws.history.current.id == max(sims, key=sims.get)
        assert all(ws.takes.load_latents(t) is not None for t in takes)
    finally:
        ctx.engine_bridge.shutdown()
