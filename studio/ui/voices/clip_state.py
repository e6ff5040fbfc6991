"""The clip open in the Voices editor, as immutable snapshots (one per undo step).

Edits never modify `samples` in place: they produce a new ClipState, and the undo stack keeps the
old one, so undo is a pointer swap and a 60-minute file is never copied just to be undoable.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

# engine.audio pulls in scipy (seconds to import): imported inside the worker functions instead,
# so the window shows first (engine.audio.peaks is pure numpy).
from engine.audio.peaks import PeakBuilder, PeakPyramid, build_peaks
from studio.ui.widgets.decimate import MelPyramid

# Above this many mel frames, mel_db coarsens its hop so a multi-hour file stays affordable.
MAX_MEL_FRAMES = 400_000
# Spectrograms are for display: speech needs nothing above 8 kHz, and computing at 16 kHz instead
# of 48 kHz is 3x cheaper.
MEL_FMAX = 8000.0
# Clips longer than this get a quick overview spectrogram (about this many columns) before the
# 10 ms-hop detail: every window of the file is still counted, at ~1/3 of the detail's cost.
MEL_OVERVIEW_ABOVE_S = 120.0
MEL_OVERVIEW_COLUMNS = 8192
# How often a long import publishes its growing waveform.
PROGRESS_EVERY_S = 0.25  # each publish costs a waveform repaint on the GUI thread


@dataclass(frozen=True, eq=False)
class ClipState:
    samples: np.ndarray  # [T] float32 mono, never mutated
    sample_rate: int
    name: str  # shown in the editor header ("speaker1.flac")
    original: Path | None  # the user's file, kept as-is when saved; None for in-app material
    warnings: tuple[str, ...] = ()
    pyramid: PeakPyramid | None = field(default=None, repr=False)

    @property
    def duration_s(self) -> float:
        return self.samples.size / float(self.sample_rate)

    def with_samples(self, samples: np.ndarray) -> "ClipState":
        """Worker thread (edits): the new samples and their peak pyramid."""
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        return replace(self, samples=samples, pyramid=build_peaks(samples))


@dataclass(frozen=True)
class LoadProgress:
    """What a long import has read so far: draw `peaks` over a `duration_s` axis. Once
    `peaks.complete`, the whole file's waveform is known (the samples may still be decoding)."""

    peaks: PeakPyramid | None  # None: only the header is read so far
    sample_rate: int
    duration_s: float
    warnings: tuple[str, ...] = ()  # known from the header (a very long file)
    # With the header only: set by the GUI once it has laid out the new file (see load_clip).
    gui_ready: threading.Event | None = None


# Files at least this long (frames) whose format reads cheaply get a peak overview pass first.
OVERVIEW_FIRST_ABOVE = 1 << 22  # ~90 s at 48 kHz: shorter files decode in well under a second
# How long a long import waits for the GUI to lay out the new file before reading it (seconds).
GUI_READY_TIMEOUT_S = 0.25


