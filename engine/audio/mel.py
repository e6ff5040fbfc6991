"""Log-mel spectrogram in numpy/scipy (no torch, no librosa), chunked so an hour of audio fits.

Used for display: the caller picks `fmax` (the signal is first resampled down to 2*fmax, the
biggest saving on 48 kHz files) and optionally `max_frames` (a widget is a few thousand pixels
wide, so an hour need not produce 360k columns).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

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


def mel_db(x: np.ndarray, sr: int, *, n_mels: int = 80, hop_s: float = 0.01, win_s: float = 0.025,
           fmax: float | None = None, floor_db: float = -100.0, max_frames: int | None = None) -> MelResult:
    """Log-mel power of [T] (or [T, C], downmixed) audio."""
    a = np.asarray(x, dtype=np.float32)
    if a.ndim == 2:
        a = a.mean(axis=1, dtype=np.float32)
    fmax = float(sr) / 2 if fmax is None else min(float(fmax), float(sr) / 2)
    work_sr = int(sr)
    if 2 * fmax < 0.9 * sr:
        from engine.audio.resample import resample

        work_sr = int(np.ceil(2 * fmax))
        a = resample(a, sr, work_sr, quality="QQ")  # display only: fast quality is enough
    hop = max(1, int(round(hop_s * work_sr)))
    if max_frames and len(a) / hop > max_frames:
        hop = int(np.ceil(len(a) / max_frames))
    win = max(hop, int(round(win_s * work_sr)), 16)  # a window never shorter than the hop: no gaps
    n_fft = 1 << int(np.ceil(np.log2(win)))
    n_frames = max(1, 1 + len(a) // hop)
    # Centre frames on hop multiples: pad half a window each side (zeros, so silence stays silent).
    padded = np.zeros(n_frames * hop + win, dtype=np.float32)
    padded[win // 2: win // 2 + len(a)] = a
    window = np.hanning(win + 2)[1:-1].astype(np.float32)
    fb = mel_filterbank(work_sr, n_fft, n_mels, 0.0, fmax)
    out = np.empty((n_mels, n_frames), dtype=np.float32)
    stride = padded.strides[0]
    for f0 in range(0, n_frames, _CHUNK_FRAMES):
        nf = min(_CHUNK_FRAMES, n_frames - f0)
        frames = np.lib.stride_tricks.as_strided(padded[f0 * hop:], shape=(nf, win),
                                                 strides=(hop * stride, stride))  # [nf, win] view
        spec = sfft.rfft(frames * window, n=n_fft, axis=1)          # [nf, n_fft//2+1] complex64
        power = spec.real * spec.real + spec.imag * spec.imag       # [nf, bins] float32
        mel = fb @ power.T                                          # [n_mels, nf]
        np.maximum(mel, 1e-12, out=mel)
        out[:, f0:f0 + nf] = 10.0 * np.log10(mel)
    np.maximum(out, floor_db, out=out)
    return MelResult(db=out, hop_s=hop / work_sr, fmax=fmax, sample_rate=work_sr)
