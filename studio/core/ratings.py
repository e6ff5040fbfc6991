"""Listening-test ratings (MOS, CMOS, ABX) and the results table built from them.

Each rated item is a `RatedItem`: a take or a real recording, with the group it belongs to
(model, setting, voice) copied in at rating time, so results stay right after a take is deleted.

Conventions:
- MOS: 1..5, kind "naturalness" or "similarity" (to the reference voice), one item.
- CMOS: -3..+3 for a pair (a, b); positive means b sounded better than a.
- ABX: x was one of a/b; `correct` says whether the listener picked it.
"""
from __future__ import annotations

import csv
import io
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from studio.core.library import Library

MOS_KINDS = ("naturalness", "similarity")

_DDL = """
CREATE TABLE IF NOT EXISTS ratings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    item_a TEXT NOT NULL,
    group_a TEXT NOT NULL,
    item_b TEXT,
    group_b TEXT,
    score REAL NOT NULL,
    listener TEXT NOT NULL,
    created REAL NOT NULL,
    session TEXT
);
CREATE INDEX IF NOT EXISTS ratings_kind ON ratings(kind);
"""


class RatingError(ValueError):
    """A rating was out of range or incomplete; the message is for the user."""


@dataclass(frozen=True)
class RatedItem:
    """What a lane plays: a take ("take:<id>") or a real recording ("recording:<path or id>")."""

    key: str
    model: str  # model id, or "reference" for a real recording
    setting: str  # e.g. "T=0.9 k=50 p=1", or "" for a recording
    voice: str  # voice id/name, or ""

    @property
    def group(self) -> tuple[str, str, str]:
        return (self.model, self.setting, self.voice)


@dataclass(frozen=True)
class Rating:
    id: int
    kind: str
    item_a: RatedItem
    item_b: RatedItem | None
    score: float
    listener: str
    created: float
    session: str | None


@dataclass
class ResultRow:
    """One line of the results table: a (model, setting, voice) group."""

    model: str
    setting: str
    voice: str
    mos_naturalness: float | None = None
    mos_naturalness_ci95: float | None = None
    mos_naturalness_n: int = 0
    mos_similarity: float | None = None
    mos_similarity_ci95: float | None = None
    mos_similarity_n: int = 0
    cmos: float | None = None  # mean preference for this group over its opponents (+ = preferred)
    cmos_ci95: float | None = None
    cmos_n: int = 0
    win_rate: float | None = None  # share of CMOS pairs this group won (ties count half)


def mean_ci95(values: list[float]) -> tuple[float | None, float | None]:
    """Mean and half-width of the 95% confidence interval (Student t); CI None below 2 samples."""
    n = len(values)
    if n == 0:
        return None, None
    m = sum(values) / n
    if n < 2:
        return m, None
    var = sum((v - m) ** 2 for v in values) / (n - 1)
    from engine.sci import preload

    preload()
    from scipy.stats import t

    return m, float(t.ppf(0.975, n - 1) * math.sqrt(var / n))


