"""Log-mel spectrogram in numpy/scipy (no torch, no librosa), chunked so an hour of audio fits.

Used for display: the caller picks `fmax` (the signal is first resampled down to 2*fmax, the
biggest saving on 48 kHz files) and optionally `max_frames` (a widget is a few thousand pixels
wide, so an hour need not produce 360k columns).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.sci import preload

preload()  # engine/sci.py: scipy is imported by one thread at a time
from scipy import fft as sfft
from scipy import sparse

_CHUNK_FRAMES = 4096


@dataclass
class MelResult:
    db: np.ndarray        # [n_mels, frames] float32, in dB (power), clipped below at floor_db
    hop_s: float          # seconds between frames (may exceed the request when max_frames applies)
    fmax: float
    sample_rate: int      # rate the spectrogram was computed at

    @property
    def n_frames(self) -> int:
        return int(self.db.shape[1])


def _hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def _mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """Triangular HTK-mel filters, area-normalized: [n_mels, n_fft // 2 + 1] float32."""
    bins = np.fft.rfftfreq(n_fft, 1.0 / sr)
    pts = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    lo, mid, hi = pts[:-2, None], pts[1:-1, None], pts[2:, None]
    up = (bins[None, :] - lo) / np.maximum(mid - lo, 1e-9)
    down = (hi - bins[None, :]) / np.maximum(hi - mid, 1e-9)
    fb = np.maximum(0.0, np.minimum(up, down))
    fb *= (2.0 / np.maximum(hi - lo, 1e-9))  # equal area so wide high bands are not brighter
    return fb.astype(np.float32)


_RESAMPLE_BLOCK = 1 << 15  # input samples per soxr call (~0.4 ms: soxr holds the GIL meanwhile)


def _resample_display(a: np.ndarray, sr: int, work_sr: int) -> np.ndarray:
    """Band-limit and change rate for display with soxr "LQ": a real anti-alias filter ("QQ" folds
    a 12 kHz tone onto 4 kHz at 16 kHz) for ~1.4x the cost of "QQ". Long signals stream in small
    blocks because soxr holds the GIL for a whole call: a GUI thread beside an hour-long
    spectrogram then never waits more than a block for the interpreter."""
    import soxr

    a = np.ascontiguousarray(a, dtype=np.float32)
    if a.size <= 8 * _RESAMPLE_BLOCK:
        return np.asarray(soxr.resample(a, int(sr), int(work_sr), quality="LQ"), dtype=np.float32)
    stream = soxr.ResampleStream(int(sr), int(work_sr), 1, dtype="float32", quality="LQ")
    parts = [stream.resample_chunk(a[i:i + _RESAMPLE_BLOCK], last=i + _RESAMPLE_BLOCK >= a.size)
             for i in range(0, a.size, _RESAMPLE_BLOCK)]
    return np.concatenate(parts)


def _power_frames(frames: np.ndarray, window: np.ndarray, n_fft: int) -> np.ndarray:
    """[..., win] -> power spectrum [..., n_fft // 2 + 1] float32."""
    spec = sfft.rfft(frames * window, n=n_fft, axis=-1)      # complex64
    re_im = spec.view(np.float32)                             # [..., 2 * bins]: re, im interleaved
    re_im *= re_im
    return re_im[..., 0::2] + re_im[..., 1::2]


def mel_db(x: np.ndarray, sr: int, *, n_mels: int = 80, hop_s: float = 0.01, win_s: float = 0.025,
           fmax: float | None = None, floor_db: float = -100.0, max_frames: int | None = None) -> MelResult:
    """Log-mel power of [T] (or [T, C], downmixed) audio.

    With `max_frames`, each column covers hop = T / max_frames: its power is the mean of back-to-back
    `win_s` windows tiling the hop, so a short event anywhere in it still shows, at a cost below
    the full-resolution spectrogram's.
    """
    a = np.asarray(x, dtype=np.float32)
    if a.ndim == 2:
        from engine.audio.io import _downmix

        a = _downmix(a)
    fmax = float(sr) / 2 if fmax is None else min(float(fmax), float(sr) / 2)
    work_sr = int(sr)
    if 2 * fmax < 0.9 * sr:
        work_sr = int(np.ceil(2 * fmax))
        a = _resample_display(a, sr, work_sr)
    hop = max(1, int(round(hop_s * work_sr)))
    win = max(16, int(round(win_s * work_sr)))
    tiles = 1  # windows per column (overview mode)
    if max_frames and len(a) / hop > max_frames:
        hop = int(np.ceil(len(a) / max_frames))
        if hop > win:
            tiles = int(np.ceil(hop / win))
            win = int(np.ceil(hop / tiles))
            hop = tiles * win
    n_fft = 1 << int(np.ceil(np.log2(win)))
    n_frames = max(1, 1 + len(a) // hop)
    # Centre frames on hop multiples: pad half a window each side (zeros, so silence stays silent).
    span = win if tiles == 1 else hop
    padded = np.zeros(n_frames * hop + span, dtype=np.float32)
    padded[span // 2: span // 2 + len(a)] = a
    window = np.hanning(win + 2)[1:-1].astype(np.float32)
    fb = sparse.csr_matrix(mel_filterbank(work_sr, n_fft, n_mels, 0.0, fmax))  # ~2 bins per band row
    out = np.empty((n_mels, n_frames), dtype=np.float32)
    stride = padded.strides[0]
    chunk = max(1, _CHUNK_FRAMES // tiles)
    for f0 in range(0, n_frames, chunk):
        nf = min(chunk, n_frames - f0)
        if tiles == 1:
            frames = np.lib.stride_tricks.as_strided(padded[f0 * hop:], shape=(nf, win),
                                                     strides=(hop * stride, stride))  # [nf, win] view
            power = _power_frames(frames, window, n_fft)                             # [nf, bins]
        else:
            frames = padded[f0 * hop: (f0 + nf) * hop].reshape(nf, tiles, win)       # [nf, tiles, win]
            power = _power_frames(frames, window, n_fft).mean(axis=1)                # [nf, bins]
        mel = np.asarray(fb @ power.T, dtype=np.float32)                             # [n_mels, nf]
        np.maximum(mel, 1e-12, out=mel)
        np.log10(mel, out=mel)
        out[:, f0:f0 + nf] = mel
    out *= 10.0
    np.maximum(out, floor_db, out=out)
    return MelResult(db=out, hop_s=hop / work_sr, fmax=fmax, sample_rate=work_sr)
