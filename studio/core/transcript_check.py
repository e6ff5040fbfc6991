"""The ASR check of a folder's transcripts before training: each clip is heard by the user's
recognizer (studio/core/asr_choice.py) and a transcript whose word error rate against what was heard
is above `max_wer` is flagged; flagged clips are left out unless the user keeps them. What the
recognizer heard is cached per (audio content, recognizer), so a second run of the same folder
transcribes nothing. Recorded datasets need no such pass: their takes carry the QC's ASR check
(studio/core/finetune_data.py). No Qt; the CLI runs it, hence the studio's training child process.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from engine.train.data import Clip

MAX_WER = 0.5  # the bundled tiny.en hears our test speech at ~2 % WER, pocketsphinx at ~37 %


@dataclass
class TranscriptCheck:
    kept: list[Clip]
    flagged: list[str] = field(default_factory=list)  # "<clip>: transcript does not match ..."
    flagged_clips: list[Clip] = field(default_factory=list)


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:32]


def _load(cache_file: Path) -> dict:
    try:
        return json.loads(Path(cache_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _save(cache_file: Path, data: dict) -> None:
    cache_file = Path(cache_file)
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_file.with_name(f".{cache_file.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=0), encoding="utf-8")
    tmp.replace(cache_file)  # whole file or nothing: a crash keeps the previous cache


def check_transcripts(clips: list[Clip], transcribe: Callable, *, recognizer: str, cache_file: Path,
                      max_wer: float = MAX_WER, keep_mismatched: bool = False,
                      progress: Callable[[int, int], None] | None = None) -> TranscriptCheck:
    """`transcribe(samples, sr) -> text`; `recognizer` names it in the cache key."""
    import soundfile as sf

    from engine.eval.wer import compute_wer

    cache = _load(cache_file)
    out = TranscriptCheck([])
    dirty = False
    for n, clip in enumerate(clips, 1):
        key = f"{_sha(clip.path)}:{recognizer}"
        heard = cache.get(key)
        if heard is None:
            x, sr = sf.read(clip.path, dtype="float32", always_2d=True)
            heard = transcribe(x.mean(axis=1), sr) or ""
            cache[key] = heard
            dirty = True
            if n % 20 == 0:
                _save(cache_file, cache)
        if progress is not None:
            progress(n, len(clips))
        wer = compute_wer(clip.text, heard).wer
        if wer > max_wer:
            out.flagged.append(f"{clip.key or clip.path.name}: transcript does not match its audio "
                               f"(the ASR heard {heard[:80]!r}, WER {wer:.0%})")
            out.flagged_clips.append(clip)
            if keep_mismatched:
                out.kept.append(clip)
        else:
            out.kept.append(clip)
    if dirty:
        _save(cache_file, cache)
    return out
