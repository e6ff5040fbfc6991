"""Installed models: "Import local folder", listing, deleting, and where a model lives on disk.

Import checks that a folder holds every file the catalog entry needs *before* copying anything,
so a bad folder costs the user nothing. Copy (safe: the original can move) or link (no second
6 GB copy). Files are hashed on the way in and recorded in the manifest for later verification.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from engine.hub.catalog import CATALOG, CatalogEntry, folder_listing, folder_size, missing_files, plan_files
from engine.hub.download import DownloadCancelled, write_manifest


class ModelFolderError(Exception):
    """A folder is not a usable model; the message is for the user."""


@dataclass(frozen=True)
class InstalledModel:
    entry: CatalogEntry
    path: Path
    size_bytes: int
    complete: bool
    missing: tuple[str, ...]


def model_dir(models_root: Path, entry: CatalogEntry) -> Path:
    return Path(models_root) / entry.folder_name


def installed_models(models_root: Path, kind: str | None = None) -> list[InstalledModel]:
    """Every catalog model (of `kind`, "tts"/"asr", when given) with whether its folder is complete
    under `models_root`."""
    out = []
    for e in CATALOG:
        if kind is not None and e.kind != kind:
            continue
        p = model_dir(models_root, e)
        miss = missing_files(e, p) if p.exists() else []
        out.append(InstalledModel(e, p, folder_size(p), p.exists() and not miss, tuple(miss)))
    return out


def check_folder(folder: Path, entry: CatalogEntry) -> None:
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFolderError(f"{folder} is not a folder")
    miss = missing_files(entry, folder)
    foreign = [m for m in miss if m.startswith("Sesame's original")]
    if foreign:
        raise ModelFolderError(f"{folder.name} holds {foreign[0]}.")
    if miss:
        layouts = " or ".join(lay.describe() for lay in entry.layouts)
        raise ModelFolderError(f"{folder.name} is not a complete {entry.name} folder: missing "
                               f"{', '.join(miss)}. Expected {', '.join(entry.required_files)} and {layouts}.")


def import_local_folder(folder: Path, entry: CatalogEntry, models_root: Path, *, link: bool = False,
                        progress: Callable[[int, int, str], None] | None = None,
                        cancel: threading.Event | None = None) -> Path:
    """Validate `folder`, then copy (or symlink) its files into the models dir. Returns the new
    model folder. An existing install is replaced only after the new copy is complete."""
    folder = Path(folder).resolve()
    check_folder(folder, entry)
    dest = model_dir(models_root, entry)
    if dest.resolve() == folder:
        raise ModelFolderError(f"{folder} is already the installed copy")
    # The same plan as a download: a full Hub snapshot holding several checkpoints (sesame/csm-1b's
    # transformers shards beside Sesame's original model.safetensors + ckpt.pt) gives ONE of them.
    plan = plan_files(entry, folder_listing(folder))
    files = [folder / name for name in plan.names]
    total = sum(p.stat().st_size for p in files)
    staging = dest.with_name(dest.name + ".importing")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    done = 0
    hashes: dict[str, str] = {}
    try:
        for p in files:
            rel = p.relative_to(folder)
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            h = hashlib.sha256()
            if link:
                os.symlink(p, target)
            with open(p, "rb") as src, (open(target, "wb") if not link else open(os.devnull, "wb")) as dst:
                for block in iter(lambda: src.read(1 << 20), b""):
                    if cancel is not None and cancel.is_set():
                        raise DownloadCancelled("import cancelled; nothing was changed")
                    h.update(block)
                    dst.write(block)
                    done += len(block)
                    if progress:
                        progress(done, total, str(rel))
            hashes[str(rel)] = h.hexdigest()
        write_manifest(staging, entry, hashes, source=f"{'link' if link else 'copy'}:{folder}")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if dest.exists() or dest.is_symlink():
        delete_model(dest)
    staging.rename(dest)
    if progress:
        progress(total, total, "")
    return dest


def delete_model(path: Path) -> int:
    """Remove an installed model folder (links only, never the files they point to); returns bytes freed."""
    path = Path(path)
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    if path.is_symlink():
        path.unlink()
    else:
        shutil.rmtree(path)
    return size
