"""How far a dataset session is, by SQL aggregates and plain columns: the GUI asks after every take,
and building a Take per row (`DatasetStore.best_takes`) cost 40-190 ms for a 1132-prompt session."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetProgress:
    prompts: int
    recorded: int  # prompts with a usable best take
    minutes: float  # of best takes


def dataset_progress(store, dataset_id: int) -> DatasetProgress:
    """`store`: a DatasetStore. Counts the same takes as `store.best_takes`."""
    q = store.library.query
    n_prompts = q("SELECT COUNT(*) FROM dataset_prompts WHERE dataset_id = ?", (dataset_id,))[0][0]
    n_best, seconds = q("SELECT COUNT(*), COALESCE(SUM(duration_s), 0) FROM dataset_takes WHERE dataset_id = ? "
                        "AND is_best = 1 AND status IN ('done', 'recovered')", (dataset_id,))[0]
    return DatasetProgress(int(n_prompts), int(n_best), float(seconds) / 60.0)


def prompt_texts(store, dataset_id: int) -> tuple[list[str], list[str]]:
    """(every prompt's text, the texts of prompts with a usable best take), in script order."""
    q = store.library.query
    every = [r[0] for r in q("SELECT text FROM dataset_prompts WHERE dataset_id = ? ORDER BY ord", (dataset_id,))]
    recorded = [r[0] for r in q("SELECT p.text FROM dataset_prompts p JOIN dataset_takes t ON t.prompt_id = p.id "
                                "WHERE p.dataset_id = ? AND t.is_best = 1 AND t.status IN ('done', 'recovered') "
                                "ORDER BY p.ord", (dataset_id,))]
    return every, recorded


def stored_qc(store, dataset_id: int) -> list[tuple[int, dict]]:
    """(take id, QC dict) of every live take that has a successful QC, oldest first."""
    import json

    rows = store.library.query("SELECT id, qc FROM dataset_takes WHERE dataset_id = ? AND qc IS NOT NULL "
                               "AND status NOT IN ('discarded', 'lost') ORDER BY id", (dataset_id,))
    out = [(int(r[0]), json.loads(r[1])) for r in rows if r[1]]
    return [(i, q) for i, q in out if q and "error" not in q]
