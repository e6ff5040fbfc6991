"""Choosing a model in the Synthesize workspace: which engine is fastest on this hardware, what each
backend needs from a voice, and where a voice's encoded state is stored. No Qt widgets are built here."""
from __future__ import annotations

from pathlib import Path

from engine.backends.devices import hardware_summary, recommend_backend

NAMES = {"csm": "Sesame CSM-1B", "pocket": "Pocket TTS"}


def transcript_optional(backend: str) -> bool:
    """Pocket TTS conditions on the audio alone; CSM reads the reference's words with it."""
    return backend == "pocket"


def voice_state_dir(ctx, voice_id) -> Path:
    """The voice's folder in the library: encoded voice states live there, one per model weights."""
    return Path(ctx.paths.voices) / f"voice{voice_id}" / "states"


def recommend(view, *, first_time: bool) -> str | None:
    """Say which installed engine will be fastest here; on first show, select its first model."""
    combo = view.model_combo
    backends = [combo.itemData(i)[2] for i in range(combo.count())]
    hw = hardware_summary()
    best, why = recommend_backend(hw, sorted(set(backends)) or ["pocket", "csm"])
    if best is None:
        view.recommendation.setText("")
        return None
    installed = best in backends
    view.recommendation.setText(f"Fastest here: {NAMES.get(best, best)} ({why})"
                                + ("" if installed else " — install it in Models"))
    if first_time and installed and combo.currentData() is not None and combo.currentData()[2] != best:
        combo.setCurrentIndex(backends.index(best))
    return best
