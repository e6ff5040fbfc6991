"""Shared set-up for the training tests: a tiny random CSM, the tiny Mimi (codes that vary with the
audio), and a few real clips of one speaker."""
from __future__ import annotations

import csv
from pathlib import Path

from engine.train.data import Clip


def speaker_clips(speech_dir: Path, prefix: str = "vctk_p225", n: int = 6) -> list[Clip]:
    with open(speech_dir / "transcripts.tsv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["file"].startswith(prefix)]
    return [Clip(speech_dir / r["file"], r["transcript"], Path(r["file"]).stem) for r in rows[:n]]


def open_tiny_run(out_dir: Path, clips, cfg, codes_cache: Path, **kw):
    from engine.train.session import open_run
    from tests.engine.tiny_csm import cached_tiny_csm
    from tests.engine.tiny_mimi import cached_tiny_mimi

    return open_run(cached_tiny_csm("hf"), clips, out_dir, cfg, device="cpu", codes_cache=codes_cache,
                    codec_dir=cached_tiny_mimi()[0], **kw)
