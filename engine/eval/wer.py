"""Word and character error rates (jiwer) after `normalize_text`, plus the aligned word diff the
GUI shows so a user sees exactly which words a take dropped, repeated or got wrong."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal

import jiwer

from engine.eval.text_norm import merge_compounds, normalize_text

OpKind = Literal["equal", "substitute", "delete", "insert"]


@dataclass(frozen=True)
class DiffOp:
    """One span of the alignment. Indices are into `WerResult.ref_words` / `hyp_words`.

    kind "delete": the take dropped `ref` words; "insert": the take added `hyp` words (`repeated`
    when they repeat the words just before or after, the usual token-LM stutter);
    "substitute": `ref` words came out as `hyp` words.
    """

    kind: OpKind
    ref_start: int
    ref_end: int
    hyp_start: int
    hyp_end: int
    ref: tuple[str, ...]
    hyp: tuple[str, ...]
    repeated: bool = False


@dataclass
class WerResult:
    wer: float  # (S + D + I) / N, may exceed 1.0 for runaway takes
    cer: float
    reference: str  # normalized text
    hypothesis: str  # normalized text
    ref_words: list[str]
    hyp_words: list[str]
    hits: int
    substitutions: int
    deletions: int
    insertions: int
    ops: list[DiffOp] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def n_ref_words(self) -> int:
        return len(self.ref_words)

    @property
    def dropped_words(self) -> list[str]:
        return [w for op in self.ops if op.kind == "delete" for w in op.ref]

    @property
    def repeated_words(self) -> list[str]:
        return [w for op in self.ops if op.kind == "insert" and op.repeated for w in op.hyp]

    def to_dict(self) -> dict:
        return {
            "wer": self.wer, "cer": self.cer, "reference": self.reference, "hypothesis": self.hypothesis,
            "hits": self.hits, "substitutions": self.substitutions, "deletions": self.deletions,
            "insertions": self.insertions,
        }


class EmptyReferenceError(ValueError):
    """The reference text has no words after normalization, so WER is undefined."""


def compute_wer(reference: str, hypothesis: str) -> WerResult:
    """WER/CER of `hypothesis` against `reference` (raw texts; both are normalized here).

    Raises EmptyReferenceError when the reference has no words (an empty hypothesis is fine: WER 1).
    """
    ref_words, hyp_words = normalize_text(reference).split(), normalize_text(hypothesis).split()
    if not ref_words:
        raise EmptyReferenceError("the text to compare against is empty")
    ref_words, hyp_words = merge_compounds(ref_words, hyp_words)
    ref, hyp = " ".join(ref_words), " ".join(hyp_words)
    if not hyp_words:
        ops = [DiffOp("delete", 0, len(ref_words), 0, 0, tuple(ref_words), ())]
        return WerResult(1.0, 1.0, ref, hyp, ref_words, hyp_words, 0, 0, len(ref_words), 0, ops)
    out = jiwer.process_words(ref, hyp)
    ops = [_to_op(chunk, ref_words, hyp_words) for chunk in out.alignments[0]]
    cer = float(jiwer.cer(ref, hyp))
    return WerResult(float(out.wer), cer, ref, hyp, ref_words, hyp_words, out.hits, out.substitutions,
                     out.deletions, out.insertions, ops)


def _to_op(chunk, ref_words: list[str], hyp_words: list[str]) -> DiffOp:
    r = tuple(ref_words[chunk.ref_start_idx:chunk.ref_end_idx])
    h = tuple(hyp_words[chunk.hyp_start_idx:chunk.hyp_end_idx])
    repeated = False
    if chunk.type == "insert":
        n = len(h)
        before = tuple(hyp_words[max(0, chunk.hyp_start_idx - n):chunk.hyp_start_idx])
        after = tuple(hyp_words[chunk.hyp_end_idx:chunk.hyp_end_idx + n])
        repeated = h == before or h == after
    return DiffOp(chunk.type, chunk.ref_start_idx, chunk.ref_end_idx, chunk.hyp_start_idx,
                  chunk.hyp_end_idx, r, h, repeated)


def corpus_wer(results: Iterable[WerResult]) -> float:
    """Pooled WER over many utterances: total errors / total reference words (not a mean of
    per-clip WERs, which would over-weight short clips)."""
    results = list(results)
    words = sum(r.n_ref_words for r in results)
    return sum(r.errors for r in results) / words if words else float("nan")


def format_diff(result: WerResult) -> str:
    """Plain-text diff for logs and the CLI: [-dropped-] {+inserted+} [old->new]."""
    parts = []
    for op in result.ops:
        if op.kind == "equal":
            parts.append(" ".join(op.ref))
        elif op.kind == "delete":
            parts.append("[-" + " ".join(op.ref) + "-]")
        elif op.kind == "insert":
            parts.append("{+" + " ".join(op.hyp) + "+}" + ("(repeat)" if op.repeated else ""))
        else:
            parts.append("[" + " ".join(op.ref) + "->" + " ".join(op.hyp) + "]")
    return " ".join(parts)
