"""Voices: "good enough to clone?" and Transcribe, scored on the engine thread. A fake scorer for the
interaction (fill, ask before replacing typed text); one test with the real Scorer (bundled Whisper)
on a real clip."""
from pathlib import Path

import pytest

from engine.eval.wer import compute_wer
from studio.ui.voices.workspace import VoicesWorkspace
from tests.ui.eval_fakes import FakeScorer, fake_bridge
from tests.ui.test_synthesize_helpers import make_ctx


@pytest.fixture
def make_ws(qtbot):
    made = []

    def make(bridge):
        ctx = make_ctx()
        ctx.engine_bridge = bridge
        ws = VoicesWorkspace(ctx)
        qtbot.addWidget(ws)
        ws.resize(1300, 760)
        made.append(ws)
        return ws
    yield make
    for ws in made:
        ws.ctx.engine_bridge.shutdown()
    from studio.ui.widgets.background import shutdown_pools

    shutdown_pools()


def _open(qtbot, ws, path: Path) -> None:
    with qtbot.waitSignal(ws.controller.importFinished, timeout=30000):
        ws.import_files([Path(path)])


def _transcribe(qtbot, ws, timeout=20000):
    cs = ws.clip_scores
    with qtbot.waitSignal(cs.transcribed, timeout=timeout) as blocker:
        cs.panel.transcribe_button.click()
    return blocker.args[0]


def test_transcribe_fills_the_field_and_never_silently_replaces_typed_text(make_ws, qtbot, speech_clips):
    scorer = FakeScorer(transcript="if the reader will excuse me")
    ws = make_ws(fake_bridge(scorer))
    _open(qtbot, ws, speech_clips[0]["path"])
    field, cs = ws.view.transcript_edit, ws.clip_scores
    assert _transcribe(qtbot, ws) == "if the reader will excuse me"
    assert field.toPlainText() == "if the reader will excuse me"
    assert "whisper" in cs.panel.asr_label.text()
    # Our own fill is replaced freely; the user's edit is not, unless they say so.
    field.setPlainText("If the reader will excuse me, I will say nothing.")
    asked = []
    cs.ask = lambda text: asked.append(text) or False
    _transcribe(qtbot, ws)
    assert asked == ["if the reader will excuse me"]
    assert field.toPlainText() == "If the reader will excuse me, I will say nothing."
    assert "your text kept" in cs.panel.asr_label.text()
    cs.ask = lambda text: True
    _transcribe(qtbot, ws)
    assert field.toPlainText() == "if the reader will excuse me"


def test_check_clip_shows_quality_and_qc_verdict(make_ws, qtbot, speech_clips):
    scorer = FakeScorer()
    ws = make_ws(fake_bridge(scorer))
    # The ASR settings reach the engine's Scorer as its config.
    ws.ctx.settings.whisper_model_dir, ws.ctx.settings.asr_language = "/models/whisper-small", "de"
    _open(qtbot, ws, speech_clips[0]["path"])
    p = ws.clip_scores.panel
    with qtbot.waitSignal(ws.clip_scores.checked, timeout=20000):
        p.check_button.click()
    assert "Good enough to clone" in p.verdict.text()
    assert "DNSMOS ovr 3.10" in p.details.text() and "QC: no issues" in p.details.text()
    cfg = scorer.configs[-1]
    assert cfg.whisper_model == "/models/whisper-small" and cfg.language == "de"
    ws.grab().save("/tmp/mynah-eval-voices.png")


def test_real_whisper_transcribes_a_real_clip(make_ws, qtbot, speech_clips):
    """The one test with the real Scorer: bundled Whisper tiny.en on the engine thread."""
    from studio.ui.engine_bridge import EngineBridge

    row = next(r for r in speech_clips if r["file"].startswith("librispeech"))
    ws = make_ws(EngineBridge())
    _open(qtbot, ws, row["path"])
    text = _transcribe(qtbot, ws, timeout=120000)
    assert ws.view.transcript_edit.toPlainText() == text
    assert compute_wer(row["transcript"], text).wer < 0.25
    assert "whisper" in ws.clip_scores.panel.asr_label.text().lower()


def test_a_scoring_failure_is_said_plainly_and_the_form_kept(make_ws, qtbot, speech_clips):
    class Broken(FakeScorer):
        def score(self, *a, **k):
            raise FileNotFoundError("Whisper model folder /nope has no model.bin")
    ws = make_ws(fake_bridge(Broken()))
    _open(qtbot, ws, speech_clips[0]["path"])
    ws.view.transcript_edit.setPlainText("my words")
    p = ws.clip_scores.panel
    p.transcribe_button.click()
    qtbot.waitUntil(lambda: "Could not score" in p.verdict.text(), timeout=20000)
    assert "/nope has no model.bin" in p.verdict.text()
    assert ws.view.transcript_edit.toPlainText() == "my words" and p.transcribe_button.isEnabled()
