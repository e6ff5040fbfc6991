"""Cheap signal checks for a take or a dataset recording: clipping, peak, loudness, silence,
speaking rate. No model, a few milliseconds; defined for any input (silence, 0.1 s, noise)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from engine.eval.common import as_mono_float32

CLIP_LEVEL = 0.999  # |x| at or above this counts as a clipped sample
SILENCE_DBFS = -45.0  # 30 ms windows quieter than this (relative to full scale) count as silence
# Comfortable read speech is ~130-200 words per minute; outside 80-260 usually means a runaway or
# truncated take (or the wrong text).
RATE_RANGE_WPM = (80.0, 260.0)


@dataclass
class QcReport:
    duration_s: float
    peak_dbfs: float  # -inf for digital silence
    rms_dbfs: float
    lufs: float | None  # integrated loudness (BS.1770); None when too short or silent
    clipped_samples: int
    clipped_fraction: float
    silence_ratio: float  # share of 30 ms windows below SILENCE_DBFS
    leading_silence_s: float
    trailing_silence_s: float
    words: int | None = None
    words_per_minute: float | None = None  # over the non-silent part
    issues: list[str] = field(default_factory=list)  # short sentences for the user

    @property
    def ok(self) -> bool:
        return not self.issues

    def to_dict(self) -> dict:
        return asdict(self)


def _db(v: float) -> float:
    return float(20 * np.log10(v)) if v > 0 else float("-inf")


def signal_qc(audio: np.ndarray, sr: int, *, text: str | None = None) -> QcReport:
    """Checks one clip; `text` (what should have been said) enables the speaking-rate check."""
    x = as_mono_float32(audio)
    n = len(x)
    duration = n / sr if sr > 0 else 0.0
    peak = float(np.max(np.abs(x))) if n else 0.0
    rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if n else 0.0
    clipped = int(np.count_nonzero(np.abs(x) >= CLIP_LEVEL)) if n else 0

    win = max(1, int(0.03 * sr))
    n_win = n // win
    if n_win:
        frames = x[: n_win * win].reshape(n_win, win).astype(np.float64)
        win_db = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-20)
        silent = win_db < SILENCE_DBFS
        silence_ratio = float(np.mean(silent))
        voiced = np.flatnonzero(~silent)
        lead = (voiced[0] if len(voiced) else n_win) * win / sr
        trail = ((n_win - 1 - voiced[-1]) if len(voiced) else n_win) * win / sr
        voiced_s = float(np.count_nonzero(~silent) * win / sr)
    else:
        silence_ratio, lead, trail, voiced_s = 1.0, duration, duration, 0.0

    lufs = _lufs(x, sr)
    rep = QcReport(duration, _db(peak), _db(rms), lufs, clipped, clipped / n if n else 0.0,
                   silence_ratio, float(lead), float(trail))
    if text is not None:
        from engine.eval.text_norm import normalize_text

        rep.words = len(normalize_text(text).split())
        if voiced_s > 0 and rep.words:
            rep.words_per_minute = rep.words / voiced_s * 60.0
    rep.issues = _issues(rep)
    return rep


def _lufs(x: np.ndarray, sr: int) -> float | None:
    # BS.1770 gating needs at least one 400 ms block.
    if sr <= 0 or len(x) < int(0.4 * sr) or not np.any(x):
        return None
    from engine.sci import preload

    preload()
    import pyloudnorm

    try:
        v = float(pyloudnorm.Meter(sr).integrated_loudness(x.astype(np.float64)))
    except ValueError:
        return None
    return v if np.isfinite(v) else None


def _issues(r: QcReport) -> list[str]:
    out = []
    if r.duration_s < 0.3:
        out.append(f"very short ({r.duration_s:.2f} s)")
    if r.peak_dbfs == float("-inf") or r.peak_dbfs < -50:
        out.append("silent")
    if r.clipped_samples > 0 and r.clipped_fraction > 1e-4:
        out.append(f"clipped ({r.clipped_samples} samples at full scale)")
    if r.silence_ratio > 0.6 and r.peak_dbfs > -50:
        out.append(f"mostly silence ({r.silence_ratio:.0%})")
    if r.trailing_silence_s > 2.0 and r.peak_dbfs > -50:
        out.append(f"long silent tail ({r.trailing_silence_s:.1f} s)")
    if r.words_per_minute is not None:
        lo, hi = RATE_RANGE_WPM
        if r.words_per_minute < lo:
            out.append(f"slow for the text ({r.words_per_minute:.0f} words/min)")
        elif r.words_per_minute > hi:
            out.append(f"fast for the text ({r.words_per_minute:.0f} words/min)")
    return out
