"""One click from auditions to a blind Compare session of base vs tuned: the audition files
become takes (recipes naming the model, the checkpoint's adapter hash, the seed), then the
Compare workspace gets them as lanes in random order."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer

from studio.ui.finetune.audition import SEED, heldout_sentences


def audition_takes(ctx, run_dir: Path, items: list[tuple[str, str]], adapter_hashes: dict[str, str],
                   sentence: int = 1) -> list[str]:
    """Store the base and checkpoint auditions of held-out sentence `sentence` as takes; returns
    their ids. items: (label "base 1" / "step-000020 1", wav path)."""
    import soundfile as sf

    from studio.core.takes import TakeRecipe, TakeStore

    store = TakeStore(ctx.library, ctx.paths)
    texts = heldout_sentences(run_dir)
    ids = []
    for label, wav in items:
        who, _, idx = label.rpartition(" ")
        if int(idx) != sentence:
            continue
        x, sr = sf.read(wav, dtype="float32")  # a few seconds of audio
        tuned = who != "base"
        recipe = TakeRecipe(model_id=f"tuned:{Path(run_dir).name}/{who}" if tuned else "base", backend="csm",
                            text=texts[sentence - 1] if len(texts) >= sentence else "", seed=SEED,
                            weights_sha256=f"+lora:{adapter_hashes.get(who, '')}" if tuned else "",
                            options={"adapter_sha256": adapter_hashes.get(who, "")} if tuned else {})
        ids.append(store.add(recipe, x, sr).id)
    return ids


def start_blind_compare(compare_ws, take_ids: list[str], on_started=None, timeout_ms: int = 20_000) -> None:
    """Add the takes as lanes (loaded off the GUI thread), then start the blind test."""
    ctl = compare_ws.controller
    ctl.add_items([("take", t) for t in take_ids])
    waited = [0]

    def poll():
        if ctl.lanes and len(ctl.lanes) >= len(take_ids):
            ctl.start_blind()
            if on_started is not None:
                on_started()
        elif waited[0] < timeout_ms:
            waited[0] += 100
            QTimer.singleShot(100, poll)

    QTimer.singleShot(100, poll)
