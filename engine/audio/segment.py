"""A long recording of one speaker -> dataset-sized segments cut in pauses.

Steps: silero VAD finds speech; every gap between speech regions is a candidate cut, scored by how
long and how deep (quiet) it is; dynamic programming picks the cuts that keep every segment within
[min_s, max_s] while maximizing the total score of the pauses cut, minus a fixed cost per cut so that
shallow breaths inside a sentence are only cut when a segment would otherwise be too long.
Cutting always happens inside a pause the VAD found, so no cut splits a word.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from engine.audio.vad import SpeechSegment, speech_segments

FRAME_S = 0.01
# Depths (dB below the recording's speech level) at which a pause's quiet run is measured; summing
# the run lengths rewards pauses that are both long and deep: sentence ends over commas and breaths.
DEPTHS_DB = (30.0, 40.0, 50.0, 60.0)


@dataclass(frozen=True)
class SegmentOptions:
    min_s: float = 1.0
    max_s: float = 12.0
    pad_s: float = 0.15  # silence kept on each side of the speech (never past the cut)
    vad_threshold: float = 0.5
    min_silence_s: float = 0.08  # shorter dips in the VAD are not pauses
    cut_cost: float = 0.3  # seconds of deep quiet a pause must beat to be cut when no length limit forces it (a typical sentence break)


@dataclass(frozen=True)
class Pause:
    """A gap between two speech regions; `cut_s` is the middle of its quietest run."""
    start_s: float  # end of the speech before
    end_s: float  # start of the speech after
    cut_s: float
    score: float


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    text: str = ""

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def frame_db(x: np.ndarray, sr: int) -> np.ndarray:
    """RMS level per 10 ms frame in dBFS: [frames]. Frame k starts at round(k * sr * FRAME_S), so
    frame times stay exact at any rate (a whole-sample hop would drift at 22.05 kHz)."""
    n = int(len(x) / (sr * FRAME_S))
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    edges = np.round(np.arange(n + 1) * sr * FRAME_S).astype(np.int64)  # [frames + 1]
    sq = np.asarray(x[: edges[-1]], dtype=np.float64) ** 2
    energy = np.add.reduceat(sq, edges[:-1]) / np.diff(edges)  # [frames]
    return (10 * np.log10(energy + 1e-12)).astype(np.float32)


def _longest_run(mask: np.ndarray) -> tuple[int, int]:
    """(start, length) of the longest True run."""
    best, best_start, run = 0, 0, 0
    for i, m in enumerate(mask):
        run = run + 1 if m else 0
        if run > best:
            best, best_start = run, i - run + 1
    return best_start, best


def find_pauses(db: np.ndarray, speech: Sequence[SpeechSegment]) -> list[Pause]:
    """Score each gap between consecutive speech regions (db: frame levels from `frame_db`)."""
    if len(db) == 0:
        return []
    ref = float(np.percentile(db, 95))  # speech level of this recording
    pauses = []
    for a, b in zip(speech[:-1], speech[1:]):
        # Look slightly beyond the VAD edges: its hangover ends speech late and starts it early.
        lo = max(0, int((a.end_s - 0.1) / FRAME_S))
        hi = min(len(db), int(np.ceil((b.start_s + 0.1) / FRAME_S)))
        if hi <= lo:
            cut = (a.end_s + b.start_s) / 2
            pauses.append(Pause(a.end_s, b.start_s, cut, 0.0))
            continue
        seg = db[lo:hi]
        score, cut_frame = 0.0, lo + int(np.argmin(seg))
        for depth in DEPTHS_DB:
            start, length = _longest_run(seg < ref - depth)
            score += length * FRAME_S
            if length:
                cut_frame = lo + start + length // 2  # deepest level with a run wins
        cut = float(np.clip((cut_frame + 0.5) * FRAME_S, a.end_s - 0.1, b.start_s + 0.1))
        pauses.append(Pause(a.end_s, b.start_s, cut, score / len(DEPTHS_DB)))
    return pauses


def split_long_regions(db: np.ndarray, speech: list[SpeechSegment], max_len: float) -> list[SpeechSegment]:
    """Split any speech region longer than `max_len` at its quietest frame (a forced cut)."""
    out: list[SpeechSegment] = []
    todo = list(speech)
    while todo:
        s = todo.pop(0)
        if s.duration_s <= max_len:
            out.append(s)
            continue
        # Search the middle part so both halves shrink; a 0.2 s guard keeps both halves non-empty.
        lo = int((s.start_s + min(1.0, s.duration_s / 4)) / FRAME_S)
        hi = int((s.end_s - min(1.0, s.duration_s / 4)) / FRAME_S)
        k = lo + int(np.argmin(db[lo:hi])) if hi > lo and hi <= len(db) else (lo + hi) // 2
        t = (k + 0.5) * FRAME_S
        todo[:0] = [SpeechSegment(s.start_s, t), SpeechSegment(t, s.end_s)]
    return out


def choose_cuts(speech: Sequence[SpeechSegment], pauses: Sequence[Pause], opts: SegmentOptions) -> list[int]:
    """Indices into `pauses` to cut at (dynamic programming; see module docstring).

    Node 0 is the start of the first speech region, node k (1..m) is pause k-1, node m+1 the end.
    The length of a segment between two nodes is its speech span plus padding on both sides.
    """
    m = len(pauses)
    starts = [speech[0].start_s] + [speech[k + 1].start_s for k in range(m)]  # speech after node
    ends = [speech[k].end_s for k in range(m)] + [speech[-1].end_s]  # speech before node k+1
    reward = [p.score - opts.cut_cost for p in pauses]
    neg = -1e18
    best = [neg] * (m + 2)
    back = [-1] * (m + 2)
    best[0] = 0.0
    for j in range(1, m + 2):
        end = ends[j - 1]
        gain = reward[j - 1] if j <= m else 0.0
        for i in range(j - 1, -1, -1):
            length = end - starts[i] + 2 * opts.pad_s
            if length > opts.max_s:
                break  # earlier starts are longer still
            if best[i] == neg:
                continue
            # Too short is allowed but costly, so a recording that cannot be cut cleanly still splits.
            penalty = 0.0 if length >= opts.min_s else 100.0 + (opts.min_s - length)
            v = best[i] + gain - penalty
            if v > best[j]:
                best[j], back[j] = v, i
    cuts, j = [], m + 1
    if best[j] == neg:  # unreachable only if a region exceeded max_s; split_long_regions prevents it
        return list(range(m))
    while j > 0:
        i = back[j]
        if i > 0:
            cuts.append(i - 1)
        j = i
    return sorted(cuts)


def segments_from_cuts(speech: Sequence[SpeechSegment], pauses: Sequence[Pause], cuts: Sequence[int],
                       duration_s: float, pad_s: float) -> list[Segment]:
    bounds = [0.0] + [pauses[c].cut_s for c in cuts] + [duration_s]
    # speech region index ranges per segment: pause k lies between speech k and k+1
    first = [0] + [c + 1 for c in cuts]
    last = [c for c in cuts] + [len(speech) - 1]
    out = []
    for k in range(len(first)):
        s = max(bounds[k], speech[first[k]].start_s - pad_s)
        e = min(bounds[k + 1], speech[last[k]].end_s + pad_s)
        out.append(Segment(round(s, 3), round(e, 3)))
    return out


def segment_audio(x: np.ndarray, sr: int, opts: SegmentOptions = SegmentOptions(), *,
                  cancel: Callable[[], bool] | None = None) -> tuple[list[Segment], list[Pause]]:
    """Cut mono audio `x` [T] into segments; returns them and every pause the VAD found."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 2:
        x = x.mean(axis=1)
    duration = len(x) / float(sr)
    speech = speech_segments(x, sr, threshold=opts.vad_threshold, min_silence_s=opts.min_silence_s,
                             pad_s=0.0, cancel=cancel)
    if not speech:
        return [], []
    db = frame_db(x, sr)
    speech = split_long_regions(db, speech, opts.max_s - 2 * opts.pad_s)
    pauses = find_pauses(db, speech)
    cuts = choose_cuts(speech, pauses, opts)
    return segments_from_cuts(speech, pauses, cuts, duration, opts.pad_s), pauses


