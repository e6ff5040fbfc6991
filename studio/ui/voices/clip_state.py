"""The clip open in the Voices editor, as immutable snapshots (one per undo step).

Edits never modify `samples` in place: they produce a new ClipState, and the undo stack keeps the
old one, so undo is a pointer swap and a 60-minute file is never copied just to be undoable.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

# engine.audio pulls in scipy (seconds to import): imported inside the worker functions instead,
# so the window shows first.
from studio.ui.widgets.decimate import MelPyramid, MinMaxPyramid

# Above this many mel frames, mel_db coarsens its hop so a multi-hour file stays affordable.
MAX_MEL_FRAMES = 400_000


@dataclass(frozen=True, eq=False)
class ClipState:
    samples: np.ndarray  # [T] float32 mono, never mutated
    sample_rate: int
    name: str  # shown in the editor header ("speaker1.flac")
    original: Path | None  # the user's file, kept as-is when saved; None for in-app material
    warnings: tuple[str, ...] = ()
    pyramid: MinMaxPyramid | None = field(default=None, repr=False)

    @property
    def duration_s(self) -> float:
        return self.samples.size / float(self.sample_rate)

    def with_samples(self, samples: np.ndarray) -> "ClipState":
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        return replace(self, samples=samples, pyramid=MinMaxPyramid.build(samples))


def load_clip(path: Path, *, report=None) -> ClipState:
    """Worker-thread import: decode to mono float32 and build the drawing pyramid."""
    from engine.audio.io import read_audio

    audio = read_audio(path, mono=True)
    samples = np.ascontiguousarray(audio.samples, dtype=np.float32)
    return ClipState(samples, int(audio.sample_rate), Path(path).name, Path(path),
                     tuple(audio.warnings), MinMaxPyramid.build(samples))


@dataclass
class MelImage:
    pyramid: MelPyramid
    hop_s: float


def compute_mel(samples: np.ndarray, sr: int) -> MelImage:
    from engine.audio.mel import mel_db

    m = mel_db(samples, sr, n_mels=80, max_frames=MAX_MEL_FRAMES)
    return MelImage(MelPyramid.build(m.db), m.hop_s)


def compute_report(samples: np.ndarray, sr: int):
    from engine.audio.analysis import analyze_clip

    return analyze_clip(samples, sr)
