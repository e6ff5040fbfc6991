"""Every export format is written, read back and validated; bad targets fail clearly, losing nothing."""
from __future__ import annotations

import csv
import errno
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.text.prompts import Prompt
from studio.core import dataset_export as E
from studio.core.datasets import DatasetStore
from studio.core.library import open_library
from studio.core.paths import get_paths

CLIPS = ["ljspeech_lj_LJ001-0003.wav", "ljspeech_lj_LJ001-0004.wav", "vctk_p225_003.wav",
         "vctk_p225_008.wav", "cmuarctic_aew_arctic_a0001.wav"]


@pytest.fixture
def dataset(speech_clips, tmp_path):
    paths = get_paths()
    lib = open_library(paths.library_db)
    store = DatasetStore(lib, paths)
    ds = store.create("Export me", speaker="Mixed Reader", sample_rate=24000)
    rows = {r["file"]: r for r in speech_clips}
    store.add_prompts(ds.id, [Prompt(f"utt{i:02d}", rows[f]["transcript"]) for i, f in enumerate(CLIPS)])
    for p, f in zip(store.prompts(ds.id), CLIPS):
        x, sr = sf.read(str(rows[f]["path"]), dtype="float32")
        dst = store.takes_folder(ds.id) / f"{p.key}.wav"
        sf.write(str(dst), x, sr)
        t = store.begin_take(ds.id, p.id, p.key)
        store.finish_take(t, dst, duration_s=len(x) / sr, sample_rate=sr)
    yield store, ds
    lib.close()


def _export(store, ds, dest, **kw):
    items = E.collect_items(store, ds.id)
    return E.export_dataset(items, dest, E.ExportOptions(**kw), card_info={"name": ds.name})


def test_ljspeech(dataset, tmp_path):
    store, ds = dataset
    res = _export(store, ds, tmp_path / "lj", format="ljspeech", sample_rate=22050)
    lines = (tmp_path / "lj" / "metadata.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5
    texts = {p.key: p.text for p in store.prompts(ds.id)}
    for line in lines:
        uid, text, norm = line.split("|")
        assert text == " ".join(texts[uid].split()) and norm
        info = sf.info(str(tmp_path / "lj" / "wavs" / f"{uid}.wav"))
        assert info.samplerate == 22050 and info.channels == 1 and info.subtype == "PCM_16"
    card = (tmp_path / "lj" / "README.md").read_text()
    assert "Clips: 5" in card and "phonemes" in card and (tmp_path / "lj" / "durations.png").read_bytes()[:4] == b"\x89PNG"
    assert abs(res.hours * 3600 - sum(c.duration_s for c in res.clips)) < 1e-6


def test_audiofolder_loads_with_datasets(dataset, tmp_path):
    datasets = pytest.importorskip("datasets")
    store, ds = dataset
    _export(store, ds, tmp_path / "af", format="audiofolder", eval_fraction=0.4, bit_depth=24)
    loaded = datasets.load_dataset("audiofolder", data_dir=str(tmp_path / "af"))
    assert sorted(loaded.keys()) == ["test", "train"]
    assert loaded["train"].num_rows == 3 and loaded["test"].num_rows == 2
    texts = {p.text for p in store.prompts(ds.id)}
    got = loaded["train"].cast_column("audio", datasets.Audio(decode=False))
    for row in got:
        assert row["text"] in texts
        assert sf.info(row["audio"]["path"]).subtype == "PCM_24"


def test_xtts_and_jsonl(dataset, tmp_path):
    store, ds = dataset
    _export(store, ds, tmp_path / "x", format="xtts", eval_fraction=0.2)
    train = list(csv.DictReader(open(tmp_path / "x" / "metadata_train.csv", encoding="utf-8"), delimiter="|"))
    held = list(csv.DictReader(open(tmp_path / "x" / "metadata_eval.csv", encoding="utf-8"), delimiter="|"))
    assert len(train) == 4 and len(held) == 1
    for r in train + held:
        assert (tmp_path / "x" / r["audio_file"]).is_file() and r["speaker_name"] == "Mixed Reader"
    _export(store, ds, tmp_path / "j", format="jsonl", target_lufs=-20.0)
    rows = [json.loads(l) for l in (tmp_path / "j" / "train.jsonl").read_text().splitlines()]
    assert len(rows) == 5
    for r in rows:
        x, sr = sf.read(str(tmp_path / "j" / r["path"]))
        assert abs(len(x) / sr - r["duration"]) < 0.01 and r["speaker"] == "Mixed Reader" and r["text"]
        from engine.audio.loudness import integrated_lufs
        assert abs(integrated_lufs(x.astype(np.float32), sr) - (-20.0)) < 1.0


def test_never_overwrites_without_asking(dataset, tmp_path):
    store, ds = dataset
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "mine.txt").write_text("do not lose me")
    with pytest.raises(E.ExportError, match="not empty"):
        _export(store, ds, dest, format="ljspeech")
    assert (dest / "mine.txt").read_text() == "do not lose me" and len(list(dest.iterdir())) == 1
    items = E.collect_items(store, ds.id)
    E.export_dataset(items, dest, E.ExportOptions(), overwrite=True)
    assert (dest / "metadata.csv").exists()
    # The replaced folder went to the trash, not away.
    assert any((p / "mine.txt").exists() for p in get_paths().trash.iterdir())


def test_unwritable_target_and_full_disk(dataset, tmp_path, monkeypatch):
    store, ds = dataset
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(E.ExportError, match="cannot write"):
        _export(store, ds, blocker / "sub" / "out", format="ljspeech")
    with pytest.raises(E.ExportError, match="is a file"):
        _export(store, ds, blocker, format="ljspeech")

    from collections import namedtuple
    Usage = namedtuple("Usage", "total used free")
    real_usage = E.shutil.disk_usage
    monkeypatch.setattr(E.shutil, "disk_usage", lambda p: Usage(10**9, 10**9 - 1000, 1000))
    with pytest.raises(E.ExportError, match="not enough disk space"):
        _export(store, ds, tmp_path / "small", format="ljspeech")
    monkeypatch.setattr(E.shutil, "disk_usage", real_usage)

    # The disk fills up half way through: a clear message, no partial folder, takes untouched.
    real_write = sf.write
    calls = {"n": 0}
    def failing_write(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(*a, **k)
    monkeypatch.setattr(sf, "write", failing_write)
    with pytest.raises(E.ExportError, match="ran out of space"):
        _export(store, ds, tmp_path / "full", format="ljspeech")
    assert not (tmp_path / "full").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".full")]
    assert all(t.path.exists() for t in store.takes(ds.id))


def test_cancel_leaves_nothing(dataset, tmp_path):
    store, ds = dataset
    seen = []
    with pytest.raises(E.ExportCancelled):
        E.export_dataset(E.collect_items(store, ds.id), tmp_path / "c", E.ExportOptions(),
                         progress=lambda d, n: seen.append(d), cancel=lambda: len(seen) >= 2)
    assert seen == [1, 2] and not any(tmp_path.glob("*c*"))


def test_nothing_to_export_says_so(tmp_path):
    with pytest.raises(E.ExportError, match="nothing to export"):
        E.export_dataset([], tmp_path / "e", E.ExportOptions())
