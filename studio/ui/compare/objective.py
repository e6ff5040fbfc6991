"""Objective scores (engine.eval, cached in the library's ScoreStore) beside the listening results:
mean WER, speaker similarity and DNSMOS OVRL per (model, setting, voice) group, per lane, and in
the CSV export. No Qt. In blind mode the controller shows none of this (the numbers would tell the
lanes apart)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np

OBJECTIVE_COLUMNS = ("WER", "Similarity (ASV)", "DNSMOS ovr", "Scored takes")
CSV_COLUMNS = ("mean_wer", "mean_similarity", "mean_dnsmos_ovr", "n_scored")


@dataclass
class Objective:
    wer: list[float] = field(default_factory=list)
    similarity: list[float] = field(default_factory=list)
    dnsmos_ovr: list[float] = field(default_factory=list)
    n: int = 0

    def add(self, s) -> None:
        self.n += 1
        if s.wer is not None:
            self.wer.append(s.wer.wer)
        if s.similarity is not None:
            self.similarity.append(s.similarity)
        if s.dnsmos is not None:
            self.dnsmos_ovr.append(s.dnsmos.ovr)

    @staticmethod
    def _mean(xs):
        return float(np.mean(xs)) if xs else None

    def means(self) -> tuple[float | None, float | None, float | None, int]:
        return self._mean(self.wer), self._mean(self.similarity), self._mean(self.dnsmos_ovr), self.n

    def cells(self) -> tuple[str, str, str, str]:
        w, s, d, n = self.means()
        return ("–" if w is None else f"{w:.1%}", "–" if s is None else f"{s:.3f}",
                "–" if d is None else f"{d:.2f}", str(n))


def latest_scores(store, take_id: str):
    """The newest cached whole-take scores of a take (any scorer setting); None when never scored."""
    rows = store.all_for("take", take_id)
    return rows[0].scores if rows else None


def objective_by_group(takes, store, voice_name) -> dict[tuple[str, str, str], Objective]:
    """Scores of every scored take, pooled per (model, setting, voice) like the ratings are."""
    out: dict[tuple[str, str, str], Objective] = {}
    for t in takes.list():
        s = latest_scores(store, t.id)
        if s is None:
            continue
        voice = voice_name(t.recipe.voice_id) or ("" if t.recipe.voice_id is None else str(t.recipe.voice_id))
        out.setdefault((t.recipe.model_id, t.recipe.setting_label(), voice), Objective()).add(s)
    return out


def lane_text(scores) -> str:
    """A lane's own numbers for its label (never shown while blind)."""
    if scores is None:
        return ""
    o = Objective()
    o.add(scores)
    w, s, d, _ = o.cells()
    return f" · WER {w} · sim {s} · DNSMOS {d}"


def results_csv(ratings_csv: str, objective: dict[tuple[str, str, str], Objective]) -> str:
    """The ratings CSV with the objective columns joined on (model, setting, voice); groups that were
    scored but not yet rated get a row too."""
    rows = list(csv.DictReader(io.StringIO(ratings_csv)))
    cols = list(rows[0].keys()) if rows else ["model", "setting", "voice"]
    seen = set()
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(cols + list(CSV_COLUMNS))

    def extra(g):
        o = objective.get(g)
        if o is None:
            return ["", "", "", "0"]
        return ["" if v is None else f"{v:.4f}" for v in o.means()[:3]] + [str(o.n)]
    for r in rows:
        g = (r["model"], r["setting"], r["voice"])
        seen.add(g)
        w.writerow([r[c] for c in cols] + extra(g))
    for g in sorted(set(objective) - seen):
        base = {"model": g[0], "setting": g[1], "voice": g[2]}
        w.writerow([base.get(c, "") for c in cols] + extra(g))
    return out.getvalue()
