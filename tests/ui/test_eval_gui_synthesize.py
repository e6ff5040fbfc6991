"""Scores on takes in the Synthesize workspace, through the real EngineBridge/worker with a fake
scorer: the word diff marks a dropped word, scores survive a workspace rebuild (library cache),
best-of-N keeps the best-scoring candidate, lists the runners-up and lets the user promote one."""
import pytest

from studio.ui.synthesize.workspace import SynthesizeWorkspace
from tests.engine.test_worker_fake_backend import FakeBackend
from tests.ui.eval_fakes import FakeScorer, fake_bridge
from tests.ui.test_synthesize_helpers import make_ctx, speechlike

TEXT = "Hello there. This is a short test of the studio."


@pytest.fixture
def make_ws(qtbot, tmp_path):
    made = []

    def make(scorer, ctx=None):
        if ctx is None:
            ctx = make_ctx()
            ctx.engine_bridge = fake_bridge(scorer, FakeBackend())
            ctx.voices.create("Ann", transcript="This is my reference voice.", consent=True,
                              samples=speechlike(24000, 3.0), sample_rate=24000)
        ws = SynthesizeWorkspace(ctx)
        qtbot.addWidget(ws)
        ws.controller.extra_models = [("local/fake-tts", tmp_path, "fake")]
        ws.controller.refresh_models()
        ws.controller.refresh_voices()
        ws.view.text_edit.setPlainText(TEXT)
        made.append(ws)
        return ws
    yield make
    for b in {id(ws.ctx.engine_bridge): ws.ctx.engine_bridge for ws in made}.values():
        b.shutdown()


def generate(qtbot, ws):
    with qtbot.waitSignal(ws.controller.batchFinished, timeout=20000):
        assert ws.controller.generate()


def test_scored_take_shows_the_dropped_word_and_survives_a_rebuild(make_ws, qtbot):
    scorer = FakeScorer(hear=lambda text: text.replace("short ", ""))  # the take "dropped" one word
    ws = make_ws(scorer)
    v = ws.view
    generate(qtbot, ws)
    take = ws.history.current
    assert take is not None and "Not scored" in v.scores.summary.text()
    with qtbot.waitSignal(ws.scoring.takeScored, timeout=20000):
        v.score_button.click()
    qtbot.waitUntil(lambda: not ws.scoring._pending, timeout=20000)
    html = v.scores.diff.toHtml()
    # The dropped word is struck through in red; its neighbours are plain.
    assert "line-through" in html and "short" in html
    dropped = html.split("line-through", 1)[1].split("</span>", 1)[0]
    assert "short" in dropped and "test" not in dropped
    assert "WER</b> 10.0% (1 dropped)" in v.scores.summary.text()
    details = v.scores.diff.toPlainText()
    assert "1 dropped" in details and "DNSMOS ovr 3.10" in details and "Similarity to the voice" in details
    assert v.scores.scores.wer.dropped_words == ["short"]
    assert scorer.calls[0] == TEXT  # the take's own text was the reference for WER
    v.scores.grab().save("/tmp/mynah-eval-take-scores.png")
    ws.grab().save("/tmp/mynah-eval-synthesize.png")

    # A fresh workspace on the same library shows the cached scores without scoring again.
    n_calls = len(scorer.calls)
    ctx = ws.ctx
    ws.close()
    ws2 = make_ws(scorer, ctx=ctx)
    ws2.history.select(take.id)
    assert ws2.scoring.cached(take) is not None
    assert "line-through" in ws2.view.scores.diff.toHtml()
    assert len(scorer.calls) == n_calls and not ws2.scoring._pending


def test_auto_score_after_generation_and_per_chunk_strip(make_ws, qtbot):
    scorer = FakeScorer()
    ws = make_ws(scorer)
    v = ws.view
    v.auto_score.setChecked(True)
    assert ws.ctx.settings.auto_score_takes is True
    v.text_edit.setPlainText("First sentence here.\n\nSecond sentence there.\n\nThird one ends it.")
    generate(qtbot, ws)
    take = ws.history.current
    qtbot.waitUntil(lambda: ws.scoring.cached(take) is not None and not ws.scoring._pending, timeout=20000)
    assert len(take.chunk_spans) == 3
    strip = v.chunk_strip
    assert not strip.isHidden() and len(strip.cells) == 3
    # Cells sit on the chunks' time spans and carry each chunk's own numbers.
    sr = take.sample_rate
    assert [round(c.start_s * sr) for c in strip.cells] == [a for a, _ in take.chunk_spans]
    assert all(c.wer == 0.0 and c.similarity is not None for c in strip.cells)
    ws.resize(1100, 900)
    ws.grab().save("/tmp/mynah-eval-chunks.png")
    assert len(scorer.calls) == 4 and scorer.calls[0] == take.recipe.text  # whole take + 3 chunks
    assert scorer.calls[1:] == list(take.recipe.chunks[:3])


def test_best_of_n_keeps_the_best_lists_runners_up_and_promotes(make_ws, qtbot):
    scorer = FakeScorer(similarities=[0.70, 0.93, 0.81])  # the fake TTS makes the same audio per seed
    ws = make_ws(scorer)
    v = ws.view
    v.random_seed.setChecked(False)
    v.seed.setValue(11)
    v.best_of_n.setValue(3)
    with qtbot.waitSignal(ws.scoring.groupRanked, timeout=30000):
        assert ws.controller.generate()
    takes = ws.takes.list()
    assert len(takes) == 3 and sorted(t.seed for t in takes) == [11, 12, 13]
    sims = {t.id: ws.scoring.cached(t).similarity for t in takes}
    assert sorted(sims.values()) == [0.70, 0.81, 0.93]
    best = max(sims, key=sims.get)  # WER, DNSMOS, QC are equal here: similarity decides
    assert ws.history.current.id == best
    labels = [v.take_list.item(i).text() for i in range(v.take_list.count())]
    assert sum("best of 3" in s for s in labels) == 1
    assert sum("runner-up" in s for s in labels) == 2
    assert "Best of 3" in v.message.text()
    ws.grab().save("/tmp/mynah-eval-best-of-n.png")
    # The user prefers a runner-up: promote it.
    runner = next(t for t in takes if t.id != best)
    ws.history.select(runner.id)
    assert v.promote_button.isVisibleTo(ws)
    v.promote_button.click()
    labels = {v.take_list.item(i).data(256): v.take_list.item(i).text() for i in range(v.take_list.count())}
    assert "best of 3" in labels[runner.id] and "runner-up" in labels[best]
    assert not v.promote_button.isVisibleTo(ws)
