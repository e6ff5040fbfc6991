"""Numpy mel spectrograms matching librosa's defaults (librosa is not a dependency).

Both pretrained evaluators were trained on librosa features: resemblyzer's GE2E encoder
(power mel, n_fft 400, hop 160, 40 Slaney mels) and DNSMOS P.808 (n_fft 321, hop 160, 120 mels,
power_to_db relative to the max). Reproducing librosa here keeps their scores meaningful.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    # Slaney scale: linear below 1 kHz, logarithmic above (librosa htk=False).
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, mels)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


@lru_cache(maxsize=8)
def mel_filterbank(sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Slaney-normalized triangular filters, [n_mels, 1 + n_fft // 2] (librosa.filters.mel)."""
    fft_freqs = np.fft.rfftfreq(n_fft, d=1.0 / sr)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2.0), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights.astype(np.float32)


def power_spectrogram(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """|STFT|^2 with a periodic Hann window, centred frames zero-padded (librosa >= 0.10),
    [1 + n_fft // 2, frames]."""
    x = np.asarray(x, dtype=np.float32)
    pad = n_fft // 2
    xp = np.pad(x, (pad, pad), mode="constant")
    n_frames = 1 + (len(xp) - n_fft) // hop
    if n_frames < 1:
        return np.zeros((1 + n_fft // 2, 0), dtype=np.float32)
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)
    idx = np.arange(n_fft)[None, :] + hop * np.arange(n_frames)[:, None]  # [frames, n_fft]
    spec = np.fft.rfft(xp[idx] * window, axis=1)  # [frames, bins]
    return (np.abs(spec) ** 2).T.astype(np.float32)


def mel_power(x: np.ndarray, sr: int, n_fft: int, hop: int, n_mels: int) -> np.ndarray:
    """Power mel spectrogram [n_mels, frames] (librosa.feature.melspectrogram defaults)."""
    return mel_filterbank(sr, n_fft, n_mels) @ power_spectrogram(x, n_fft, hop)


def power_to_db(s: np.ndarray, *, amin: float = 1e-10, top_db: float = 80.0) -> np.ndarray:
    """librosa.power_to_db(s, ref=np.max): dB relative to the loudest bin, floored top_db below it."""
    log_spec = 10.0 * np.log10(np.maximum(amin, s))
    log_spec -= 10.0 * np.log10(max(amin, float(np.max(s)) if s.size else amin))
    if s.size:
        log_spec = np.maximum(log_spec, log_spec.max() - top_db)
    return log_spec.astype(np.float32)
