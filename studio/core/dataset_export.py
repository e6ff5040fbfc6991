"""Export a dataset to the formats trainers read: LJSpeech, Hugging Face audiofolder, Coqui XTTS, JSONL.

Everything is written into a hidden sibling folder and renamed into place at the end, so a cancel,
a full disk or an unwritable target leaves neither a half export nor a changed dataset. An existing
non-empty target is only replaced when the caller passes `overwrite=True` (the GUI asks first); the
old folder goes to the trash, not away.
"""
from __future__ import annotations

import csv
import errno
import json
import random
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

FORMATS = {
    "ljspeech": "LJSpeech (wavs/ + metadata.csv)",
    "audiofolder": "Hugging Face audiofolder (metadata.csv)",
    "xtts": "Coqui XTTS (metadata_train.csv / metadata_eval.csv)",
    "jsonl": "JSONL for CSM / Orpheus / Llasa fine-tunes",
}


class ExportError(Exception):
    """Why the export could not be done; the message is for the user. Nothing was changed."""


class ExportCancelled(Exception):
    pass


@dataclass
class ExportItem:
    id: str
    text: str
    path: Path  # the take's audio
    speaker: str = "speaker"


@dataclass
class ExportOptions:
    format: str = "ljspeech"
    eval_fraction: float = 0.0  # share of clips held out for evaluation (0 = no split)
    best_only: bool = True
    trim: bool = True
    pad_s: float = 0.15
    target_lufs: float | None = -23.0  # None = keep levels
    sample_rate: int | None = None  # None = keep each take's rate
    bit_depth: int = 16  # 16 or 24 (mono PCM)
    seed: int = 0
    card: bool = True


@dataclass
class ExportedClip:
    id: str
    text: str
    file: str  # relative to the export folder
    speaker: str
    duration_s: float
    split: str  # "train" | "eval"


@dataclass
class ExportResult:
    folder: Path
    clips: list[ExportedClip] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def hours(self) -> float:
        return sum(c.duration_s for c in self.clips) / 3600.0


def collect_items(store, dataset_id: int, *, best_only: bool = True) -> list[ExportItem]:
    """The prompts' takes in script order (the best take, or every usable take)."""
    ds = store.get(dataset_id)
    speaker = ds.speaker or ds.name
    best = store.best_takes(dataset_id)
    items: list[ExportItem] = []
    for p in store.prompts(dataset_id):
        if best_only:
            t = best.get(p.id)
            if t is not None and t.path and t.path.exists():
                items.append(ExportItem(p.key, p.text, t.path, speaker))
        else:
            takes = [t for t in store.takes(dataset_id, p.id) if t.usable and t.path.exists()]
            for k, t in enumerate(takes):
                items.append(ExportItem(p.key if k == 0 else f"{p.key}_{k + 1}", p.text, t.path, speaker))
    return items


def _prepare(item: ExportItem, opts: ExportOptions) -> tuple[np.ndarray, int]:
    from engine.audio.edit import auto_trim
    from engine.audio.io import read_audio
    from engine.audio.loudness import normalize_lufs
    from engine.audio.resample import resample

    a = read_audio(item.path, mono=True)
    x, sr = a.samples, a.sample_rate  # x: [T]
    if opts.trim:
        x, _, _ = auto_trim(x, sr, pad_s=opts.pad_s)
    if opts.sample_rate and opts.sample_rate != sr:
        x, sr = resample(x, sr, opts.sample_rate), opts.sample_rate
    if opts.target_lufs is not None:
        x = normalize_lufs(x, sr, opts.target_lufs)
    return np.asarray(x, dtype=np.float32), sr


def _check_target(dest: Path, overwrite: bool) -> None:
    if dest.exists() and not dest.is_dir():
        raise ExportError(f"{dest} is a file, not a folder: choose a folder to export into")
    if dest.is_dir() and any(dest.iterdir()) and not overwrite:
        raise ExportError(f"{dest} is not empty: choose an empty folder or confirm replacing it")
    parent = dest.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = parent / f".mynah-write-test-{uuid.uuid4().hex[:6]}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise ExportError(f"cannot write to {parent}: {e.strerror or e}. Choose another folder.") from e


