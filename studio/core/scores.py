"""Cached evaluation scores per take or clip, so the studio shows WER/similarity/MOS instantly
after the first scoring and re-scores only when the audio, the reference or the scorer settings
change.

A row is keyed by (subject kind, subject id, scorer config key, reference key). `audio_key` (e.g.
a content hash or size+mtime of the audio file) is stored beside it: a changed take (edited,
re-rendered) no longer matches and reads as "not scored yet".
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from engine.eval.scorer import TakeScores
from studio.core.library import Library

SUBJECT_KINDS = ("take", "clip", "dataset_take", "file")

_DDL = """
CREATE TABLE IF NOT EXISTS eval_scores (
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    config_key TEXT NOT NULL,
    reference_key TEXT NOT NULL DEFAULT '',
    audio_key TEXT NOT NULL,
    created REAL NOT NULL,
    scores_json TEXT NOT NULL,
    PRIMARY KEY (subject_kind, subject_id, config_key, reference_key)
);
CREATE INDEX IF NOT EXISTS eval_scores_subject ON eval_scores(subject_kind, subject_id);
"""


@dataclass(frozen=True)
class StoredScores:
    subject_kind: str
    subject_id: str
    config_key: str
    reference_key: str
    created: float
    scores: TakeScores


def file_audio_key(path: Path) -> str:
    """Content hash of an audio file (sha1 of its bytes): changes whenever the audio does."""
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class ScoreStore:
    def __init__(self, library: Library):
        self.library = library
        library.ensure_schema(_DDL)

    def put(self, kind: str, subject_id: str | int, scores: TakeScores, *, config_key: str,
            audio_key: str, reference_key: str = "") -> None:
        self._check_kind(kind)
        self.library.execute(
            "INSERT OR REPLACE INTO eval_scores (subject_kind, subject_id, config_key, reference_key,"
            " audio_key, created, scores_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (kind, str(subject_id), config_key, reference_key, audio_key, time.time(), scores.to_json()))

    def get(self, kind: str, subject_id: str | int, *, config_key: str, audio_key: str,
            reference_key: str = "") -> TakeScores | None:
        """The cached scores, or None when never scored or the audio changed since."""
        self._check_kind(kind)
        rows = self.library.query(
            "SELECT audio_key, scores_json FROM eval_scores WHERE subject_kind=? AND subject_id=?"
            " AND config_key=? AND reference_key=?", (kind, str(subject_id), config_key, reference_key))
        if not rows or rows[0]["audio_key"] != audio_key:
            return None
        try:
            return TakeScores.from_json(rows[0]["scores_json"])
        except (ValueError, KeyError, TypeError):
            # Written by an older/newer layout: treat as not scored rather than failing the view.
            return None

    def all_for(self, kind: str, subject_id: str | int) -> list[StoredScores]:
        """Every cached score of one subject (all configs/references), newest first."""
        rows = self.library.query(
            "SELECT * FROM eval_scores WHERE subject_kind=? AND subject_id=? ORDER BY created DESC",
            (kind, str(subject_id)))
        out = []
        for r in rows:
            try:
                s = TakeScores.from_json(r["scores_json"])
            except (ValueError, KeyError, TypeError):
                continue
            out.append(StoredScores(r["subject_kind"], r["subject_id"], r["config_key"], r["reference_key"],
                                    r["created"], s))
        return out

    def forget(self, kind: str, subject_id: str | int) -> int:
        """Drop cached scores of a deleted take/clip; returns rows removed."""
        with self.library.transaction() as conn:
            return conn.execute("DELETE FROM eval_scores WHERE subject_kind=? AND subject_id=?",
                                (kind, str(subject_id))).rowcount

    @staticmethod
    def _check_kind(kind: str) -> None:
        if kind not in SUBJECT_KINDS:
            raise ValueError(f"unknown subject kind {kind!r}; one of {', '.join(SUBJECT_KINDS)}")