def transcribe_segments(x: np.ndarray, sr: int, segments: Sequence[Segment],
                        transcribe: Callable[[np.ndarray, int], str], *,
                        cancel: Callable[[], bool] | None = None,
                        progress: Callable[[int, int], None] | None = None) -> list[Segment]:
    """Fill each segment's text with `transcribe(audio, sr)`; stops early (keeping the rest empty)
    when `cancel()` turns true."""
    out = list(segments)
    for i, s in enumerate(segments):
        if cancel is not None and cancel():
            break
        a, b = int(s.start_s * sr), int(s.end_s * sr)
        out[i] = replace(s, text=transcribe(np.ascontiguousarray(x[a:b]), sr).strip())
        if progress is not None:
            progress(i + 1, len(segments))
    return out


# Proofreading edits: pure functions over the list, so the table can undo by keeping the old list.

def merge_with_next(segments: Sequence[Segment], i: int) -> list[Segment]:
    if not 0 <= i < len(segments) - 1:
        raise IndexError("there is no next segment to merge with")
    a, b = segments[i], segments[i + 1]
    text = " ".join(t for t in (a.text.strip(), b.text.strip()) if t)
    return list(segments[:i]) + [Segment(a.start_s, b.end_s, text)] + list(segments[i + 2:])


def split_at(segments: Sequence[Segment], i: int, at_s: float) -> list[Segment]:
    """Split segment i at `at_s` (absolute seconds); the text stays on the first half to be edited."""
    s = segments[i]
    if not s.start_s + 0.05 < at_s < s.end_s - 0.05:
        raise ValueError(f"the playhead ({at_s:.2f} s) is not inside segment {i + 1}")
    return list(segments[:i]) + [Segment(s.start_s, at_s, s.text), Segment(at_s, s.end_s, "")] + list(segments[i + 1:])


def delete(segments: Sequence[Segment], i: int) -> list[Segment]:
    return list(segments[:i]) + list(segments[i + 1:])
