"""Qwen3-TTS in the studio, on the tiny random model in the Hub layout (built once per machine):
a German take stores its detected language in the recipe, keeps 16 codebooks, plays codebooks 1..k,
re-renders bit-identically; a CustomVoice model offers its preset speakers and a style field, and its
take (speaker and style in the recipe) re-renders bit-identically; best-of-N and Compare lanes."""
import json
import shutil

import numpy as np
import pytest

from studio.ui.engine_bridge import EngineBridge
from studio.ui.synthesize.workspace import SynthesizeWorkspace
from tests.ui.test_synthesize_helpers import make_ctx, speechlike

pytestmark = pytest.mark.slow
TRANSCRIPT = "Hello there, this is a tiny test voice."


@pytest.fixture(scope="module")
def tiny_qwen3():
    from tests.engine.qwen3_ref.tiny import cached_full_model

    return cached_full_model()


def _workspace(qtbot, ctx, folder, model_id="tiny-qwen3", transcript="", seconds=2.0) -> SynthesizeWorkspace:
    """A Synthesize workspace on `ctx` with the voice "Ann" in the library and the Qwen3 model at
    `folder` chosen."""
    ctx.voices.create("Ann", transcript=transcript, consent=True, samples=speechlike(24000, seconds),
                      sample_rate=24000)
    ws = SynthesizeWorkspace(ctx)
    qtbot.addWidget(ws)
    ws.controller.extra_models.append((model_id, folder, "qwen3"))
    ws.controller.refresh_models()
    ws.view.model_combo.setCurrentIndex(ws.view.model_combo.findText(model_id))
    return ws


def _generate(qtbot, ws):
    with qtbot.waitSignal(ws.controller.batchFinished, timeout=180000):
        assert ws.controller.generate(), ws.view.message.text()


def test_a_german_take_language_codebooks_and_rerender(qtbot, tiny_qwen3, tmp_path):
    ctx = make_ctx()
    ctx.engine_bridge = EngineBridge()
    try:
        ws = _workspace(qtbot, ctx, tiny_qwen3, transcript=TRANSCRIPT)
        c, v = ws.controller, ws.view
        # A Base model: the language row, no style row; the library's voices (it clones).
        assert v.pick_form.isRowVisible(v.language_combo) and not v.pick_form.isRowVisible(v.instruct_edit)
        assert v.language_combo.currentData() == "detect"
        assert v.voice_combo.findText("Ann") >= 0
        v.voice_combo.setCurrentIndex(v.voice_combo.findText("Ann"))
        v.device_combo.setCurrentIndex(v.device_combo.findData("cpu"))
        v.text_edit.setPlainText("Das Wetter ist heute schön, wir gehen spazieren.")
        v.random_seed.setChecked(False)
        v.seed.setValue(5)
        v.max_seconds.setValue(0.8)
        _generate(qtbot, ws)
        take = ws.takes.list()[0]
        assert take.status == "complete", v.message.text()
        r = take.recipe
        assert r.backend == "qwen3" and r.options == {"language": "german"}  # detected, kept in the recipe
        ws.history.select(take.id)
        assert "language <b>german</b>" in v.take_info.text()
        codes = ws.takes.load_codes(take)
        assert codes.shape[0] == 16 and 0 < codes.shape[1] <= 10

        ws.history.select(take.id)
        assert v.codebooks.maximum() == 16 and v.hear_codebooks_button.isEnabled()
        audio, _ = ws.takes.load_audio(take)
        n_before = len(ctx.player.sources)
        v.codebooks.setValue(4)
        v.hear_codebooks_button.click()
        qtbot.waitUntil(lambda: "codebooks 1..4" in v.message.text() or "Could not" in v.message.text(),
                        timeout=60000)
        assert "Playing codebooks 1..4" in v.message.text(), v.message.text()
        assert len(ctx.player.sources) > n_before and abs(ctx.player.sources[-1] - codes.shape[1] * 1920) <= 1920
        partial = np.asarray(ctx.player.samples)
        assert not np.allclose(partial[:len(audio)], audio[:len(partial)], atol=1e-3)  # 4 levels sound different

        with qtbot.waitSignal(c.rerenderChecked, timeout=180000) as sig:
            assert c.rerender(take), v.message.text()
        assert sig.args[1] is True, v.message.text()  # bit-identical
        qtbot.waitUntil(lambda: not c.busy, timeout=30000)

        # A chosen language wins over detection and is what the recipe keeps.
        v.language_combo.setCurrentIndex(v.language_combo.findData("fr"))
        assert c.settings().options["language"] == "french"
        v.language_combo.setCurrentIndex(v.language_combo.findData("detect"))
        v.text_edit.setPlainText("12 34")  # nothing to tell: the model's own guess
        assert c.settings().options["language"] == "auto"
    finally:
        ctx.engine_bridge.shutdown()


