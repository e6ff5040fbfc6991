"""Generator of the awkward/broken audio-file corpus, shared by the audio and UI import tests.

`make_corpus(dir)` writes every case and returns `AudioCase`s saying what a user should see:
either a clear `AudioFileError` (error_contains) or a file that loads, perhaps with a warning.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.container_audio import CONTAINER_CASE_NAMES, make_container_cases


@dataclass
class AudioCase:
    name: str
    path: Path
    loads: bool
    error_contains: str | None = None      # lower-case fragment of the AudioFileError message
    warning_contains: str | None = None    # lower-case fragment of one Audio.warnings entry
    sample_rate: int | None = None
    channels: int | None = None
    duration_s: float | None = None       # None: not known in advance (a file cut short)
    duration_tol: float = 1e-3            # lossy codecs pad or trim a few ms


# Every case make_corpus writes, by name (for pytest parametrization without writing files).
CASE_NAMES = ["empty file", "truncated header", "text renamed .wav", "truncated data", "NaN/inf samples",
              "1-sample file", "8 channels at 96 kHz", "FLAC 44100 Hz", "OGG 22050 Hz", "MP3 44100 Hz",
              "AIFF 11025 Hz PCM_16", "WAV 8000 Hz PCM_U8", "WAV 48000 Hz PCM_24", "2-hour file",
              *CONTAINER_CASE_NAMES]


def tone(sr: int, seconds: float, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(sr * seconds))) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def make_corpus(d: Path, *, include_long: bool = True) -> list[AudioCase]:
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)
    cases: list[AudioCase] = []

    p = d / "empty.wav"
    p.write_bytes(b"")
    cases.append(AudioCase("empty file", p, False, error_contains="empty"))

    good = d / "_good.wav"
    sf.write(good, tone(16000, 1.0), 16000, subtype="PCM_16")
    raw = good.read_bytes()
    p = d / "truncated_header.wav"
    p.write_bytes(raw[:20])  # RIFF header cut inside the fmt chunk
    cases.append(AudioCase("truncated header", p, False, error_contains="not a readable audio file"))

    p = d / "notes.wav"
    p.write_text("These are my meeting notes, not audio.\n" * 20, encoding="utf-8")
    cases.append(AudioCase("text renamed .wav", p, False, error_contains="not a readable audio file"))

    p = d / "truncated_data.wav"
    p.write_bytes(raw[: 44 + 2 * 8000])  # header promises 1 s, only 0.5 s of data follows
    cases.append(AudioCase("truncated data", p, True, sample_rate=16000, channels=1, duration_s=0.5,
                           warning_contains="too short"))
    good.unlink()

    x = tone(24000, 6.0)
    x[100:110] = np.nan
    x[2000] = np.inf
    x[3000] = -np.inf
    p = d / "nan_inf.wav"
    sf.write(p, x, 24000, subtype="FLOAT")
    cases.append(AudioCase("NaN/inf samples", p, True, warning_contains="invalid samples",
                           sample_rate=24000, channels=1, duration_s=6.0))

    p = d / "one_sample.wav"
    sf.write(p, np.array([0.25], dtype=np.float32), 44100, subtype="PCM_16")
    cases.append(AudioCase("1-sample file", p, True, warning_contains="too short", sample_rate=44100,
                           channels=1, duration_s=1 / 44100))

    p = d / "eight_ch_96k.wav"
    multi = np.stack([tone(96000, 2.0, 200.0 * (c + 1), 0.1) for c in range(8)], axis=1)
    sf.write(p, multi, 96000, subtype="PCM_24")
    cases.append(AudioCase("8 channels at 96 kHz", p, True, sample_rate=96000, channels=8, duration_s=2.0))

    for fname, sr, kw in [("speech.flac", 44100, {}), ("speech.ogg", 22050, {}),
                          ("speech.mp3", 44100, {}), ("speech.aiff", 11025, {"subtype": "PCM_16"}),
                          ("speech_u8.wav", 8000, {"subtype": "PCM_U8"}),
                          ("speech_24bit_stereo.wav", 48000, {"subtype": "PCM_24"})]:
        p = d / fname
        sig = tone(sr, 6.0, 330.0)
        ch = 2 if "stereo" in fname else 1
        sf.write(p, np.stack([sig, sig * 0.5], 1) if ch == 2 else sig, sr, **kw)
        cases.append(AudioCase(f"{p.suffix[1:].upper()} {sr} Hz {kw.get('subtype', '')}".strip(), p, True,
                               sample_rate=sr, channels=ch, duration_s=6.0))

    if include_long:
        # 2 hours of 8 kHz silence-with-blips: FLAC squeezes it to a few hundred KB on disk.
        sr = 8000
        p = d / "two_hours.flac"
        with sf.SoundFile(p, "w", sr, 1, subtype="PCM_16", format="FLAC") as f:
            block = np.zeros(sr * 60, dtype=np.float32)
            block[:800] = tone(sr, 0.1)
            for _ in range(120):
                f.write(block)
        cases.append(AudioCase("2-hour file", p, True, warning_contains="long", sample_rate=sr, channels=1,
                               duration_s=7200.0))
    cases += make_container_cases(d, AudioCase, tone)
    return cases
