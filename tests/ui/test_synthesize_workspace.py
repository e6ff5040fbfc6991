"""Synthesize workspace driven through a real EngineBridge + worker with the deterministic fake
backend: takes per click, streaming, stop, re-render, history, delete/undo, export, bad input."""
import numpy as np
import pytest
import soundfile as sf

from studio.ui.engine_bridge import EngineBridge
from studio.ui.synthesize.workspace import SynthesizeWorkspace
from tests.engine.test_worker_fake_backend import FakeBackend
from tests.ui.test_synthesize_helpers import make_ctx, speechlike

TEXT = "Hello there. This is a short test of the studio."


@pytest.fixture
def make_ws(qtbot, tmp_path):
    made = []

    def make(backend=None, voice=True):
        ctx = make_ctx()
        backend = backend or FakeBackend()
        ctx.engine_bridge = EngineBridge(backend_factory=lambda name: backend)
        if voice:
            ctx.voices.create("Ann", transcript="This is my reference voice.", consent=True,
                              samples=speechlike(24000, 3.0), sample_rate=24000)
        ws = SynthesizeWorkspace(ctx)
        qtbot.addWidget(ws)
        ws.controller.extra_models = [("local/fake-tts", tmp_path, "fake")]
        ws.controller.refresh_models()
        ws.controller.refresh_voices()
        ws.view.text_edit.setPlainText(TEXT)
        made.append(ws)
        return ws, backend
    yield make
    for ws in made:
        ws.ctx.engine_bridge.shutdown()


def generate(qtbot, ws, timeout=20000):
    with qtbot.waitSignal(ws.controller.batchFinished, timeout=timeout):
        assert ws.controller.generate()


def test_three_takes_with_seeds_recipes_and_streamed_playback(make_ws, qtbot):
    ws, backend = make_ws(FakeBackend(frame_delay_s=0.005))
    v = ws.view
    v.random_seed.setChecked(False)
    v.seed.setValue(5)
    v.takes_per_click.setValue(3)
    v.temperature.setValue(0.7)
    played_while_busy = []
    orig_play = ws.ctx.player.play

    def spy(*a, **k):
        played_while_busy.append(ws.controller.busy)
        orig_play(*a, **k)
    ws.ctx.player.play = spy
    generate(qtbot, ws)
    takes = ws.takes.list()
    assert sorted(t.seed for t in takes) == [5, 6, 7]
    assert all(t.status == "complete" and t.recipe.backend == "fake" and t.recipe.temperature == 0.7
               and t.recipe.weights_sha256 == "0" * 64 and t.recipe.chunks for t in takes)
    assert played_while_busy == [True]  # playback started before generation was over
    assert "first_audio_s" in takes[0].timings
    # The list shows every take with its seed; the newest is selected and on screen.
    labels = [v.take_list.item(i).text() for i in range(v.take_list.count())]
    assert len(labels) == 3 and all("seed" in s for s in labels)
    assert ws.history.current is not None and v.waveform.duration_s > 0
    assert v.tokens.codes is not None and v.tokens.codes.shape[0] == 4
    qtbot.waitUntil(v.mel.has_image, timeout=20000)  # the spectrogram arrives from a worker thread
    ws.grab().save("/tmp/mynah-synthesize.png")


def test_random_seed_is_recorded_and_differs(make_ws, qtbot):
    ws, _ = make_ws()
    ws.view.takes_per_click.setValue(2)
    generate(qtbot, ws)
    seeds = [t.seed for t in ws.takes.list()]
    assert len(set(seeds)) == 2 and all(isinstance(s, int) for s in seeds)


def test_stop_keeps_what_was_made_as_cancelled(make_ws, qtbot):
    ws, backend = make_ws(FakeBackend(frame_delay_s=0.03))
    ws.view.text_edit.setPlainText(" ".join(["word"] * 200))
    got_audio = []
    ws.ctx.engine_bridge.audioChunk.connect(lambda ev: got_audio.append(ev))
    with qtbot.waitSignal(ws.controller.batchFinished, timeout=20000):
        ws.controller.generate()
        qtbot.waitUntil(lambda: len(got_audio) >= 2, timeout=10000)
        ws.view.stop_button.click()
    (take,) = ws.takes.list()
    assert take.status == "cancelled" and "cancelled" in ws.view.take_list.item(0).text()
    full = 200 * 2 * 640 / 8000  # what the whole text would have been
    assert 0 < take.duration_s < full / 2
    assert "Stopped" in ws.view.message.text()
    assert ws.view.generate_button.isEnabled()