def test_custom_voice_model_offers_its_speakers_and_a_style_and_rerenders(qtbot, tiny_qwen3, tmp_path):
    folder = tmp_path / "custom"
    shutil.copytree(tiny_qwen3, folder, ignore=shutil.ignore_patterns("build*", ".complete"))
    cfg = json.loads((folder / "config.json").read_text())
    cfg["tts_model_type"] = "custom_voice"
    (folder / "config.json").write_text(json.dumps(cfg))
    ctx = make_ctx()
    ws = _workspace(qtbot, ctx, folder, "tiny-qwen3-custom", seconds=1.0)
    c, v = ws.controller, ws.view
    items = [v.voice_combo.itemText(i) for i in range(v.voice_combo.count())]
    assert "Preset: ryan" in items and "Preset: eric" in items
    assert "Ann" not in items  # it cannot clone a recorded voice
    assert v.pick_form.isRowVisible(v.instruct_edit) and v.pick_form.isRowVisible(v.language_combo)
    v.voice_combo.setCurrentIndex(v.voice_combo.findText("Preset: ryan"))
    v.instruct_edit.setText("calm, slightly amused")
    v.text_edit.setPlainText("Hello there, this is a tiny test voice.")
    assert c.settings().options == {"language": "english", "speaker": "ryan", "instruct": "calm, slightly amused"}
    assert c.voice_spec("preset:ryan", "qwen3", folder) is None  # the speaker travels in the options
    ctx.engine_bridge = EngineBridge()
    try:
        v.random_seed.setChecked(False)
        v.max_seconds.setValue(0.6)
        _generate(qtbot, ws)
        take = ws.takes.list(voice_id="preset:ryan")[0]
        assert take.status == "complete", v.message.text()
        assert take.recipe.options == {"language": "english", "speaker": "ryan", "instruct": "calm, slightly amused"}
        with qtbot.waitSignal(c.rerenderChecked, timeout=180000) as sig:
            assert c.rerender(take), v.message.text()
        assert sig.args[1] is True, v.message.text()
        qtbot.waitUntil(lambda: not c.busy, timeout=30000)
    finally:
        ctx.engine_bridge.shutdown()


def test_best_of_n_and_compare_lanes_with_qwen3(qtbot, tiny_qwen3):
    from studio.ui.compare.workspace import CompareWorkspace
    from tests.ui.eval_fakes import FakeScorer, fake_bridge

    scorer = FakeScorer(similarities=[0.62, 0.91, 0.70])
    ctx = make_ctx()
    ctx.engine_bridge = fake_bridge(scorer)  # the real engine and Qwen3 backend, a fake scorer
    try:
        ws = _workspace(qtbot, ctx, tiny_qwen3)
        c, v = ws.controller, ws.view
        v.voice_combo.setCurrentIndex(v.voice_combo.findText("Ann"))  # no transcript: speaker embedding only
        v.text_edit.setPlainText("The quick brown fox.")
        v.random_seed.setChecked(False)
        v.seed.setValue(21)
        v.max_seconds.setValue(0.6)
        v.best_of_n.setValue(3)
        with qtbot.waitSignal(ws.scoring.groupRanked, timeout=180000):
            assert c.generate(), v.message.text()
        takes = ws.takes.list()
        assert sorted(t.seed for t in takes) == [21, 22, 23] and all(t.recipe.backend == "qwen3" for t in takes)
        assert all(t.recipe.options["language"] == "english" for t in takes)
        sims = {t.id: ws.scoring.cached(t).similarity for t in takes}
        assert ws.history.current.id == max(sims, key=sims.get)
        assert all(ws.takes.load_codes(t).shape[0] == 16 for t in takes)
    finally:
        ctx.engine_bridge.shutdown()

    cmp = CompareWorkspace(ctx)
    qtbot.addWidget(cmp)
    with qtbot.waitSignal(cmp.controller.lanesReady, timeout=20000):
        cmp.controller.add_items([("take", t.id) for t in takes[:2]])
    assert len(cmp.controller.lanes) == 2
    assert all("tiny-qwen3" in row.name.text() for row in cmp.controller.rows)


def test_the_chunks_marked_before_generating_are_the_takes_chunks(qtbot, tiny_qwen3):
    """A real-length English script (numbers and "Dr." the normalizer rewrites) with an in-context voice:
    the marks drawn before generating are where the take's own chunks are."""
    from studio.ui.synthesize import chunk_marks
    from tests.engine.qwen3_texts import ENGLISH, SECOND_PART

    ctx = make_ctx()
    ctx.engine_bridge = EngineBridge()
    try:
        ws = _workspace(qtbot, ctx, tiny_qwen3, transcript=TRANSCRIPT, seconds=6.0)
        c, v = ws.controller, ws.view
        v.voice_combo.setCurrentIndex(v.voice_combo.findText("Ann"))
        v.device_combo.setCurrentIndex(v.device_combo.findData("cpu"))
        script = ENGLISH + SECOND_PART["english"]
        v.text_edit.setPlainText(script)
        c.update_chunk_marks()
        shown = v.chunk_info.text()
        marks = [(s.cursor.selectionStart(), s.cursor.selectionEnd()) for s in v.text_edit.extraSelections()]
        v.random_seed.setChecked(False)
        v.max_seconds.setValue(0.1)
        _generate(qtbot, ws)
        take = ws.takes.list()[0]
        assert take.status == "complete", v.message.text()
        chunks = list(take.recipe.chunks)
        assert len(chunks) >= 4 and shown.startswith(f"{len(chunks)} chunks · 1 pause")
        assert any("nineteen ninety-eight" in ch for ch in chunks)  # the worker's chunks are normalized text
        assert marks == [(s.start, s.end) for s in chunk_marks.locate(script, chunks)]
        assert len(marks) == len(chunks) + 1  # each chunk marked in the typed text, and the pause
        spoken = sorted(m for m in marks if script[m[0]] != "\n")
        assert " ".join(script[a:b] for a, b in spoken).split() == script.split()  # they tile the script
    finally:
        ctx.engine_bridge.shutdown()
