"""Fine-tune workspace: a recorded dataset -> Start -> live curves and checkpoints -> Pause ->
Resume -> done -> promote to a tuned voice (tiny random CSM, a few real clips)."""
from __future__ import annotations

import shutil

import pytest

from engine.text.prompts import Prompt
from studio.core.datasets import DatasetStore
from tests.engine.train_helpers import speaker_clips
from tests.ui.test_synthesize_helpers import make_ctx

pytest.importorskip("transformers")


def _recorded_dataset(ctx, speech_dir, tmp_path, n=4):
    store = DatasetStore(ctx.library, ctx.paths)
    ds = store.create("my voice", sample_rate=48000)
    clips = speaker_clips(speech_dir, n=n)
    store.add_prompts(ds.id, [Prompt(f"p{i}", c.text) for i, c in enumerate(clips)])
    for prompt, c in zip(store.prompts(ds.id), clips):
        dest = tmp_path / c.path.name
        shutil.copy(c.path, dest)
        take = store.begin_take(ds.id, prompt.id, prompt.key)
        store.finish_take(take, dest, duration_s=3.0, sample_rate=48000)
    return ds


@pytest.mark.slow
def test_a_tiny_run_from_a_dataset_with_pause_resume_and_promote(qtbot, tmp_path, speech_dir):
    from studio.ui.finetune.workspace import FinetuneWorkspace
    from tests.engine.tiny_csm import cached_tiny_csm

    ctx = make_ctx()
    _recorded_dataset(ctx, speech_dir, tmp_path)
    w = FinetuneWorkspace(ctx)
    qtbot.addWidget(w)
    assert w.dataset.currentText() == "my voice"
    assert w.preset.currentText() == "cpu-quick" and w.rank.value() == 8 and w.depth.value() == 0.0625
    w.model.setText(str(cached_tiny_csm("hf")))
    w.max_steps.setValue(12)
    w.ckpt_every.setValue(6)
    w.eval_every.setValue(6)
    w.heldout.setValue(0.5)  # 2 of the 4 sentences held out
    assert w.auto_audition.isChecked()  # every checkpoint is auditioned as it is written
    w.start_btn.click()
    assert not w.start_btn.isEnabled() and w.pause_btn.isEnabled()
    qtbot.waitUntil(lambda: len(w._train[0]) >= 1, timeout=180_000)
    w.pause_btn.click()  # checkpoint after this step, then stop
    qtbot.waitUntil(lambda: not w.runner.running, timeout=120_000)
    assert w.stats.text().startswith("paused") and w.resume_btn.isEnabled()
    paused_at = w._train[0][-1]
    assert paused_at < 12 and w.checkpoints.count() >= 1
    w.resume_btn.click()
    qtbot.waitUntil(lambda: not w.runner.running, timeout=180_000)
    assert w._train[0][-1] == 12, w.log.toPlainText()[-2000:]
    assert "done" in w.stats.text()
    assert len(w._held[0]) >= 2  # held-out curve: at the start and at checkpoints
    # nobody asked: each checkpoint's held-out takes were made and scored in the background
    scored = lambda name: w.checkpoints.scores(name)[0] not in ("", "…")  # noqa: E731
    qtbot.waitUntil(lambda: scored("step-000012") and not w.auditioner.running, timeout=240_000)
    for name in ("base", "step-000006", "step-000012"):
        wer, sim, mos = w.checkpoints.scores(name)
        assert wer.endswith("%") and float(sim) <= 1 and 1 <= float(mos) <= 5, (name, wer, sim, mos)
    assert w.checkpoints.item(0).text(0) == "base"  # the reference row on top
    labels = [w.auditions.item(i).text() for i in range(w.auditions.count())]
    assert {t.split()[0] for t in labels} >= {"base", "step-000006", "step-000012"}, w.log.toPlainText()[-2000:]
    assert sum(t.startswith("base") for t in labels) == 2  # the base's takes are made once per run
    assert all("WER" in t and "similarity" in t and "DNSMOS" in t for t in labels), w.log.toPlainText()[-1500:]
    w._play(w.auditions.item(1))
    assert ctx.player.sources  # handed to the player
    from studio.ui.compare.workspace import CompareWorkspace

    cmp = CompareWorkspace(ctx)
    qtbot.addWidget(cmp)
    assert w.compare_btn.isEnabled()
    w.checkpoints.setCurrentItem(w.checkpoints.row("step-000012"))
    # one click: base vs tuned on every held-out sentence, same seeds, without and with the speaker's
    # reference clip; a blind round per sentence
    w.blind_compare(cmp)
    qtbot.waitUntil(lambda: cmp.controller.blind and len(cmp.controller.lanes) == 4, timeout=240_000)
    takes = cmp.controller.takes.list(limit=50)
    assert len(takes) == 8, w.log.toPlainText()[-2000:]  # 2 sentences x {base, tuned} x {no ref, ref}
    ref = next(t.recipe.voice_id for t in takes if t.recipe.voice_id != "no reference")
    assert ref.startswith("reference ")
    cells = {(t.recipe.text, t.recipe.model_id, t.recipe.voice_id): t.recipe for t in takes}
    texts = {t.recipe.text for t in takes}
    assert len(texts) == 2 and len(cells) == 8
    for text in texts:
        for cond in ("no reference", ref):
            base, tuned = cells[(text, "base", cond)], cells[(text, "tuned:my voice/step-000012", cond)]
            assert base.seed == tuned.seed
            assert tuned.weights_sha256 == "+lora:" + w._hashes["step-000012"]  # the adapter in the recipe
            assert base.weights_sha256 == ""
    first = {cmp.controller.takes.get(l.item.key[5:]).recipe.text for l in cmp.controller.lanes}
    assert len(first) == 1 and cmp.controller.view.next_round_button.isVisibleTo(cmp)
    cmp.controller.next_round()  # the second sentence's round
    qtbot.waitUntil(lambda: cmp.controller.blind and len(cmp.controller.lanes) == 4
                    and {cmp.controller.takes.get(l.item.key[5:]).recipe.text for l in cmp.controller.lanes}
                    == texts - first, timeout=30_000)
    again = FinetuneWorkspace(ctx)  # the studio restarted: the run can still be resumed
    qtbot.addWidget(again)
    assert again.run_dir == w.run_dir and again.resume_btn.isEnabled() and "my voice" in again.stats.text()
    w.promote()
    tuned = sorted(p.name for p in (ctx.paths.models / "tuned").iterdir())
    assert tuned == ["my voice", "my voice-step-000012"]  # the finished run's, and the promoted one
    # ... and they are models in Synthesize (hence Compare)
    from studio.ui.synthesize.workspace import SynthesizeWorkspace

    synth = SynthesizeWorkspace(ctx)
    qtbot.addWidget(synth)
    combo = synth.controller.view.model_combo
    names = [combo.itemText(i) for i in range(combo.count())]
    assert "my voice (tuned)" in names
