"""VoiceStore: saved voices (name, transcript, consent, notes) and their clips, in the Library.

A *designed* voice (Qwen3-TTS VoiceDesign: made from a written description, kept from an audition)
records no person: `designed` holds its description, and the consent tick does not apply to it.

Each clip keeps the user's ORIGINAL file (copied byte for byte into the library) and a mono
float32 WAV working copy that edits produce and models read. Audio lives under
`paths.voices/<voice id>/`; rows live in SQLite. Delete is soft (a `deleted` timestamp) so it can
be undone; `purge_deleted()` removes the files for good.
"""
from __future__ import annotations

import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from studio.core.library import Library
from studio.core.paths import Paths

SCHEMA = """
CREATE TABLE IF NOT EXISTS voices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    transcript TEXT NOT NULL DEFAULT '',
    consent INTEGER NOT NULL DEFAULT 0,
    notes TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    deleted REAL
);
CREATE TABLE IF NOT EXISTS voice_clips (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    voice_id INTEGER NOT NULL REFERENCES voices(id) ON DELETE CASCADE,
    original_path TEXT NOT NULL,
    working_path TEXT NOT NULL,
    sample_rate INTEGER NOT NULL,
    duration_s REAL NOT NULL,
    transcript TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS voice_clips_voice ON voice_clips(voice_id);
"""


class ConsentRequired(ValueError):
    """Saving a voice needs the consent tick ("my own voice, or I have permission")."""


@dataclass
class VoiceClip:
    id: int
    voice_id: int
    original_path: Path  # the user's file as imported (any format)
    working_path: Path  # mono float32 WAV derived from it (after edits)
    sample_rate: int
    duration_s: float
    transcript: str = ""


@dataclass
class Voice:
    id: int
    name: str
    transcript: str
    consent: bool
    notes: str
    created: float
    clips: list[VoiceClip] = field(default_factory=list)
    designed: str = ""  # the description it was designed from ("": recorded from a person)


