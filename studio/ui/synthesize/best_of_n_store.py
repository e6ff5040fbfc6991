"""Best-of-N groups in the library (no Qt): which takes were candidates of one click, their rank and
combined score, and which one the user keeps (the best, unless they promoted a runner-up)."""
from __future__ import annotations

import uuid

from studio.core.library import Library

_DDL = """
CREATE TABLE IF NOT EXISTS best_of_n (
    take_id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL,
    place INTEGER,            -- 1 = best by the ranking; NULL until ranked
    combined REAL,            -- weighted score in [0, 1]; NULL when not scorable
    kept INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS best_of_n_group ON best_of_n(group_id);
"""


class BestOfNStore:
    def __init__(self, library: Library):
        self.library = library
        library.ensure_schema(_DDL)

    def new_group(self, take_ids: list[str]) -> str:
        group = uuid.uuid4().hex[:10]
        with self.library.transaction() as conn:
            for tid in take_ids:
                conn.execute("INSERT OR REPLACE INTO best_of_n (take_id, group_id) VALUES (?, ?)", (tid, group))
        return group

    def members(self, group: str) -> list[str]:
        return [r["take_id"] for r in self.library.query(
            "SELECT take_id FROM best_of_n WHERE group_id=? ORDER BY rowid", (group,))]

    def groups_of(self, take_ids: list[str]) -> list[str]:
        out = []
        for tid in take_ids:
            rows = self.library.query("SELECT group_id FROM best_of_n WHERE take_id=?", (tid,))
            if rows and rows[0]["group_id"] not in out:
                out.append(rows[0]["group_id"])
        return out

    def set_ranking(self, group: str, order: list[tuple[str, float | None]]) -> None:
        """`order`: (take id, combined) best first; the first becomes the kept take."""
        with self.library.transaction() as conn:
            for place, (tid, combined) in enumerate(order, 1):
                conn.execute("UPDATE best_of_n SET place=?, combined=?, kept=? WHERE take_id=?",
                             (place, combined, int(place == 1), tid))

    def promote(self, take_id: str) -> bool:
        """Make a runner-up the kept take of its group (the user's override)."""
        rows = self.library.query("SELECT group_id FROM best_of_n WHERE take_id=?", (take_id,))
        if not rows:
            return False
        with self.library.transaction() as conn:
            conn.execute("UPDATE best_of_n SET kept=(take_id=?) WHERE group_id=?", (take_id, rows[0]["group_id"]))
        return True

    def kept(self, group: str) -> str | None:
        rows = self.library.query("SELECT take_id FROM best_of_n WHERE group_id=? AND kept=1", (group,))
        return rows[0]["take_id"] if rows else None

    def role(self, take_id: str) -> tuple[bool, int, int, float | None] | None:
        """(kept, place, group size, combined) of a ranked candidate; None when not in a ranked group."""
        rows = self.library.query("SELECT group_id, place, combined, kept FROM best_of_n WHERE take_id=?", (take_id,))
        if not rows or rows[0]["place"] is None:
            return None
        n = self.library.query("SELECT COUNT(*) AS n FROM best_of_n WHERE group_id=?", (rows[0]["group_id"],))[0]["n"]
        return bool(rows[0]["kept"]), int(rows[0]["place"]), int(n), rows[0]["combined"]
