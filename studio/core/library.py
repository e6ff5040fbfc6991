"""The user's library: one SQLite database (WAL) under the data directory, audio files beside it.

Each store (voices, takes, ratings, datasets, scores) owns its tables and calls `ensure_schema`
with idempotent DDL when it is created, so stores stay independent of one another.
"""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


class Library:
    def __init__(self, db_path: Path):
        self.path = Path(db_path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the GUI and background threads, serialized by a lock;
        # sqlite calls are short, long work (audio, models) never happens under the lock.
        self._conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
        self._schemas: set[str] = set()

    def ensure_schema(self, ddl: str) -> None:
        """Run idempotent DDL (CREATE TABLE IF NOT EXISTS ...) once per library."""
        if ddl in self._schemas:
            return
        with self._lock:
            self._conn.executescript(ddl)
        self._schemas.add(ddl)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; rolled back on any exception."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def execute(self, sql: str, params: tuple | dict = ()) -> int:
        """Run one statement in autocommit mode; returns lastrowid."""
        with self._lock:
            return self._conn.execute(sql, params).lastrowid

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def open_library(path: Path | None = None) -> Library:
    if path is None:
        from studio.core.paths import get_paths

        path = get_paths().library_db
    return Library(path)
