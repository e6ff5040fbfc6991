"""Designed voices (VoiceDesign): saved without a consent tick, their description kept; a library made
before designed voices existed opens with its voices intact."""
import sqlite3

import numpy as np
import pytest

from studio.core.library import Library
from studio.core.paths import get_paths
from studio.core.voices import VoiceStore


def test_designed_voice_needs_no_consent_but_a_description_and_an_old_library_upgrades():
    paths = get_paths()
    paths.library_db.parent.mkdir(parents=True, exist_ok=True)
    old = sqlite3.connect(paths.library_db)  # the voices table as it was before this column
    old.executescript("CREATE TABLE voices (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, "
                      "transcript TEXT NOT NULL DEFAULT '', consent INTEGER NOT NULL DEFAULT 0, "
                      "notes TEXT NOT NULL DEFAULT '', created REAL NOT NULL, deleted REAL);"
                      "INSERT INTO voices(name, consent, created) VALUES ('Old', 1, 0);")
    old.commit()
    old.close()
    lib = Library(paths.library_db)
    try:
        store = VoiceStore(lib, paths)
        assert [(v.name, v.designed) for v in store.list()] == [("Old", "")]
        tone = (0.2 * np.sin(np.arange(24000) / 10)).astype(np.float32)
        with pytest.raises(ValueError, match="description"):
            store.create_designed("Rasp", description=" ", samples=tone, sample_rate=24000)
        v = store.create_designed("Rasp", description="a warm, low voice", samples=tone, sample_rate=24000,
                                  transcript="Hello.")
        assert v.designed == "a warm, low voice" and not v.consent and v.clips[0].transcript == "Hello."
        assert store.duplicate(v.id).designed == "a warm, low voice"
    finally:
        lib.close()

