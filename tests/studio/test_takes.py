"""TakeStore: recipes round-trip, audio on disk, search, favourites, delete with undo, restart."""
import numpy as np
import pytest

from studio.core.library import Library
from studio.core.paths import get_paths
from studio.core.takes import TakeError, TakeRecipe, TakeStore


def _store():
    paths = get_paths()
    return TakeStore(Library(paths.library_db), paths), paths


def _recipe(text="Hello there.", seed=7, voice="v1"):
    return TakeRecipe(model_id="sesame/csm-1b", text=text, voice_id=voice, backend="csm",
                      backend_version="0.1", revision="local", weights_sha256="ab" * 32,
                      temperature=0.8, top_k=30, top_p=0.95, seed=seed, chunks=(text,),
                      options={"stream_frames": 5})


def test_take_keeps_recipe_audio_and_codes_across_restart():
    store, paths = _store()
    audio = np.random.default_rng(0).uniform(-0.5, 0.5, 24000).astype(np.float32)
    codes = np.arange(32 * 12).reshape(32, 12)
    take = store.add(_recipe(), audio, 24000, codes=codes, timings={"first_audio_s": 0.4})
    # A new store on the same database is what the user sees after restarting the app.
    store2 = TakeStore(Library(paths.library_db), paths)
    again = store2.get(take.id)
    assert again.recipe == _recipe()
    assert again.timings == {"first_audio_s": 0.4}
    x, sr = store2.load_audio(again)
    assert sr == 24000 and np.array_equal(x, audio)  # bit-exact, so re-renders can be compared
    assert np.array_equal(store2.load_codes(again), codes)
    assert "seed 7" in again.label()


def test_search_favourites_and_history_per_voice():
    store, _ = _store()
    a = store.add(_recipe("The quick brown fox.", seed=1), np.zeros(100), 24000)
    b = store.add(_recipe("Über café 東京 😀", seed=2, voice="v2"), np.zeros(100), 24000)
    c = store.add(_recipe("Another line.", seed=3), np.zeros(100), 24000, status="cancelled")
    assert [t.id for t in store.list(voice_id="v1")] == [c.id, a.id]
    assert [t.id for t in store.list(search="東京")] == [b.id]
    assert [t.id for t in store.list(search="fox")] == [a.id]
    store.set_favourite(a.id, True)
    assert [t.id for t in store.list(favourites_only=True)] == [a.id]
    assert store.get(c.id).status == "cancelled" and "cancelled" in store.get(c.id).label()


def test_delete_moves_audio_to_trash_and_undo_restores_it():
    store, paths = _store()
    audio = np.linspace(-0.2, 0.2, 2400, dtype=np.float32)
    t = store.add(_recipe(), audio, 24000, codes=np.zeros((4, 3), dtype=np.int64))
    store.delete(t.id)
    assert store.list() == []
    assert not t.audio_path.exists()
    with pytest.raises(TakeError, match="not found"):
        store.get(t.id)
    restored = store.restore(t.id)
    assert np.array_equal(store.load_audio(restored)[0], audio)
    assert store.load_codes(restored).shape == (4, 3)
    store.delete(t.id)
    assert store.purge_deleted() == 1
    assert list(paths.trash.iterdir()) == []


def test_missing_audio_file_gives_a_clear_message():
    store, _ = _store()
    t = store.add(_recipe(), np.zeros(10), 24000)
    t.audio_path.unlink()
    with pytest.raises(TakeError, match="missing"):
        store.load_audio(t.id)