def _estimate_bytes(items: list[ExportItem], opts: ExportOptions) -> int:
    import soundfile as sf

    total = 0
    for it in items:
        try:
            info = sf.info(str(it.path))
            sr = opts.sample_rate or info.samplerate
            total += int(info.duration * sr * opts.bit_depth // 8) + 1024
        except RuntimeError:
            total += 1_000_000
    return total


def export_dataset(items: list[ExportItem], dest: Path, opts: ExportOptions, *, overwrite: bool = False,
                   progress: Callable[[int, int], None] | None = None,
                   cancel: Callable[[], bool] | None = None, card_info: dict | None = None) -> ExportResult:
    """Write `items` to `dest` in `opts.format`. Raises ExportError / ExportCancelled; either way
    `dest` is untouched and no partial folder is left behind."""
    if opts.format not in FORMATS:
        raise ExportError(f"unknown export format {opts.format!r}; choose one of {', '.join(FORMATS)}")
    if opts.bit_depth not in (16, 24):
        raise ExportError("bit depth must be 16 or 24")
    if not items:
        raise ExportError("there is nothing to export: record or import some takes first")
    dest = Path(dest).expanduser().resolve()
    _check_target(dest, overwrite)
    need = _estimate_bytes(items, opts)
    free = shutil.disk_usage(dest.parent).free
    if need * 1.05 > free:
        raise ExportError(f"not enough disk space in {dest.parent}: the export needs about "
                          f"{need / 1e6:.0f} MB, {free / 1e6:.0f} MB are free")
    tmp = dest.parent / f".{dest.name}.partial-{uuid.uuid4().hex[:8]}"
    try:
        result = _write_all(items, tmp, opts, progress, cancel)
        if opts.card:
            from studio.core.dataset_card import write_card

            write_card(tmp, result, card_info or {})
        _swap_into_place(tmp, dest)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if e.errno == errno.ENOSPC:
            raise ExportError(f"the disk ran out of space while exporting to {dest.parent}; nothing was "
                              "written there and your dataset is unchanged. Free some space and retry.") from e
        raise ExportError(f"could not write the export to {dest}: {e.strerror or e}") from e
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    result.folder = dest
    return result


def _swap_into_place(tmp: Path, dest: Path) -> None:
    if dest.exists():
        if any(dest.iterdir()):
            from studio.core.paths import get_paths
            from studio.core.recovery import move_file, unique_path

            move_file(dest, unique_path(get_paths().trash, dest.name, suffix=""))
        else:
            dest.rmdir()
    tmp.rename(dest)


def _split(n: int, opts: ExportOptions) -> list[str]:
    n_eval = int(round(n * opts.eval_fraction)) if opts.eval_fraction > 0 else 0
    if opts.eval_fraction > 0 and n > 1:
        n_eval = min(max(n_eval, 1), n - 1)
    order = list(range(n))
    random.Random(opts.seed).shuffle(order)
    held = set(order[:n_eval])
    return ["eval" if i in held else "train" for i in range(n)]


def _write_all(items, root: Path, opts: ExportOptions, progress, cancel) -> ExportResult:
    import soundfile as sf

    root.mkdir(parents=True)
    splits = _split(len(items), opts)
    res = ExportResult(root)
    subtype = "PCM_16" if opts.bit_depth == 16 else "PCM_24"
    for i, (it, split) in enumerate(zip(items, splits)):
        if cancel is not None and cancel():
            raise ExportCancelled()
        x, sr = _prepare(it, opts)
        if opts.format == "audiofolder":
            rel = f"{'test' if split == 'eval' else 'train'}/{it.id}.wav" if opts.eval_fraction > 0 else f"data/{it.id}.wav"
        else:
            rel = f"wavs/{it.id}.wav"
        out = root / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(out), np.clip(x, -1.0, 1.0), sr, subtype=subtype)
        res.clips.append(ExportedClip(it.id, it.text, rel, it.speaker, len(x) / float(sr), split))
        if progress is not None:
            progress(i + 1, len(items))
    _write_metadata(root, res.clips, opts)
    return res


def _one_line(text: str) -> str:
    return " ".join(text.replace("|", " ").split())


def _write_metadata(root: Path, clips: list[ExportedClip], opts: ExportOptions) -> None:
    train = [c for c in clips if c.split == "train"]
    held = [c for c in clips if c.split == "eval"]
    if opts.format == "ljspeech":
        from engine.text.normalize import normalize_for_tts

        def lj(path: Path, cs):
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                for c in cs:
                    f.write(f"{c.id}|{_one_line(c.text)}|{_one_line(normalize_for_tts(c.text))}\n")
        lj(root / "metadata.csv", clips)
        if held:
            lj(root / "metadata_train.csv", train)
            lj(root / "metadata_eval.csv", held)
    elif opts.format == "audiofolder":
        groups = {"data": clips} if not held else {"train": train, "test": held}
        for folder, cs in groups.items():
            with open(root / folder / "metadata.csv", "w", encoding="utf-8", newline="") as f:
                w = csv.writer(f)
                w.writerow(["file_name", "text"])
                for c in cs:
                    w.writerow([Path(c.file).name, c.text])
    elif opts.format == "xtts":
        for name, cs in (("metadata_train.csv", train), ("metadata_eval.csv", held)):
            with open(root / name, "w", encoding="utf-8", newline="\n") as f:
                f.write("audio_file|text|speaker_name\n")
                for c in cs:
                    f.write(f"{c.file}|{_one_line(c.text)}|{_one_line(c.speaker)}\n")
    elif opts.format == "jsonl":
        for name, cs in (("train.jsonl", train), ("eval.jsonl", held)):
            if name == "eval.jsonl" and not cs:
                continue
            with open(root / name, "w", encoding="utf-8", newline="\n") as f:
                for c in cs:
                    f.write(json.dumps({"path": c.file, "text": c.text, "speaker": c.speaker,
                                        "duration": round(c.duration_s, 3)}, ensure_ascii=False) + "\n")
