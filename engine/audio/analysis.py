"""Readouts that help pick a good cloning reference, with plain-language notes.

Noise floor and SNR come from the spread of short-frame levels: the quietest frames (10th
percentile) are the room between words, the loud ones (95th) are speech. Crude, but it needs no
model and it ranks "phone in a café" below "quiet room" reliably.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.audio.edit import frame_db
from engine.audio.loudness import integrated_lufs

SWEET_SPOT_S = (5.0, 15.0)       # the length CSM-style cloning works best with
CLIP_LEVEL = 0.999               # |x| at or above this counts as clipped (full scale)
QUIET_LUFS = -35.0
LOUD_LUFS = -10.0
NOISY_SNR_DB = 20.0
SOME_NOISE_SNR_DB = 30.0
DC_OFFSET_LIMIT = 0.01
_FRAME_S = 0.02


@dataclass
class ClipReport:
    duration_s: float
    peak_dbfs: float
    clipped_samples: int
    lufs: float
    noise_floor_dbfs: float
    snr_db: float
    dc_offset: float
    in_sweet_spot: bool
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No note worth acting on."""
        return not self.notes


# Long clips are measured in chunks (~0.5-1 M samples): no full-length temporary (a 170 MB
# boolean mask, a 700 MB float copy to fault in) and every numpy call short. Frame levels are
# taken over whole frames per chunk, so they equal those of the whole signal.
_CHUNK_FRAMES = 512  # level frames per chunk
_CHUNK = 1 << 20     # samples per chunk for peak, clipping and DC


def _frame_levels(mono: np.ndarray, sr: int, dc: float) -> np.ndarray:
    """`frame_db` of the DC-free signal, one chunk of whole frames at a time."""
    hop = max(1, int(round(_FRAME_S * sr)))
    step = hop * _CHUNK_FRAMES
    if mono.size <= step:
        return frame_db(mono - np.float32(dc) if dc else mono, sr, _FRAME_S)
    parts = []
    for i in range(0, mono.size, step):
        # The last chunk keeps the signal's tail (frame_db counts a partial last frame).
        part = mono[i:i + step] if mono.size - i - step >= hop else mono[i:]
        parts.append(frame_db(part - np.float32(dc) if dc else part, sr, _FRAME_S))
        if part.size > step:
            break
    return np.concatenate(parts)


def analyze_clip(x: np.ndarray, sr: int) -> ClipReport:
    """Measure [T] or [T, C] audio (channels are averaged, as the models hear it)."""
    a = np.asarray(x, dtype=np.float32)
    mono = a.mean(axis=1, dtype=np.float32) if a.ndim == 2 else a
    n = len(mono)
    duration = n / float(sr) if sr else 0.0
    if n == 0:
        return ClipReport(0.0, float("-inf"), 0, float("-inf"), float("-inf"), 0.0, 0.0, False,
                          ["empty: the clip has no audio"])
    # Peak, clipping and DC in one chunked pass over the samples.
    flat = a.reshape(-1)
    step = _CHUNK
    hi, lo, clipped, total = -np.inf, np.inf, 0, 0.0
    for i in range(0, flat.size, step):
        c = flat[i:i + step]
        hi, lo = max(hi, float(c.max())), min(lo, float(c.min()))
        clipped += int(np.count_nonzero(c >= CLIP_LEVEL) + np.count_nonzero(c <= -CLIP_LEVEL))
    for i in range(0, n, step):
        total += float(mono[i:i + step].sum(dtype=np.float64))
    peak = max(hi, -lo)
    peak_dbfs = 20 * np.log10(peak) if peak > 0 else float("-inf")
    dc = total / n
    lufs = integrated_lufs(a, sr)
    # DC would otherwise read as a noise floor: subtracted (chunk by chunk) only when there is some.
    levels = _frame_levels(mono, sr, dc if abs(dc) > 1e-4 else 0.0)
    floor = float(np.percentile(levels, 10))
    speech = float(np.percentile(levels, 95))
    silent = peak_dbfs < -60.0
    snr = 0.0 if silent else max(0.0, speech - floor)
    lo, hi = SWEET_SPOT_S
    in_sweet = lo <= duration <= hi

    notes: list[str] = []
    if silent:
        notes.append("silent: nothing was recorded (check the input device and its level)")
    if duration < 1.0:
        notes.append(f"too short ({duration:.2f} s): a reference needs 5-15 s of speech")
    elif duration < lo:
        notes.append(f"short ({duration:.1f} s): 5-15 s of speech clones best")
    elif duration > hi:
        notes.append(f"long ({duration:.0f} s): trim to the best 5-15 s")
    if clipped:
        notes.append(f"clipping: {clipped} samples at full scale (record with less input gain)")
    if not silent and np.isfinite(lufs) and lufs < QUIET_LUFS:
        notes.append(f"too quiet ({lufs:.0f} LUFS): raise the input gain or normalize")
    elif np.isfinite(lufs) and lufs > LOUD_LUFS:
        notes.append(f"very loud ({lufs:.0f} LUFS): may be distorted")
    if not silent and snr < NOISY_SNR_DB:
        notes.append(f"noisy: speech is only {snr:.0f} dB above the background")
    elif not silent and snr < SOME_NOISE_SNR_DB:
        notes.append(f"some background noise (SNR {snr:.0f} dB)")
    if abs(dc) > DC_OFFSET_LIMIT:
        notes.append(f"DC offset ({dc:+.3f}): the input has a constant bias")
    return ClipReport(duration_s=duration, peak_dbfs=float(peak_dbfs), clipped_samples=clipped, lufs=lufs,
                      noise_floor_dbfs=floor, snr_db=float(snr), dc_offset=dc, in_sweet_spot=in_sweet,
                      notes=notes)
