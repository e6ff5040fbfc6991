"""Best-of-N: generate N candidate takes (any `generate(seed)` callable), score each, rank them by
a weighted score the user can tune, keep all of them (runners-up stay playable).

Each metric is mapped to [0, 1] (higher better) before weighting:
- intelligibility = 1 - WER, clipped to [0, 1]
- similarity      = (cosine - 0.5) / 0.5, clipped (GE2E: other speakers sit ~0.5-0.75, same ~0.85+)
- naturalness     = (DNSMOS OVRL - 1) / 3, clipped (OVRL of clean speech is ~3-3.5)
- qc              = 1 - 0.25 per QC issue (clipping, long silent tail, odd speaking rate...)
A metric no candidate could be scored on (no text given, no reference) is left out and the other
weights renormalized; a candidate that alone fails a metric gets 0 for it, so a silent or broken
take loses instead of winning by default.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from engine.eval.scorer import Scorer, TakeScores

GenerateFn = Callable[[int], "np.ndarray | tuple[np.ndarray, int]"]


@dataclass(frozen=True)
class RankWeights:
    intelligibility: float = 0.45
    similarity: float = 0.30
    naturalness: float = 0.15
    qc: float = 0.10

    def as_dict(self) -> dict[str, float]:
        return {"intelligibility": self.intelligibility, "similarity": self.similarity,
                "naturalness": self.naturalness, "qc": self.qc}


@dataclass
class Candidate:
    seed: int
    audio: np.ndarray | None  # float32 mono; None when generation failed
    sample_rate: int
    scores: TakeScores | None = None
    components: dict[str, float | None] = field(default_factory=dict)  # metric -> [0, 1] or None
    combined: float = float("-inf")
    error: str | None = None  # generation failed: why


@dataclass
class BestOfN:
    ranking: list[Candidate]  # best first; failed candidates last
    weights: RankWeights

    @property
    def best(self) -> Candidate | None:
        ok = [c for c in self.ranking if c.error is None]
        return ok[0] if ok else None

    @property
    def runners_up(self) -> list[Candidate]:
        best = self.best
        return [c for c in self.ranking if c is not best]


def metric_components(s: TakeScores) -> dict[str, float | None]:
    """Each metric on [0, 1], None where it was not scorable."""
    out: dict[str, float | None] = {"intelligibility": None, "similarity": None, "naturalness": None}
    if s.wer is not None:
        out["intelligibility"] = float(np.clip(1.0 - s.wer.wer, 0.0, 1.0))
    if s.similarity is not None:
        out["similarity"] = float(np.clip((s.similarity - 0.5) / 0.5, 0.0, 1.0))
    if s.dnsmos is not None:
        out["naturalness"] = float(np.clip((s.dnsmos.ovr - 1.0) / 3.0, 0.0, 1.0))
    out["qc"] = float(max(0.0, 1.0 - 0.25 * len(s.qc.issues)))
    return out


def rank(candidates: list[Candidate], weights: RankWeights = RankWeights()) -> BestOfN:
    """Fill `components`/`combined` from each candidate's scores and sort best first."""
    scored = [c for c in candidates if c.scores is not None and c.error is None]
    for c in scored:
        c.components = metric_components(c.scores)
    w = weights.as_dict()
    # Metrics nobody could be scored on carry no information: drop them from the weighting.
    active = {m: wt for m, wt in w.items() if wt > 0 and any(c.components.get(m) is not None for c in scored)}
    total = sum(active.values())
    for c in scored:
        if total <= 0:
            c.combined = 0.0
            continue
        c.combined = sum(wt * (c.components.get(m) or 0.0) for m, wt in active.items()) / total
    ordered = sorted(scored, key=lambda c: c.combined, reverse=True)
    failed = [c for c in candidates if c not in scored]
    return BestOfN(ordered + failed, weights)


def best_of_n(generate: GenerateFn, n: int, *, scorer: Scorer, sample_rate: int | None = None,
              text: str | None = None, reference: np.ndarray | None = None, reference_sr: int | None = None,
              seeds: Sequence[int] | None = None, weights: RankWeights = RankWeights(),
              should_stop: Callable[[], bool] | None = None,
              on_candidate: Callable[[int, int, Candidate], None] | None = None) -> BestOfN:
    """Generate `n` candidates with seeds `seeds` (default 0..n-1), score and rank them.

    `generate(seed)` returns audio (then `sample_rate` is required) or `(audio, sample_rate)`.
    A generator that raises produces a failed candidate with the error, not an aborted run.
    `should_stop()` is checked between candidates (cooperative cancel): what was made is ranked.
    """
    if n < 1:
        raise ValueError("best-of-N needs at least one candidate")
    seeds = list(seeds) if seeds is not None else list(range(n))
    if len(seeds) != n:
        raise ValueError(f"got {len(seeds)} seeds for {n} candidates")
    candidates: list[Candidate] = []
    for i, seed in enumerate(seeds):
        if should_stop is not None and should_stop():
            break
        try:
            out = generate(seed)
            audio, sr = out if isinstance(out, tuple) else (out, sample_rate)
            if sr is None:
                raise ValueError("generate() returned bare audio and no sample_rate was given")
            audio = np.asarray(audio, dtype=np.float32).reshape(-1).copy()
            cand = Candidate(seed, audio, int(sr))
            cand.scores = scorer.score(audio, int(sr), text=text, reference=reference, reference_sr=reference_sr)
        except Exception as exc:  # noqa: BLE001 - one bad candidate must not lose the others
            cand = Candidate(seed, None, int(sample_rate or 0), error=f"{type(exc).__name__}: {exc}")
        candidates.append(cand)
        if on_candidate is not None:
            on_candidate(i, n, cand)
    return rank(candidates, weights)
