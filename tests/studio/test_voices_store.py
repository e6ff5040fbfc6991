import numpy as np
import pytest
import soundfile as sf

from studio.core.library import Library
from studio.core.paths import get_paths
from studio.core.voices import ConsentRequired, VoiceStore


@pytest.fixture
def store():
    paths = get_paths()
    lib = Library(paths.library_db)
    yield VoiceStore(lib, paths)
    lib.close()


def _tone(sr=16000, s=2.0):
    return (0.3 * np.sin(2 * np.pi * 220 * np.arange(int(sr * s)) / sr)).astype(np.float32)


def test_create_keeps_original_and_float_working_copy(store, tmp_path):
    orig = tmp_path / "me.flac"
    sf.write(orig, _tone(), 16000, format="FLAC")
    v = store.create("Me", transcript="hello there", consent=True, notes="sm7b",
                     samples=_tone(s=1.5), sample_rate=16000, original=orig)
    assert (v.name, v.transcript, v.notes, v.consent) == ("Me", "hello there", "sm7b", True)
    clip = v.clips[0]
    assert clip.original_path.read_bytes() == orig.read_bytes()  # byte-for-byte copy
    info = sf.info(clip.working_path)
    assert info.subtype == "FLOAT" and info.channels == 1 and abs(info.duration - 1.5) < 1e-6
    x, sr = store.load_clip(clip)
    assert sr == 16000 and np.allclose(x, _tone(s=1.5))


def test_consent_and_name_required(store):
    with pytest.raises(ConsentRequired):
        store.create("X", consent=False, samples=_tone(), sample_rate=16000)
    with pytest.raises(ValueError):
        store.create("  ", consent=True)
    assert store.list() == []


def test_several_clips_rename_duplicate_delete_restore(store):
    v = store.create("Alice", consent=True, samples=_tone(), sample_rate=16000)
    store.add_clip(v.id, _tone(s=3.0), 16000, transcript="second")
    store.rename(v.id, "Alice (studio)")
    dup = store.duplicate(v.id)
    assert dup.name == "Alice (studio) copy" and len(dup.clips) == 2
    assert dup.clips[0].working_path != store.get(v.id).clips[0].working_path
    store.delete(v.id)
    assert [x.name for x in store.list()] == ["Alice (studio) copy"]
    store.restore(v.id)
    names = sorted(x.name for x in store.list())
    assert names == ["Alice (studio)", "Alice (studio) copy"]
    assert [round(c.duration_s, 3) for c in store.get(v.id).clips] == [2.0, 3.0]


def test_purge_removes_files(store):
    v = store.create("Tmp", consent=True, samples=_tone(), sample_rate=16000)
    path = v.clips[0].working_path
    store.delete(v.id)
    assert path.exists()  # soft delete keeps audio for undo
    assert store.purge_deleted() == 1
    assert not path.exists() and store.list(include_deleted=True) == []


def test_bad_clip_leaves_no_half_saved_voice(store):
    with pytest.raises(ValueError):
        store.create("Broken", consent=True, samples=np.zeros(0, np.float32), sample_rate=16000)
    assert store.list(include_deleted=True) == []


def test_survives_reopen(tmp_path):
    paths = get_paths()
    lib = Library(paths.library_db)
    VoiceStore(lib, paths).create("Bob", transcript="hi", consent=True, samples=_tone(), sample_rate=16000)
    lib.close()
    lib2 = Library(paths.library_db)
    v = VoiceStore(lib2, paths).list()[0]
    assert (v.name, v.transcript, round(v.clips[0].duration_s, 3)) == ("Bob", "hi", 2.0)
    lib2.close()