class RatingStore:
    def __init__(self, library: Library):
        self.library = library
        library.ensure_schema(_DDL)

    def add_mos(self, item: RatedItem, score: int, *, kind: str, listener: str,
                session: str | None = None) -> int:
        if kind not in MOS_KINDS:
            raise RatingError(f"MOS kind must be one of {MOS_KINDS}, not {kind!r}")
        if not (1 <= score <= 5) or int(score) != score:
            raise RatingError(f"a MOS score is a whole number from 1 to 5, not {score}")
        return self._insert(f"mos_{kind}", item, None, float(score), listener, session)

    def add_cmos(self, a: RatedItem, b: RatedItem, score: int, *, listener: str,
                 session: str | None = None) -> int:
        if not (-3 <= score <= 3) or int(score) != score:
            raise RatingError(f"a CMOS score is a whole number from -3 to +3, not {score}")
        if a.key == b.key:
            raise RatingError("CMOS compares two different lanes")
        return self._insert("cmos", a, b, float(score), listener, session)

    def add_abx(self, a: RatedItem, b: RatedItem, *, correct: bool, listener: str,
                session: str | None = None) -> int:
        return self._insert("abx", a, b, 1.0 if correct else 0.0, listener, session)

    def _insert(self, kind, a, b, score, listener, session) -> int:
        listener = (listener or "").strip()
        if not listener:
            raise RatingError("enter a listener name before rating")
        return self.library.execute(
            "INSERT INTO ratings (kind, item_a, group_a, item_b, group_b, score, listener, created,"
            " session) VALUES (?,?,?,?,?,?,?,?,?)",
            (kind, a.key, json.dumps(asdict(a)), b.key if b else None,
             json.dumps(asdict(b)) if b else None, score, listener, time.time(), session))

    def all(self) -> list[Rating]:
        out = []
        for r in self.library.query("SELECT * FROM ratings ORDER BY id"):
            a = RatedItem(**json.loads(r["group_a"]))
            b = RatedItem(**json.loads(r["group_b"])) if r["group_b"] else None
            out.append(Rating(r["id"], r["kind"], a, b, r["score"], r["listener"], r["created"], r["session"]))
        return out

    def delete(self, rating_id: int) -> None:
        self.library.execute("DELETE FROM ratings WHERE id=?", (rating_id,))

    # --- results --------------------------------------------------------------------------
    def results(self) -> list[ResultRow]:
        """The results table: one row per (model, setting, voice), sorted by group."""
        mos: dict[tuple, dict[str, list[float]]] = {}
        cmos: dict[tuple, list[float]] = {}
        for r in self.all():
            if r.kind.startswith("mos_"):
                mos.setdefault(r.item_a.group, {}).setdefault(r.kind, []).append(r.score)
            elif r.kind == "cmos" and r.item_b is not None:
                if r.item_a.group == r.item_b.group:
                    continue  # same group on both sides says nothing about the group
                # Positive score = b preferred; store each side's view of its own preference.
                cmos.setdefault(r.item_b.group, []).append(r.score)
                cmos.setdefault(r.item_a.group, []).append(-r.score)
        rows = []
        for g in sorted(set(mos) | set(cmos)):
            row = ResultRow(*g)
            m = mos.get(g, {})
            nat, sim = m.get("mos_naturalness", []), m.get("mos_similarity", [])
            row.mos_naturalness, row.mos_naturalness_ci95 = mean_ci95(nat)
            row.mos_naturalness_n = len(nat)
            row.mos_similarity, row.mos_similarity_ci95 = mean_ci95(sim)
            row.mos_similarity_n = len(sim)
            c = cmos.get(g, [])
            row.cmos, row.cmos_ci95 = mean_ci95(c)
            row.cmos_n = len(c)
            if c:
                row.win_rate = sum(1.0 if v > 0 else 0.5 if v == 0 else 0.0 for v in c) / len(c)
            rows.append(row)
        return rows

    def abx_summary(self) -> list[dict]:
        """Per pair of groups: trials, correct, and the one-sided binomial p-value of guessing."""
        pairs: dict[tuple, list[float]] = {}
        for r in self.all():
            if r.kind == "abx" and r.item_b is not None:
                key = tuple(sorted([r.item_a.group, r.item_b.group]))
                pairs.setdefault(key, []).append(r.score)
        out = []
        for (ga, gb), v in sorted(pairs.items()):
            n, k = len(v), int(sum(v))
            p = sum(math.comb(n, i) for i in range(k, n + 1)) / 2 ** n
            out.append({"a": " / ".join(x for x in ga if x), "b": " / ".join(x for x in gb if x),
                        "trials": n, "correct": k, "p_value": p})
        return out

    def results_csv(self) -> str:
        buf = io.StringIO()
        cols = list(ResultRow.__dataclass_fields__)
        w = csv.writer(buf)
        w.writerow(cols)
        for row in self.results():
            w.writerow(["" if getattr(row, c) is None else
                        (f"{getattr(row, c):.4f}" if isinstance(getattr(row, c), float) else getattr(row, c))
                        for c in cols])
        return buf.getvalue()

    def export_csv(self, path: Path) -> Path:
        path = Path(path)
        path.write_text(self.results_csv(), encoding="utf-8", newline="")
        return path
