"""Training checkpoints: written whole or not at all.

A checkpoint is a folder `checkpoints/step-000050/` holding the adapter in the PEFT layout
(adapter_config.json + adapter_model.safetensors, loadable by transformers + peft as is),
`trainer_state.pt` (optimizer, scheduler, RNG, step = data position, loss history) and
`train_config.json`. It is written into a hidden temporary folder and renamed into place, then
`latest.json` is replaced (temp + rename): a full disk or a crash mid-write leaves the previous
checkpoint as the latest, and the half-written folder is removed.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Callable

import torch

STATE_FILE, CONFIG_FILE, LATEST = "trainer_state.pt", "train_config.json", "latest.json"


class CheckpointWriteError(OSError):
    """A checkpoint could not be written (disk full, permissions); the previous one is intact."""


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_checkpoint(root: Path, step: int, write_files: Callable[[Path], None], keep: int = 3) -> Path:
    """Run `write_files(tmp_folder)`, then publish it as checkpoints/step-NNNNNN; returns its path."""
    ckdir = Path(root) / "checkpoints"
    ckdir.mkdir(parents=True, exist_ok=True)
    final = ckdir / f"step-{step:06d}"
    tmp = ckdir / f".tmp-step-{step:06d}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
        write_files(tmp)
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
        _fsync_dir(ckdir)
        pointer = ckdir / (LATEST + ".tmp")
        pointer.write_text(json.dumps({"step": step, "path": final.name}))
        pointer.replace(ckdir / LATEST)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        last = latest_checkpoint(root)
        kept = f"the last good checkpoint ({last.name}) is kept" if last else "no earlier checkpoint exists"
        raise CheckpointWriteError(e.errno, f"could not write the checkpoint at step {step} ({e.strerror or e}); "
                                            f"{kept}. Free some disk space and resume.") from e
    _prune(ckdir, keep, final)
    return final


def _prune(ckdir: Path, keep: int, newest: Path) -> None:
    if keep <= 0:
        return
    done = sorted(p for p in ckdir.glob("step-*") if p.is_dir())
    for p in done[:-keep]:
        if p != newest and not (p / "promoted").exists():
            shutil.rmtree(p, ignore_errors=True)


def is_complete(folder: Path) -> bool:
    return all((folder / f).is_file() for f in (STATE_FILE, CONFIG_FILE, "adapter_config.json",
                                                  "adapter_model.safetensors"))


def latest_checkpoint(root: Path) -> Path | None:
    """The newest complete checkpoint under root/checkpoints, or None."""
    ckdir = Path(root) / "checkpoints"
    try:
        name = json.loads((ckdir / LATEST).read_text())["path"]
        if is_complete(ckdir / name):
            return ckdir / name
    except (OSError, ValueError, KeyError, TypeError):
        pass
    done = sorted(p for p in ckdir.glob("step-*") if p.is_dir() and is_complete(p))
    return done[-1] if done else None


def load_state(folder: Path) -> dict:
    return torch.load(Path(folder) / STATE_FILE, map_location="cpu", weights_only=True)


def read_config(folder: Path) -> dict:
    return json.loads((Path(folder) / CONFIG_FILE).read_text())
