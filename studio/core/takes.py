"""Takes: every generated clip with the full recipe that made it, its audio on disk and its codes.

A take's recipe holds everything needed to make the same audio again on the same device (model id,
revision, weight hash, backend version, sampling parameters, seed, voice, text and chunking), so
"Re-render" is just "submit this recipe again". Delete moves the files to the trash and flags the
row, so undo restores exactly what was there.
"""
from __future__ import annotations

import json
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.library import Library
from studio.core.paths import Paths

TAKE_STATUSES = ("complete", "cancelled", "failed")

_DDL = """
CREATE TABLE IF NOT EXISTS takes (
    id TEXT PRIMARY KEY,
    voice_id TEXT,
    model_id TEXT NOT NULL,
    text TEXT NOT NULL,
    seed INTEGER,
    status TEXT NOT NULL,
    favourite INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    duration_s REAL NOT NULL,
    sample_rate INTEGER NOT NULL,
    audio_file TEXT NOT NULL,
    codes_file TEXT,
    recipe_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS takes_voice ON takes(voice_id, created);
"""


LATENTS_SUFFIX = ".latents.npy"


class TakeError(Exception):
    """A take could not be stored or found; the message is for the user."""


@dataclass(frozen=True)
class TakeRecipe:
    """Everything that decides a take's audio. Stored as JSON; unknown keys are ignored on load."""

    model_id: str
    text: str
    voice_id: int | str | None = None  # VoiceStore ids are ints
    backend: str = ""
    backend_version: str = ""
    revision: str = ""
    weights_sha256: str = ""
    device: str = "cpu"
    dtype: str = "float32"
    temperature: float = 0.9
    top_k: int = 50
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    seed: int | None = None
    max_audio_seconds: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    chunks: tuple[str, ...] = ()  # the text as the chunker split it (pauses included as markers)
    crossfade_ms: float = 0.0  # the engine joins chunks as generated; kept so a later crossfade is recorded
    # The inaudible AI watermark in the saved audio (engine.provenance.WatermarkStamp.to_dict():
    # method, model, version, weights_sha256); None: the take is not marked.
    watermark: dict[str, Any] | None = None

    def to_json(self) -> str:
        d = asdict(self)
        d["chunks"] = list(self.chunks)
        return json.dumps(d, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "TakeRecipe":
        d = json.loads(text)
        known = {f.name for f in fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        d["chunks"] = tuple(d.get("chunks") or ())
        return cls(**d)

    def setting_label(self) -> str:
        """A short name for the sampling setting, used to group ratings and results."""
        return f"T={self.temperature:g} k={self.top_k} p={self.top_p:g}"


@dataclass
class Take:
    id: str
    recipe: TakeRecipe
    status: str
    favourite: bool
    created: float
    duration_s: float
    sample_rate: int
    audio_path: Path
    codes_path: Path | None
    timings: dict[str, float] = field(default_factory=dict)
    deleted: bool = False
    # Where each text chunk's speech sits in the audio: [(start, end)] samples, one per recipe chunk.
    chunk_spans: list[tuple[int, int]] = field(default_factory=list)

    @property
    def seed(self) -> int | None:
        return self.recipe.seed

    @property
    def has_latents(self) -> bool:
        return self.codes_path is not None and self.codes_path.name.endswith(LATENTS_SUFFIX)

    def label(self) -> str:
        seed = "random" if self.recipe.seed is None else str(self.recipe.seed)
        mark = " (cancelled)" if self.status == "cancelled" else ""
        return f"{self.recipe.model_id} · seed {seed} · {self.duration_s:.1f} s{mark}"


class TakeStore:
    def __init__(self, library: Library, paths: Paths):
        self.library = library
        self.paths = paths
        library.ensure_schema(_DDL)
        paths.takes.mkdir(parents=True, exist_ok=True)
        paths.trash.mkdir(parents=True, exist_ok=True)

    # --- create ---------------------------------------------------------------------------
    def add(self, recipe: TakeRecipe, audio: np.ndarray, sample_rate: int, *,
            codes: np.ndarray | None = None, latents: np.ndarray | None = None, status: str = "complete",
            timings: dict[str, float] | None = None,
            chunk_spans: list[tuple[int, int]] | None = None) -> Take:
        """Store a take: audio as float32 WAV (lossless, so re-renders compare bit for bit); a token model's
        codes [n_codebooks, T] or a continuous-latent model's (Pocket TTS) latents [latent_dim, T] beside it."""
        import soundfile as sf

        if status not in TAKE_STATUSES:
            raise TakeError(f"unknown take status {status!r}")
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)  # [T]
        take_id = uuid.uuid4().hex[:12]
        audio_path = self.paths.takes / f"{take_id}.wav"
        sf.write(str(audio_path), audio, int(sample_rate), subtype="FLOAT")
        codes_path = None
        if codes is not None:
            codes_path = self.paths.takes / f"{take_id}.codes.npy"
            np.save(codes_path, np.asarray(codes))  # [n_codebooks, T_frames]
        elif latents is not None:  # same column, told apart by the file name (no schema change)
            codes_path = self.paths.takes / f"{take_id}{LATENTS_SUFFIX}"
            np.save(codes_path, np.asarray(latents, dtype=np.float32))  # [latent_dim, T_frames]
        created = time.time()
        duration = len(audio) / float(sample_rate)
        stored = json.loads(recipe.to_json())
        stored["_timings"] = dict(timings or {})
        stored["_chunk_spans"] = [[int(a), int(b)] for a, b in (chunk_spans or [])]
        self.library.execute(
            "INSERT INTO takes (id, voice_id, model_id, text, seed, status, created, duration_s,"
            " sample_rate, audio_file, codes_file, recipe_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (take_id, recipe.voice_id, recipe.model_id, recipe.text, recipe.seed, status, created,
             duration, int(sample_rate), audio_path.name, codes_path.name if codes_path else None,
             json.dumps(stored, ensure_ascii=False)))
        return self.get(take_id)

    # --- read -----------------------------------------------------------------------------
    def get(self, take_id: str, *, include_deleted: bool = False) -> Take:
        rows = self.library.query("SELECT * FROM takes WHERE id=?", (take_id,))
        if not rows or (rows[0]["deleted"] and not include_deleted):
            raise TakeError(f"take {take_id} not found (deleted?)")
        return self._row_to_take(rows[0])

    def list(self, *, voice_id: str | None = None, search: str = "", favourites_only: bool = False,
             limit: int = 500) -> list[Take]:
        """Newest first. `search` matches text, model id and seed (case-insensitive)."""
        sql = "SELECT * FROM takes WHERE deleted=0"
        params: list[Any] = []
        if voice_id is not None:
            sql += " AND voice_id=?"
            params.append(voice_id)
        if favourites_only:
            sql += " AND favourite=1"
        if search.strip():
            q = f"%{search.strip()}%"
            sql += " AND (text LIKE ? OR model_id LIKE ? OR CAST(seed AS TEXT) LIKE ? OR id LIKE ?)"
            params += [q, q, q, q]
        sql += " ORDER BY created DESC, rowid DESC LIMIT ?"
        params.append(int(limit))
        return [self._row_to_take(r) for r in self.library.query(sql, tuple(params))]

    def load_audio(self, take: Take | str) -> tuple[np.ndarray, int]:
        import soundfile as sf

        take = self.get(take) if isinstance(take, str) else take
        if not take.audio_path.exists():
            raise TakeError(f"the audio file of take {take.id} is missing: {take.audio_path}")
        x, sr = sf.read(str(take.audio_path), dtype="float32", always_2d=False)
        return x, int(sr)

    def load_codes(self, take: Take | str) -> np.ndarray | None:
        """[n_codebooks, T] codes of a token model's take; None otherwise (latent takes included)."""
        take = self.get(take) if isinstance(take, str) else take
        if take.codes_path is None or not take.codes_path.exists() or take.has_latents:
            return None
        return np.load(take.codes_path)

    def load_latents(self, take: Take | str) -> np.ndarray | None:
        """[latent_dim, T] float32 latents of a continuous-latent model's take (Pocket TTS), else None."""
        take = self.get(take) if isinstance(take, str) else take
        if not take.has_latents or not take.codes_path.exists():
            return None
        return np.load(take.codes_path)

    # --- edit -----------------------------------------------------------------------------
    def set_favourite(self, take_id: str, favourite: bool) -> None:
        self.library.execute("UPDATE takes SET favourite=? WHERE id=?", (int(bool(favourite)), take_id))

    def delete(self, take_id: str) -> None:
        """Move the take's files to the trash and hide it; `restore` undoes this."""
        take = self.get(take_id)
        for p in (take.audio_path, take.codes_path):
            if p is not None and p.exists():
                shutil.move(str(p), str(self.paths.trash / p.name))
        self.library.execute("UPDATE takes SET deleted=1 WHERE id=?", (take_id,))

    def restore(self, take_id: str) -> Take:
        take = self.get(take_id, include_deleted=True)
        for p in (take.audio_path, take.codes_path):
            if p is not None and (self.paths.trash / p.name).exists():
                shutil.move(str(self.paths.trash / p.name), str(p))
        self.library.execute("UPDATE takes SET deleted=0 WHERE id=?", (take_id,))
        return self.get(take_id)

    def purge_deleted(self) -> int:
        """Remove deleted takes for good (files in the trash and rows)."""
        rows = self.library.query("SELECT id, audio_file, codes_file FROM takes WHERE deleted=1")
        for r in rows:
            for name in (r["audio_file"], r["codes_file"]):
                if name:
                    (self.paths.trash / name).unlink(missing_ok=True)
        self.library.execute("DELETE FROM takes WHERE deleted=1")
        return len(rows)

    def _row_to_take(self, row) -> Take:
        stored = json.loads(row["recipe_json"])
        timings = stored.pop("_timings", {}) or {}
        spans = [tuple(x) for x in stored.pop("_chunk_spans", []) or []]
        return Take(
            id=row["id"], recipe=TakeRecipe.from_json(json.dumps(stored)), status=row["status"],
            favourite=bool(row["favourite"]), created=row["created"], duration_s=row["duration_s"],
            sample_rate=row["sample_rate"], audio_path=self.paths.takes / row["audio_file"],
            codes_path=(self.paths.takes / row["codes_file"]) if row["codes_file"] else None,
            timings=timings, deleted=bool(row["deleted"]), chunk_spans=spans)
