"""Training clips: where they come from, their Mimi codes (computed once, cached on disk), the
held-out split, and the checks that turn bad input into a clear message before any training.

A clip is an audio file and its transcript. Sources: a folder of audio files with transcripts
(`<name>.txt` beside each file, or a `transcripts.tsv` with `file` and `transcript` columns, or an
LJSpeech `metadata.csv` of `id|text`), or a recorded dataset (studio/core/finetune_data.py builds
the clip list from the library and hands it here; engine/ never reads the library).
"""
from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:
    from engine.train.objective import Example

AUDIO_EXTS = (".wav", ".flac", ".ogg", ".mp3")


class TrainDataError(ValueError):
    """Input that cannot be trained on (no usable takes, clips over the budget, ...): user-facing."""


@dataclass(frozen=True)
class Clip:
    path: Path
    text: str
    key: str = ""  # a stable name (prompt key, file stem) for messages and the held-out list


def clips_from_folder(folder: Path) -> list[Clip]:
    folder = Path(folder)
    if not folder.is_dir():
        raise TrainDataError(f"{folder} is not a folder")
    texts: dict[str, str] = {}
    tsv, meta = folder / "transcripts.tsv", folder / "metadata.csv"
    if tsv.is_file():
        with open(tsv, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                if row.get("file") and row.get("transcript"):
                    texts[Path(row["file"]).stem] = row["transcript"]
    elif meta.is_file():
        for line in meta.read_text(encoding="utf-8").splitlines():
            parts = line.split("|")
            if len(parts) >= 2 and parts[-1].strip():
                texts[parts[0]] = parts[-1].strip()
    clips, missing = [], []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() not in AUDIO_EXTS:
            continue
        side = p.with_suffix(".txt")
        text = side.read_text(encoding="utf-8").strip() if side.is_file() else texts.get(p.stem, "")
        if text:
            clips.append(Clip(p, text, p.stem))
        else:
            missing.append(p.name)
    if not clips:
        why = f" ({len(missing)} audio files have no transcript)" if missing else ""
        raise TrainDataError(f"{folder} holds no audio file with a transcript{why}: put a <name>.txt beside "
                             "each file, or a transcripts.tsv (file, transcript) or metadata.csv (id|text)")
    return clips


def split_heldout(clips: list[Clip], fraction: float, seed: int) -> tuple[list[Clip], list[Clip]]:
    """(train, held out): a `fraction` of distinct sentences (at least one when there are 2+
    clips), chosen by `seed`; every take of a held-out sentence is held out."""
    sentences = sorted({c.text.strip().lower() for c in clips})
    if len(clips) < 2 or fraction <= 0 or len(sentences) < 2:
        return list(clips), []
    n = min(len(sentences) - 1, max(1, round(len(sentences) * fraction)))
    held = set(np.random.default_rng(seed).choice(sentences, size=n, replace=False).tolist())
    return ([c for c in clips if c.text.strip().lower() not in held],
            [c for c in clips if c.text.strip().lower() in held])


def audio_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:32]


def encode_clips(clips: list[Clip], encode: Callable[[np.ndarray, int], np.ndarray], cache_dir: Path,
                 codec_id: str, n_codebooks: int,
                 progress: Callable[[int, int], None] | None = None) -> list[np.ndarray]:
    """Mimi codes [K, T] of every clip, each encoded once: cached as `<audio sha>-<codec>.npy`
    (a changed file or another codec gets a new entry). `encode(audio, sr)` is the codec's encode_np."""
    from engine.audio.io import read_audio

    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for i, clip in enumerate(clips):
        path = cache_dir / f"{audio_digest(clip.path)}-{codec_id[:16]}.npy"
        codes = None
        if path.is_file():
            try:
                codes = np.load(path, allow_pickle=False)
            except (OSError, ValueError):
                codes = None  # a torn cache file: encode again
        if codes is None or codes.shape[0] < n_codebooks:
            audio = read_audio(clip.path, mono=True)
            codes = np.ascontiguousarray(encode(audio.samples, audio.sample_rate)[:n_codebooks], dtype=np.int64)
            tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")  # several processes may encode
            np.save(tmp, codes)
            tmp.replace(path)
        out.append(codes[:n_codebooks])
        if progress is not None:
            progress(i + 1, len(clips))
    return out


@dataclass
class Prepared:
    train: list[Example]
    heldout: list[Example]
    train_clips: list[Clip]
    heldout_clips: list[Clip]
    left_out: list[str]  # messages: clips left out and why
    train_seconds: float


def prepare(train: list[Clip], heldout: list[Clip], codes_train: list[np.ndarray],
            codes_heldout: list[np.ndarray], encode_text: Callable[[str], list[int]],
            max_positions: int, max_clip_seconds: float | None = None) -> Prepared:
    """Examples for the trainer. Raises TrainDataError when a clip does not fit the model's
    position budget (naming it: split it) or when nothing usable is left."""
    from engine.backends.csm_recipe import FRAME_RATE
    from engine.train.objective import build_example  # torch: only once training is asked for

    too_long, left_out = [], []

    def build(clips, codes, into, kept):
        for clip, c in zip(clips, codes):
            seconds = c.shape[1] / FRAME_RATE
            ids = encode_text(clip.text)
            rows = len(ids) + c.shape[1] + 1
            if rows > max_positions:
                too_long.append(f"{clip.key or clip.path.name} ({seconds:.1f} s, {rows} positions)")
            elif max_clip_seconds is not None and seconds > max_clip_seconds:
                left_out.append(f"{clip.key or clip.path.name}: {seconds:.1f} s is over this preset's "
                                f"{max_clip_seconds:g} s clip limit")
            elif c.shape[1] == 0:
                left_out.append(f"{clip.key or clip.path.name}: no audio")
            else:
                into.append(build_example(ids, c))
                kept.append(clip)

    tr, ho, tr_clips, ho_clips = [], [], [], []
    build(train, codes_train, tr, tr_clips)
    build(heldout, codes_heldout, ho, ho_clips)
    if too_long:
        raise TrainDataError(
            f"{len(too_long)} clip(s) are longer than the model's budget of {max_positions} positions "
            f"(transcript + audio at {FRAME_RATE:g} frames/s): {', '.join(too_long[:5])}"
            f"{' ...' if len(too_long) > 5 else ''}. Split them into shorter takes.")
    if not tr:
        why = f" ({len(left_out)} left out: {left_out[0]}{' ...' if len(left_out) > 1 else ''})" if left_out else ""
        raise TrainDataError(f"0 usable takes to train on{why}")
    seconds = sum((len(e) - e.first_audio - 1) / FRAME_RATE for e in tr)
    return Prepared(tr, ho, tr_clips, ho_clips, left_out, seconds)
