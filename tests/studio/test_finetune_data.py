"""A recorded dataset as training clips: best takes, skipped prompts and QC-flagged takes left out
with a reason (a transcript the ASR check did not hear first), unchecked takes kept."""
from __future__ import annotations

import pytest

from engine.text.prompts import Prompt
from studio.core.datasets import DatasetError, DatasetStore
from studio.core.finetune_data import dataset_clips, find_dataset, tuned_voices
from studio.core.library import Library
from studio.core.paths import get_paths


def test_best_takes_qc_passing_by_default(tmp_path):
    paths = get_paths()
    store = DatasetStore(Library(paths.library_db), paths)
    ds = store.create("me")
    store.add_prompts(ds.id, [Prompt(f"p{i}", f"Sentence number {i}.") for i in range(4)])
    prompts = store.prompts(ds.id)
    for p in prompts:
        f = tmp_path / f"{p.key}.wav"
        f.write_bytes(b"RIFF")
        store.finish_take(store.begin_take(ds.id, p.id, p.key), f, duration_s=2.0, sample_rate=48000)
    takes = {t.prompt_id: t for t in store.takes(ds.id)}
    store.set_qc(takes[prompts[1].id].id, {"flags": ["quiet", "wer"],
                                           "notes": ["-40 LUFS is too quiet", "the ASR heard 'hello' (WER 80%)"]})
    store.set_skipped(prompts[2].id)
    store.set_qc(takes[prompts[3].id].id, {"flags": [], "notes": []})

    got = dataset_clips(store, find_dataset(store, "me").id)
    assert [c.key for c in got.clips] == ["p0", "p3"]  # p0 never checked: kept
    assert got.left_out == ["p1: QC flagged the ASR heard 'hello' (WER 80%)"]
    assert [c.key for c in dataset_clips(store, ds.id, qc_passing=False).clips] == ["p0", "p1", "p3"]
    with pytest.raises(DatasetError, match="no dataset named 'nope'"):
        find_dataset(store, "nope")


def test_tuned_voices_are_adapter_folders(tmp_path):
    (tmp_path / "tuned" / "a").mkdir(parents=True)
    (tmp_path / "tuned" / "a" / "adapter_config.json").write_text("{}")
    (tmp_path / "tuned" / "a" / "adapter_model.safetensors").write_bytes(b"")
    (tmp_path / "tuned" / "half").mkdir()
    (tmp_path / "tuned" / "half" / "adapter_config.json").write_text("{}")
    assert [n for n, _ in tuned_voices(tmp_path)] == ["a"]
