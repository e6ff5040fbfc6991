"""`mynah dataset ...` headless commands."""
from __future__ import annotations

import csv

import numpy as np
import soundfile as sf

from engine.text.prompts import Prompt
from studio.cli import main
from studio.core.datasets import DatasetStore
from studio.core.library import open_library
from studio.core.paths import get_paths


def test_export_and_list(speech_clips, tmp_path, capsys):
    paths = get_paths()
    lib = open_library(paths.library_db)
    store = DatasetStore(lib, paths)
    ds = store.create("cli set", speaker="Linda")
    rows = [r for r in speech_clips if r["file"].startswith("ljspeech_lj_LJ001-000")][:2]
    store.add_prompts(ds.id, [Prompt(f"u{i}", r["transcript"]) for i, r in enumerate(rows)])
    for p, r in zip(store.prompts(ds.id), rows):
        t = store.begin_take(ds.id, p.id, p.key)
        store.finish_take(t, r["path"], duration_s=1.0, sample_rate=22050)
    assert main(["dataset", "list"]) == 0
    assert "cli set" in capsys.readouterr().out
    assert main(["dataset", "export", "cli set", "--format", "xtts", "--out", str(tmp_path / "x"), "--sr", "24000"]) == 0
    lines = (tmp_path / "x" / "metadata_train.csv").read_text().splitlines()
    assert lines[0] == "audio_file|text|speaker_name" and len(lines) == 3 and lines[1].endswith("|Linda")
    # A second export into the same folder refuses, and says why.
    assert main(["dataset", "export", "cli set", "--out", str(tmp_path / "x")]) == 1
    assert "not empty" in capsys.readouterr().err
    assert main(["dataset", "export", "nope", "--out", str(tmp_path / "y")]) == 1
    lib.close()


def test_segment_command(speech_clips, tmp_path):
    rows = [r for r in speech_clips if r["file"].startswith("vctk_p225")][:3]
    parts = []
    for r in rows:
        x, sr = sf.read(str(r["path"]), dtype="float32")
        parts += [x, np.zeros(int(0.6 * sr), np.float32)]
    sf.write(str(tmp_path / "long.wav"), np.concatenate(parts), sr)
    assert main(["dataset", "segment", str(tmp_path / "long.wav"), "--out", str(tmp_path / "seg"), "--no-asr"]) == 0
    got = list(csv.DictReader(open(tmp_path / "seg" / "segments.csv")))
    assert len(got) == 3
    for g in got:
        assert 1.0 <= sf.info(str(tmp_path / "seg" / g["file_name"])).duration <= 12.0