def test_rerender_reproduces_bit_identical_audio(make_ws, qtbot):
    ws, _ = make_ws()
    generate(qtbot, ws)
    (take,) = ws.takes.list()
    with qtbot.waitSignal(ws.controller.rerenderChecked, timeout=20000) as sig:
        ws.view.rerender_button.click()
    new_id, same = sig.args
    assert same and new_id != take.id
    a, _ = ws.takes.load_audio(take)
    b, _ = ws.takes.load_audio(new_id)
    assert np.array_equal(a, b) and "bit for bit" in ws.view.message.text()


def test_history_search_favourite_delete_and_undo(make_ws, qtbot):
    ws, _ = make_ws()
    generate(qtbot, ws)
    ws.view.text_edit.setPlainText("A completely different sentence about ravens.")
    generate(qtbot, ws)
    v = ws.view
    v.search.setText("ravens")
    qtbot.waitUntil(lambda: v.take_list.count() == 1, timeout=3000)
    v.take_list.item(0).setSelected(True)
    v.favourite_button.click()
    v.search.setText("")
    v.favourites_only.setChecked(True)
    qtbot.waitUntil(lambda: v.take_list.count() == 1, timeout=3000)
    assert "ravens" in v.take_list.item(0).text() and v.take_list.item(0).text().startswith("★")
    v.favourites_only.setChecked(False)
    qtbot.waitUntil(lambda: v.take_list.count() == 2, timeout=3000)
    v.take_list.item(0).setSelected(True)
    gone = ws.history.selected_ids()
    v.delete_button.click()
    assert v.take_list.count() == 1 and len(ws.takes.list()) == 1
    ws.undo_stack.undo()
    assert v.take_list.count() == 2 and ws.history.selected_ids() == gone
    assert ws.takes.load_audio(gone[0])[0].size > 0


def test_export_dialog_writes_tagged_files(make_ws, qtbot, tmp_path):
    from studio.ui.synthesize.export_dialog import ExportDialog

    ws, _ = make_ws()
    generate(qtbot, ws)
    take = ws.takes.list()[0]
    dlg = ExportDialog(ws.ctx, ws.takes, [take.id])
    qtbot.addWidget(dlg)
    dlg.format.setCurrentIndex(dlg.format.findData("flac"))
    dlg.rate.setCurrentIndex(dlg.rate.findData(16000))
    dlg.loudness.setCurrentIndex(dlg.loudness.findData(-23.0))
    dlg.start(tmp_path / "out")
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=10000)
    (res,) = dlg.result.results
    info = sf.info(str(res.path))
    assert info.samplerate == 16000 and res.path.name.startswith("Ann_fake-tts_seed")
    assert "Synthetic speech" in sf.SoundFile(str(res.path)).copy_metadata()["comment"]
    assert "Exported 1 file" in dlg.message.text()


@pytest.mark.parametrize("text,expect", [
    ("", "Type or paste some text"),
    ("   \n\n  ", "Type or paste some text"),
    ("x" * 20_001, "limit for one generation"),
])
def test_bad_text_is_refused_and_kept(make_ws, text, expect):
    ws, backend = make_ws()
    ws.view.text_edit.setPlainText(text)
    assert not ws.controller.generate()
    assert expect in ws.view.message.text()
    assert ws.view.text_edit.toPlainText() == text and backend.synth_calls == []


def test_long_text_emoji_and_mixed_scripts(make_ws, qtbot):
    ws, backend = make_ws()
    long_text = ("This is sentence number one of a long script. " * 220)[:10_000]
    ws.view.text_edit.setPlainText(long_text)
    ws.controller.update_chunk_marks()
    assert "10,000 characters" in ws.view.chunk_info.text() and int(ws.view.chunk_info.text().split()[0]) > 20
    generate(qtbot, ws, timeout=60000)
    assert ws.takes.list()[0].status == "complete" and len(ws.takes.list()[0].recipe.chunks) > 20
    ws.view.text_edit.setPlainText("Hello 😀 world. Привет мир. 東京へ行きます。")
    generate(qtbot, ws)
    assert len(ws.takes.list()) == 2


def test_voice_whose_file_vanished(make_ws):
    ws, backend = make_ws()
    voice = ws.ctx.voices.list()[0]
    voice.clips[0].working_path.unlink()
    assert not ws.controller.generate()
    msg = ws.view.message.text()
    assert "Ann" in msg and "missing" in msg and "Your text is kept" in msg
    assert ws.view.text_edit.toPlainText() == TEXT


def test_pause_markers_and_chunks_are_shown_in_the_editor(make_ws):
    ws, _ = make_ws()
    ws.view.text_edit.setPlainText("First part here. [pause 1.5s] Second part.\n\nThird paragraph.")
    ws.controller.update_chunk_marks()
    assert ws.view.chunk_info.text().startswith("3 chunks · 2 pauses")
    assert len(ws.view.text_edit.extraSelections()) == 5


