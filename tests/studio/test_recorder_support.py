"""Helpers shared by the loopback tests (no tests here; PulseAudio null sink: what we play, we can record)."""
from __future__ import annotations

import time

import numpy as np
from scipy import signal

from engine.audio.io import read_audio


def shortest_clip(speech_clips) -> str:
    """The shortest real speech clip (~3 s): keeps loopback tests quick."""
    import soundfile as sf

    return min((r["path"] for r in speech_clips), key=lambda p: sf.info(str(p)).duration)


def chirp_and_speech(speech_path, sr: int = 48000) -> np.ndarray:
    """0.3 s silence, 1 s log chirp 100 Hz-6 kHz, 0.3 s gap, a real speech clip, 0.3 s silence."""
    t = np.arange(sr) / sr
    chirp = (0.3 * signal.chirp(t, 100, 1.0, 6000, method="logarithmic")).astype(np.float32)
    speech = read_audio(speech_path, target_sr=sr).samples
    gap = np.zeros(int(0.3 * sr), np.float32)
    return np.concatenate([gap, chirp, gap, speech, gap]).astype(np.float32)


def align(recording: np.ndarray, reference: np.ndarray) -> tuple[int, float]:
    """(offset of `reference` inside `recording`, normalized correlation at that offset)."""
    corr = signal.correlate(recording, reference, mode="valid", method="fft")
    k = int(np.argmax(np.abs(corr)))
    seg = recording[k:k + len(reference)]
    norm = float(np.linalg.norm(seg) * np.linalg.norm(reference)) or 1.0
    return k, float(corr[k] / norm)


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


def wait_for(predicate, timeout: float, step: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def dominant_hz(x: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spec) * sr / len(x))