class VoiceStore:
    def __init__(self, library: Library, paths: Paths):
        self.library = library
        self.paths = paths
        library.ensure_schema(SCHEMA)
        if not any(r["name"] == "designed" for r in library.query("PRAGMA table_info(voices)")):
            library.execute("ALTER TABLE voices ADD COLUMN designed TEXT NOT NULL DEFAULT ''")

    # ---- create -------------------------------------------------------------------------
    def create(self, name: str, *, transcript: str = "", consent: bool, notes: str = "",
               samples: np.ndarray | None = None, sample_rate: int | None = None,
               original: Path | None = None) -> Voice:
        """Save a new voice; with `samples`, its first clip. Raises ConsentRequired / ValueError."""
        name = name.strip()
        if not name:
            raise ValueError("A voice needs a name.")
        if not consent:
            raise ConsentRequired("Tick the consent box: this is my own voice, or I have permission to use it.")
        with self.library.transaction() as conn:
            voice_id = conn.execute(
                "INSERT INTO voices(name, transcript, consent, notes, created) VALUES (?,?,?,?,?)",
                (name, transcript, 1, notes, time.time())).lastrowid
        if samples is not None:
            try:
                self.add_clip(voice_id, samples, sample_rate or 0, original=original, transcript=transcript)
            except BaseException:
                # No half-saved voice without audio: roll the row back, keep the user's data in the UI.
                self.library.execute("DELETE FROM voices WHERE id=?", (voice_id,))
                shutil.rmtree(self._voice_dir(voice_id), ignore_errors=True)
                raise
        return self.get(voice_id)

    def create_designed(self, name: str, *, description: str, samples: np.ndarray, sample_rate: int,
                        transcript: str = "", notes: str = "") -> Voice:
        """Save a voice designed from `description` (no person recorded: no consent tick), with the
        kept audition as its clip and the words it speaks as the transcript."""
        name, description = name.strip(), description.strip()
        if not name:
            raise ValueError("A voice needs a name.")
        if not description:
            raise ValueError("A designed voice needs its description.")
        with self.library.transaction() as conn:
            voice_id = conn.execute(
                "INSERT INTO voices(name, transcript, consent, notes, created, designed) VALUES (?,?,?,?,?,?)",
                (name, transcript, 0, notes, time.time(), description)).lastrowid
        try:
            self.add_clip(voice_id, samples, sample_rate, transcript=transcript)
        except BaseException:
            self.library.execute("DELETE FROM voices WHERE id=?", (voice_id,))
            shutil.rmtree(self._voice_dir(voice_id), ignore_errors=True)
            raise
        return self.get(voice_id)

    def add_clip(self, voice_id: int, samples: np.ndarray, sample_rate: int, *,
                 original: Path | None = None, transcript: str = "") -> VoiceClip:
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim != 1 or samples.size == 0:
            raise ValueError("A clip must be non-empty mono audio.")
        if sample_rate <= 0:
            raise ValueError("A clip needs a sample rate.")
        vdir = self._voice_dir(voice_id)
        vdir.mkdir(parents=True, exist_ok=True)
        stamp = uuid.uuid4().hex[:12]
        working = vdir / f"clip-{stamp}.wav"
        sf.write(str(working), samples, sample_rate, subtype="FLOAT")
        if original is not None and Path(original).exists():
            orig_dest = vdir / f"clip-{stamp}-original{Path(original).suffix.lower()}"
            shutil.copy2(original, orig_dest)
        else:  # recorded in the app: the working copy is the original
            orig_dest = working
        duration = samples.size / float(sample_rate)
        with self.library.transaction() as conn:
            clip_id = conn.execute(
                "INSERT INTO voice_clips(voice_id, original_path, working_path, sample_rate, duration_s,"
                " transcript, created) VALUES (?,?,?,?,?,?,?)",
                (voice_id, self._rel(orig_dest), self._rel(working), sample_rate, duration, transcript,
                 time.time())).lastrowid
        return VoiceClip(clip_id, voice_id, orig_dest, working, sample_rate, duration, transcript)

    # ---- read ---------------------------------------------------------------------------
    def list(self, *, include_deleted: bool = False) -> list[Voice]:
        where = "" if include_deleted else "WHERE deleted IS NULL"
        rows = self.library.query(f"SELECT * FROM voices {where} ORDER BY name COLLATE NOCASE, id")
        return [self._voice(r) for r in rows]

    def get(self, voice_id: int) -> Voice:
        rows = self.library.query("SELECT * FROM voices WHERE id=?", (voice_id,))
        if not rows:
            raise KeyError(f"no voice with id {voice_id}")
        return self._voice(rows[0])

    def load_clip(self, clip: VoiceClip) -> tuple[np.ndarray, int]:
        x, sr = sf.read(str(clip.working_path), dtype="float32", always_2d=False)
        return x, sr

    # ---- change -------------------------------------------------------------------------
    def rename(self, voice_id: int, name: str) -> None:
        name = name.strip()
        if not name:
            raise ValueError("A voice needs a name.")
        self.library.execute("UPDATE voices SET name=? WHERE id=?", (name, voice_id))

    def update(self, voice_id: int, *, transcript: str | None = None, notes: str | None = None) -> None:
        if transcript is not None:
            self.library.execute("UPDATE voices SET transcript=? WHERE id=?", (transcript, voice_id))
        if notes is not None:
            self.library.execute("UPDATE voices SET notes=? WHERE id=?", (notes, voice_id))

    def delete(self, voice_id: int) -> None:
        """Soft delete: hidden from list(), files kept until purge, `restore` undoes it."""
        self.library.execute("UPDATE voices SET deleted=? WHERE id=?", (time.time(), voice_id))

    def restore(self, voice_id: int) -> None:
        self.library.execute("UPDATE voices SET deleted=NULL WHERE id=?", (voice_id,))

    def duplicate(self, voice_id: int, name: str | None = None) -> Voice:
        src = self.get(voice_id)
        with self.library.transaction() as conn:
            new_id = conn.execute(
                "INSERT INTO voices(name, transcript, consent, notes, created, designed) VALUES (?,?,?,?,?,?)",
                (name or f"{src.name} copy", src.transcript, int(src.consent), src.notes, time.time(),
                 src.designed)).lastrowid
        dst_dir = self._voice_dir(new_id)
        dst_dir.mkdir(parents=True, exist_ok=True)
        for c in src.clips:
            work = dst_dir / c.working_path.name
            shutil.copy2(c.working_path, work)
            orig = work
            if c.original_path != c.working_path:
                orig = dst_dir / c.original_path.name
                shutil.copy2(c.original_path, orig)
            self.library.execute(
                "INSERT INTO voice_clips(voice_id, original_path, working_path, sample_rate, duration_s,"
                " transcript, created) VALUES (?,?,?,?,?,?,?)",
                (new_id, self._rel(orig), self._rel(work), c.sample_rate, c.duration_s, c.transcript, time.time()))
        return self.get(new_id)

    def purge_deleted(self, older_than_s: float = 0.0) -> int:
        """Remove soft-deleted voices (rows and files); returns how many."""
        cutoff = time.time() - older_than_s
        rows = self.library.query("SELECT id FROM voices WHERE deleted IS NOT NULL AND deleted <= ?", (cutoff,))
        for r in rows:
            self.library.execute("DELETE FROM voice_clips WHERE voice_id=?", (r["id"],))
            self.library.execute("DELETE FROM voices WHERE id=?", (r["id"],))
            shutil.rmtree(self._voice_dir(r["id"]), ignore_errors=True)
        return len(rows)

    # ---- helpers ------------------------------------------------------------------------
    def _voice_dir(self, voice_id: int) -> Path:
        return self.paths.voices / str(voice_id)

    def _rel(self, p: Path) -> str:
        """Stored relative to the data directory so a moved MYNAH_HOME still works."""
        try:
            return str(Path(p).relative_to(self.paths.home))
        except ValueError:
            return str(p)

    def _abs(self, s: str) -> Path:
        p = Path(s)
        return p if p.is_absolute() else self.paths.home / p

    def _voice(self, row) -> Voice:
        clips = [VoiceClip(c["id"], c["voice_id"], self._abs(c["original_path"]), self._abs(c["working_path"]),
                           c["sample_rate"], c["duration_s"], c["transcript"])
                 for c in self.library.query("SELECT * FROM voice_clips WHERE voice_id=? ORDER BY id", (row["id"],))]
        return Voice(row["id"], row["name"], row["transcript"], bool(row["consent"]), row["notes"],
                     row["created"], clips, designed=row["designed"] if "designed" in row.keys() else "")