def test_regenerate_one_chunk_splices_a_new_take(make_ws, qtbot):
    ws, backend = make_ws(FakeBackend(max_chars=26))
    ws.view.text_edit.setPlainText("First sentence is here. [pause 0.5s] Second sentence is here. Third one too.")
    ws.view.random_seed.setChecked(False)
    generate(qtbot, ws)
    (take,) = ws.takes.list()
    assert len(take.recipe.chunks) == len(take.chunk_spans) == 3
    orig, sr = ws.takes.load_audio(take)
    ws.history.select(take.id)
    ws.view.chunk_combo.setCurrentIndex(1)
    with qtbot.waitSignal(ws.controller.batchFinished, timeout=20000):
        ws.view.regenerate_chunk_button.click()
    new = [t for t in ws.takes.list() if t.id != take.id][0]
    assert backend.synth_calls[-1] == take.recipe.chunks[1]
    assert new.recipe.options["edited_from"] == take.id and "1" in new.recipe.options["regenerated_chunks"]
    assert new.recipe.chunks == take.recipe.chunks
    audio, _ = ws.takes.load_audio(new)
    a0, b0 = take.chunk_spans[0]
    assert np.array_equal(audio[:b0 - 300], orig[:b0 - 300])  # chunk 1 and the pause before it untouched
    s2, e2 = new.chunk_spans[2]
    o2, oe2 = take.chunk_spans[2]
    assert e2 - s2 == oe2 - o2  # later chunks keep their length, shifted by the splice


def test_splice_crossfades_without_clicks():
    from studio.ui.synthesize.generation import splice

    sr = 8000
    old = np.ones(8000, np.float32) * 0.5
    new = -np.ones(2000, np.float32) * 0.5
    out, s, e = splice(old, sr, 3000, 5000, new, crossfade_ms=30)
    n = int(sr * 0.03)
    assert len(out) == 8000 - 2 * n and (s, e) == (3000 - n, 3000 - n + 2000)
    assert np.max(np.abs(np.diff(out))) < 0.01  # no step: every seam is a smooth fade


def test_hear_codebooks_decodes_the_first_k_levels_and_plays_them(make_ws, qtbot):
    from tests.engine.test_worker_fake_backend import SAMPLES_PER_FRAME, SR

    ws, backend = make_ws()
    asked = []
    real_decode = backend.decode_codes
    backend.decode_codes = lambda codes, k=None: asked.append((codes.shape, k)) or real_decode(codes, k)
    generate(qtbot, ws)
    take = ws.takes.list()[0]
    ws.history.select(take.id)
    assert ws.view.codebooks.maximum() == 4  # the fake model's codebooks
    assert ws.view.hear_codebooks_button.isEnabled()
    ws.view.codebooks.setValue(2)
    played = []
    ws.ctx.player.play = lambda x, sr, start_s=0.0: played.append((len(x), sr))
    ws.view.hear_codebooks_button.click()
    qtbot.waitUntil(lambda: len(played) > 0 or ws.view.message.property("error"), timeout=10000)
    assert not ws.view.message.property("error"), ws.view.message.text()
    n_frames = ws.takes.load_codes(take).shape[1]
    assert asked == [((4, n_frames), 2)]  # the take's own codes, only the first 2 levels
    assert played == [(n_frames * SAMPLES_PER_FRAME, SR)]
    assert "codebooks 1..2" in ws.view.message.text()


def test_hear_codebooks_failure_is_explained_and_the_take_is_kept(make_ws, qtbot):
    ws, backend = make_ws()
    generate(qtbot, ws)
    take = ws.takes.list()[0]
    ws.history.select(take.id)

    def broken(codes, k=None):
        raise RuntimeError("codec weights missing")
    backend.decode_codes = broken
    ws.view.hear_codebooks_button.click()
    qtbot.waitUntil(lambda: "Could not decode" in ws.view.message.text(), timeout=10000)
    assert "codec weights missing" in ws.view.message.text()
    assert [t.id for t in ws.takes.list()] == [take.id] and ws.view.generate_button.isEnabled()


def test_model_that_fails_to_load_says_so_and_loses_nothing(make_ws, qtbot):
    ws, backend = make_ws(FakeBackend(fail_on_load=True))
    generate(qtbot, ws)
    assert "Could not load the model" in ws.view.message.text() and "corrupt" in ws.view.message.text()
    assert ws.takes.list() == [] and ws.view.generate_button.isEnabled()
    assert ws.view.text_edit.toPlainText() == TEXT


def test_generation_failure_keeps_partial_audio_as_failed_take(make_ws, qtbot):
    ws, backend = make_ws(FakeBackend(fail_at_frame=12, frames_per_word=4))
    generate(qtbot, ws)
    (take,) = ws.takes.list()
    assert take.status == "failed" and take.duration_s > 0
    assert "Generation failed" in ws.view.message.text() and "exploded" in ws.view.message.text()
