"""DatasetStore: datasets, prompts, takes with a best one, session position, crash recovery."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
import soundfile as sf

from engine.text.prompts import Prompt
from studio.core.datasets import DatasetError, DatasetStore
from studio.core.library import open_library
from studio.core.paths import get_paths


@pytest.fixture
def store():
    paths = get_paths()
    lib = open_library(paths.library_db)
    yield DatasetStore(lib, paths)
    lib.close()


def _wav(path, seconds=1.0, sr=24000):
    x = (0.1 * np.sin(np.arange(int(seconds * sr)) * 0.05)).astype(np.float32)
    sf.write(str(path), x, sr)
    return path


def test_create_validates_and_lists(store):
    ds = store.create("Anna read speech", speaker="Anna", sample_rate=44100, target_minutes=30, gain_notes="mic at 3")
    assert store.get(ds.id).gain_notes == "mic at 3"
    with pytest.raises(DatasetError, match="already exists"):
        store.create("Anna  read speech")
    with pytest.raises(DatasetError, match="sample rate"):
        store.create("Other", sample_rate=22050)
    with pytest.raises(DatasetError, match="name"):
        store.create("   ")
    store.create("Bob")
    assert [d.name for d in store.list()] == ["Anna read speech", "Bob"]


def test_takes_best_discard_and_position(store, tmp_path):
    ds = store.create("D", sample_rate=24000)
    assert store.add_prompts(ds.id, [Prompt("p1", "One."), Prompt("p2", "Two."), Prompt("p1", "dup")]) == 2
    p1, p2 = store.prompts(ds.id)
    t1 = store.begin_take(ds.id, p1.id, "p1_take1")
    store.finish_take(t1, _wav(tmp_path / "a.wav"), duration_s=1.0, sample_rate=24000)
    t2 = store.begin_take(ds.id, p1.id, "p1_take2")
    store.finish_take(t2, _wav(tmp_path / "b.wav"), duration_s=1.0, sample_rate=24000)
    assert store.take(t1).is_best and not store.take(t2).is_best  # first take is best until chosen
    store.set_best(t2)
    assert store.best_takes(ds.id)[p1.id].id == t2
    store.discard_take(t2)  # the best one: the other take takes over, the file goes to the trash
    assert store.best_takes(ds.id)[p1.id].id == t1
    assert not (tmp_path / "b.wav").exists() and any(store.paths.trash.glob("b*.wav"))
    assert [t.id for t in store.takes(ds.id, p1.id)] == [t1]
    store.begin_take(ds.id, p2.id)
    assert store.get(ds.id).position == 1  # session position follows the take being recorded


def _stream_like_the_recorder(path, seconds, sr, *, sync_at):
    """Write a streamed WAV whose header was last synced at `sync_at` s, then 'crash' (no close)."""
    from studio.core.recorder_wav import StreamingWavWriter

    w = StreamingWavWriter(path, sr, 1)
    x = (0.2 * np.sin(np.arange(int(seconds * sr)) * 0.03)).astype(np.float32)
    k = int(sync_at * sr)
    w.write(x[:k, None])
    w.sync()
    w.write(x[k:, None])
    w._f.flush()  # the OS has the bytes; the header still says `sync_at` seconds
    return x


def test_resume_recovers_an_interrupted_take_and_the_prompt(store):
    from studio.core.recovery import Sidecar

    ds = store.create("Crashy", sample_rate=24000)
    store.add_prompts(ds.id, [Prompt(f"p{i}", f"Prompt {i}.") for i in range(5)])
    prompts = store.prompts(ds.id)
    t = store.begin_take(ds.id, prompts[2].id, "p2_take1")
    wav = store.paths.incomplete / "stream.wav"
    Sidecar(sample_rate=24000, channels=1, started="now", name="p2_take1",
            dest_dir=str(store.takes_folder(ds.id)), owner="dataset", owner_ref=str(t), pid=999999999
            ).save(wav.with_suffix(".json"))
    x = _stream_like_the_recorder(wav, 2.5, 24000, sync_at=1.0)
    store.set_streaming_path(t, wav)

    # A new process opens the library: the take is recovered in full and the session resumes at p2.
    store2 = DatasetStore(open_library(store.paths.library_db), store.paths)
    assert store2.resume(ds.id) == 2
    take = store2.take(t)
    assert take.status == "recovered" and take.is_best
    y, sr = sf.read(str(take.path), dtype="float32")
    assert sr == 24000 and len(y) == len(x) and np.allclose(y, x)
    assert not wav.exists() and not wav.with_suffix(".json").exists()


def test_resume_finds_a_take_already_recovered_by_the_startup_dialog(store):
    ds = store.create("Moved", sample_rate=24000)
    store.add_prompts(ds.id, [Prompt("p0", "Zero.")])
    p = store.prompts(ds.id)[0]
    t = store.begin_take(ds.id, p.id, "p0_take1")
    store.set_streaming_path(t, store.paths.incomplete / "gone.wav")
    _wav(store.takes_folder(ds.id) / "p0_take1.wav", 1.5)
    store.resume(ds.id)
    assert store.take(t).status == "recovered" and abs(store.take(t).duration_s - 1.5) < 0.01
    # A take whose file vanished entirely is marked lost, not shown as usable.
    t2 = store.begin_take(ds.id, p.id, "p0_take2_x")
    store.resume(ds.id)
    assert store.take(t2).status == "lost" and [x.id for x in store.takes(ds.id)] == [t]
