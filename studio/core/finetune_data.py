"""A recorded dataset as training clips: each prompt's best take, QC-passing by default.

studio/core reads the library; engine/train only ever sees `Clip`s (path + transcript + key).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from engine.train.data import Clip
from studio.core.datasets import DatasetError, DatasetStore


@dataclass
class DatasetClips:
    clips: list[Clip]
    left_out: list[str] = field(default_factory=list)  # "<prompt key>: why"


def find_dataset(store: DatasetStore, name_or_id: str):
    for d in store.list():
        if d.name == name_or_id or str(d.id) == str(name_or_id):
            return d
    raise DatasetError(f"no dataset named {name_or_id!r} (see `mynah dataset list`)")


def dataset_clips(store: DatasetStore, dataset_id: int, *, qc_passing: bool = True) -> DatasetClips:
    """Best takes of prompts that are not skipped; with `qc_passing`, takes whose stored QC flagged
    anything are left out, a transcript the ASR check did not hear first among the reasons (takes
    never checked are kept: QC is advice, not a gate)."""
    prompts = {p.id: p for p in store.prompts(dataset_id)}
    out = DatasetClips([])
    for prompt_id, take in sorted(store.best_takes(dataset_id).items()):
        p = prompts.get(prompt_id)
        if p is None or p.skipped:
            continue
        qc = take.qc or {}
        flags = qc.get("flags") or []  # studio.core.dataset_qc.TakeQC: "wer" = the ASR heard other words
        notes = qc.get("notes") or flags
        if qc_passing and flags:
            why = next((n for f, n in zip(flags, notes) if f == "wer"), notes[0])
            out.left_out.append(f"{p.key}: QC flagged {why}")
        elif take.path is None or not take.path.is_file():
            out.left_out.append(f"{p.key}: the take's file is missing")
        elif not p.text.strip():
            out.left_out.append(f"{p.key}: no transcript")
        else:
            out.clips.append(Clip(take.path, p.text.strip(), p.key))
    return out


def tuned_voices(models_root) -> list[tuple[str, "object"]]:
    """(name, folder) of every tuned voice under <models>/tuned (a folder with an adapter_config.json
    and its weights), for the model lists of Synthesize and Compare."""
    from pathlib import Path

    root = Path(models_root) / "tuned"
    if not root.is_dir():
        return []
    return [(p.name, p) for p in sorted(root.iterdir())
            if (p / "adapter_config.json").is_file() and (p / "adapter_model.safetensors").is_file()]
