"""One click from a checkpoint to a blind Compare of base vs tuned that answers "did it help?":
every held-out sentence (up to MAX_SENTENCES), the same seed for base and tuned, without and with a
reference clip of the dataset's speaker (its first training take), so the results table has a row
per model and condition. The takes are made by `mynah synth` child processes (the Auditioner's
queue; no-reference takes already made as auditions are reused), stored as takes whose recipes name
the model, the seed, the reference and the checkpoint's adapter hash, and the Compare workspace
runs them as blind rounds, one per sentence (a round holds <= 6 lanes).

Conditions travel as the take's voice (`voice_id`): Compare pools ratings and scores by (model,
setting, voice), so "no reference" and "reference <clip>" are separate result rows."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.ui.finetune.audition import SEED, heldout_sentences, speaker_reference, synth_args

MAX_SENTENCES = 6
NO_REFERENCE = "no reference"


@dataclass(frozen=True)
class PlannedTake:
    system: str  # "base" | checkpoint name
    condition: str  # NO_REFERENCE | "reference <clip name>"
    sentence: int  # 1-based
    text: str
    wav: Path
    reference: tuple[str, str] | None


def plan(run_dir: Path, checkpoint: Path, n: int = MAX_SENTENCES) -> list[PlannedTake]:
    run_dir, checkpoint = Path(run_dir), Path(checkpoint)
    texts = heldout_sentences(run_dir, n)
    ref = speaker_reference(run_dir)
    conditions = [(NO_REFERENCE, None)] + ([(f"reference {Path(ref[0]).name}", ref)] if ref else [])
    out = []
    for i, text in enumerate(texts, 1):
        for cond, r in conditions:
            folder = run_dir / "compare" / checkpoint.name / ("reference" if r else "no-reference")
            for system in ("base", checkpoint.name):
                out.append(PlannedTake(system, cond, i, text, folder / system / f"{i}.wav", r))
    return out


def synth_jobs(items: list[PlannedTake], run_dir: Path, checkpoint: Path, base_model: Path,
               max_seconds: float = 8.0):
    """The `mynah synth` jobs for the planned takes not on disk yet; a no-reference take the
    auditions already made (same model, text and seed) is copied instead."""
    import shutil

    jobs = []
    for it in items:
        if it.wav.is_file():
            continue
        if it.reference is None:
            made = (Path(run_dir) / "auditions" / ("base" if it.system == "base" else f"{it.system}/{it.system}")
                    / f"{it.sentence}.wav")
            if made.is_file():
                it.wav.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(made, it.wav)
                continue
        model = Path(base_model) if it.system == "base" else Path(checkpoint)
        jobs.append((f"{it.system} {it.sentence} ({it.condition})",
                     synth_args(model, it.text, it.wav, max_seconds, it.reference), str(it.wav)))
    return jobs


def store_takes(ctx, run_dir: Path, items: list[PlannedTake], adapter_hash: str) -> list[list[str]]:
    """Store the planned takes that exist as takes; returns the take ids in rounds, one round per
    sentence (base and tuned, each condition)."""
    import soundfile as sf

    from studio.core.takes import TakeRecipe, TakeStore

    store = TakeStore(ctx.library, ctx.paths)
    rounds: dict[int, list[str]] = {}
    for it in items:
        if not it.wav.is_file():
            continue
        x, sr = sf.read(it.wav, dtype="float32")  # a few seconds of audio
        tuned = it.system != "base"
        options = {"reference": Path(it.reference[0]).name} if it.reference else {}
        if tuned:
            options["adapter_sha256"] = adapter_hash
        recipe = TakeRecipe(model_id=f"tuned:{Path(run_dir).name}/{it.system}" if tuned else "base", backend="csm",
                            text=it.text, seed=SEED, voice_id=it.condition,
                            weights_sha256=f"+lora:{adapter_hash}" if tuned else "", options=options)
        rounds.setdefault(it.sentence, []).append(store.add(recipe, x, sr).id)
    return [rounds[k] for k in sorted(rounds)]


def start_blind_compare(compare_ws, rounds: list[list[str]]) -> None:
    """The rounds as a blind test in the Compare workspace (lanes load off the GUI thread)."""
    compare_ws.controller.queue_rounds(rounds)