def load_clip(path: Path, *, report=None) -> ClipState:
    """Worker-thread import: decode to mono float32 and build the peak pyramid;
    `report(LoadProgress)` at most every PROGRESS_EVERY_S so the envelope grows on screen.

    A long 16/8-bit PCM file is read twice: first a scan that builds the whole pyramid without
    keeping any samples (the whole waveform is on screen after about half the decode's cost:
    no 700 MB array to fault in, nothing to convert twice), then the decode into the samples the
    editor, player and mel need. Both passes mix channels with the same arithmetic, so the
    overview is exactly the pyramid of the decoded samples. Other formats decode once, building
    the pyramid in the same streaming pass."""
    from engine.audio.io import can_scan_quickly, length_warnings, probe, read_audio, scan_mono

    info = probe(path)  # AudioFileError in the user's words for a bad file
    sr = info.sample_rate
    duration = info.frames / float(sr)
    early = tuple(length_warnings(Path(path).name, info.frames, sr))
    if report is not None and info.frames >= OVERVIEW_FIRST_ABOVE:
        # Name, warnings and the new time axis first, each its own GUI event (together with the
        # first picture they made the longest GUI stall of an import), painted before the two
        # reading threads take both cores and contend for the GIL: that doubled those paints.
        ready = threading.Event()
        report(LoadProgress(None, sr, duration, early, ready))
        ready.wait(GUI_READY_TIMEOUT_S)
    last = time.monotonic()

    def publish(peaks: PeakPyramid, force: bool = False) -> None:
        nonlocal last
        now = time.monotonic()
        if report is not None and (force or now - last >= PROGRESS_EVERY_S):
            last = now
            report(LoadProgress(peaks, sr, duration, early))

    overview: PeakBuilder | None = None
    if can_scan_quickly(info) and info.frames >= OVERVIEW_FIRST_ABOVE:
        overview = PeakBuilder(length=info.frames)

        def scanned(n: int) -> None:
            overview.advance_base(n)
            publish(overview.snapshot(), force=n == info.frames)

        if scan_mono(path, overview.add_base, scanned) != info.frames:
            overview = None  # a truncated file: the decode below finds its real length
    builder: PeakBuilder | None = None

    def on_block(buf: np.ndarray, n: int) -> None:
        nonlocal builder
        if buf.ndim != 1:
            return
        if overview is not None and buf.size == overview.length:
            publish(overview.snapshot(buf, n))  # the picture is whole already: only zoom depth grows
            return
        if builder is None or builder.samples.ctypes.data != buf.ctypes.data:  # a fresh view per call
            builder = PeakBuilder(buf)
        builder.advance(n)
        publish(builder.snapshot())

    audio = read_audio(path, mono=True, on_block=on_block)
    samples = np.ascontiguousarray(audio.samples, dtype=np.float32)
    if overview is not None and overview.length == samples.size:
        peaks = overview.snapshot(samples, samples.size)
    elif (builder is not None and builder.samples.size == samples.size
            and builder.samples.ctypes.data == samples.ctypes.data):
        builder.advance(samples.size)
        peaks = builder.snapshot()
    else:  # the header under-counted frames (some MP3/OGG), or a truncated file: one more pass
        peaks = build_peaks(samples)
    return ClipState(samples, int(audio.sample_rate), Path(path).name, Path(path),
                     tuple(audio.warnings), peaks)


# Files longer than this get a quick sparse preview while the full decode runs.
@dataclass
class MelImage:
    pyramid: MelPyramid
    hop_s: float
    detail: bool = True  # False: a coarse overview; the 10 ms-hop detail follows


def compute_mel(samples: np.ndarray, sr: int) -> MelImage:
    """Worker thread: the display spectrogram (80 mels up to 8 kHz, 10 ms hop)."""
    from engine.audio.mel import mel_db

    m = mel_db(samples, sr, n_mels=80, fmax=MEL_FMAX, max_frames=MAX_MEL_FRAMES)
    return MelImage(MelPyramid.build(m.db), m.hop_s)


def compute_mel_progressive(samples: np.ndarray, sr: int, *, report=None) -> MelImage:
    """Worker thread: for a long clip, `report(overview MelImage)` first (the whole file at about
    MEL_OVERVIEW_COLUMNS columns, each the mean power of every window in its span), then the
    detail. The signal is brought to 16 kHz once for both."""
    from engine.audio.mel import _resample_display, mel_db

    if samples.size / float(sr) <= MEL_OVERVIEW_ABOVE_S or report is None:
        return compute_mel(samples, sr)
    work_sr = int(2 * MEL_FMAX)
    x = _resample_display(np.asarray(samples, np.float32), sr, work_sr) if sr > work_sr else samples
    rate = work_sr if sr > work_sr else sr
    ov = mel_db(x, rate, n_mels=80, fmax=MEL_FMAX, max_frames=MEL_OVERVIEW_COLUMNS)
    report(MelImage(MelPyramid.build(ov.db), ov.hop_s, detail=False))
    m = mel_db(x, rate, n_mels=80, fmax=MEL_FMAX, max_frames=MAX_MEL_FRAMES)
    return MelImage(MelPyramid.build(m.db), m.hop_s)


def compute_report(samples: np.ndarray, sr: int):
    from engine.audio.analysis import analyze_clip

    return analyze_clip(samples, sr)
