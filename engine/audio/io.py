"""Load and save audio: any format libsndfile reads (WAV, FLAC, OGG, MP3, AIFF, ...), and the audio
track of media containers (M4A/AAC/ALAC, MP4/MOV/MKV/WebM, WMA, AMR) through FFmpeg (`container.py`).

Every failure a user can cause with a bad file becomes an `AudioFileError` whose message names the
file and says what is wrong; anything merely odd (NaN samples, a 1-sample clip, a 2-hour file) still
loads and comes back with plain-language `warnings`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf

from engine.audio.formats import CONTAINER_SUFFIXES, IMPORT_SUFFIXES, READABLE, file_dialog_filter  # noqa: F401

# Clips shorter than this cannot serve as a cloning reference (the models want seconds of speech).
MIN_REFERENCE_S = 1.0
# Past this, editing/analysis gets slow and memory heavy: warn, but still load.
LONG_FILE_S = 30 * 60.0
# Frames per block when reading: keeps the peak memory of a downmix near the size of the result.
_BLOCK_FRAMES = 1 << 20


class AudioFileError(Exception):
    """A file could not be read or written; the message is written for the user."""


@dataclass
class AudioInfo:
    path: Path
    sample_rate: int
    channels: int
    frames: int
    duration_s: float
    format: str
    subtype: str
    decoder: str = "sndfile"  # "ffmpeg": a media container read through PyAV (frames may be an estimate)


@dataclass
class Audio:
    """Decoded audio. `samples` is float32, [T] when mono, else [T, C]."""

    samples: np.ndarray
    sample_rate: int
    info: AudioInfo
    warnings: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return len(self.samples) / float(self.sample_rate) if self.sample_rate else 0.0


def _describe_failure(path: Path, exc: Exception) -> AudioFileError:
    name = path.name
    if not path.exists():
        return AudioFileError(f"{name} was not found ({path}).")
    if path.is_dir():
        return AudioFileError(f"{name} is a folder, not an audio file.")
    try:
        size = path.stat().st_size
    except OSError as e:
        return AudioFileError(f"{name} cannot be opened: {e.strerror or e}.")
    if size == 0:
        return AudioFileError(f"{name} is empty (0 bytes): it holds no audio.")
    if not os.access(path, os.R_OK):
        return AudioFileError(f"{name} cannot be read (permission denied).")
    detail = str(exc).split(":")[-1].strip() or type(exc).__name__
    return AudioFileError(
        f"{name} is not a readable audio file ({detail}). "
        f"Mynah reads {READABLE}; the file may be damaged or in another format."
    )


def probe(path: str | os.PathLike) -> AudioInfo:
    """Read only the header: fast even for hour-long files."""
    p = Path(path)
    try:
        i = sf.info(str(p))
    except Exception as exc:  # libsndfile raises several types (LibsndfileError, RuntimeError, OSError)
        from engine.audio.container import probe_as_audio_info

        return probe_as_audio_info(p, exc)
    if i.samplerate <= 0 or i.channels <= 0:
        raise AudioFileError(f"{p.name} has an invalid header (sample rate {i.samplerate}, {i.channels} channels).")
    frames = max(int(i.frames), 0)
    return AudioInfo(path=p, sample_rate=int(i.samplerate), channels=int(i.channels), frames=frames,
                     duration_s=frames / float(i.samplerate), format=i.format, subtype=i.subtype)


# Integer subtypes read as int16 and mixed straight into the float32 result (half the bytes moved
# of a float32 read, no intermediate stereo float copy): an hour of 16-bit stereo decodes in ~1 s.
_INT16_SUBTYPES = {"PCM_16", "PCM_S8", "PCM_U8"}


def _read_blocks(p: Path, info: AudioInfo, mono: bool, target_sr: int | None,
                 on_block: Callable[[np.ndarray, int], None] | None = None,
                 notes: list[str] | None = None) -> tuple[np.ndarray, int]:
    """Decode in blocks: ([T, C'] float32 with C' = 1 when mono, count of NaN/inf zeroed).

    A mono downmix goes straight into a preallocated array, and a rate change streams through soxr
    block by block, so a 48 kHz stereo hour read at 16 kHz never holds the 48 kHz copy.
    `on_block(out, n)` is called after each block with the whole preallocated result ([expected]
    when mono, else [expected, C]) of which the first n frames are final (progressive display).
    When a file holds more frames than its header said, the buffer grows (a new one is passed on).
    `notes` receives what a damaged container file made the decoder skip or miss.
    """
    chans = 1 if mono else info.channels
    stream = None
    expected = info.frames
    if target_sr is not None and target_sr != info.sample_rate:
        import soxr

        stream = soxr.ResampleStream(info.sample_rate, target_sr, chans, dtype="float32", quality="HQ")
        expected = int(np.ceil(info.frames * target_sr / info.sample_rate))
    out = np.empty((expected, chans), dtype=np.float32)
    n = 0
    n_bad = 0
    # Only float data can hold NaN/inf; integer PCM needs no scan.
    check_finite = info.subtype in ("FLOAT", "DOUBLE") or info.decoder == "ffmpeg"

    def put(block: np.ndarray) -> None:
        nonlocal n, out
        if n + len(block) > len(out):  # the header under-counted (some MP3/OGG, containers)
            grown = np.empty((max(n + len(block), len(out) * 5 // 4 + _BLOCK_FRAMES), chans), np.float32)
            grown[:n] = out[:n]
            out = grown
        out[n:n + len(block)] = block
        n += len(block)

    def report() -> None:
        if on_block is not None:
            on_block(out[:, 0] if chans == 1 else out, n)

    def _set_n(k: int) -> None:
        nonlocal n
        n = k
        report()

    if mono and stream is None and info.subtype in _INT16_SUBTYPES and info.decoder == "sndfile":
        _read_int16_mono(p, info, out[:, 0], report_n=_set_n)
        return out[:n], 0

    container = None
    if info.decoder == "ffmpeg":
        from engine.audio.container import ContainerBlocks

        blocks = container = ContainerBlocks(p, info.sample_rate, info.channels, _BLOCK_FRAMES)
    else:
        blocks = _sndfile_blocks(p)
    for block in blocks:  # [t, C]
        if check_finite:
            # Before mixing/resampling: one NaN would otherwise smear over its neighbours.
            bad = ~np.isfinite(block)
            if bad.any():
                n_bad += int(bad.sum())
                block[bad] = 0.0
        if mono and block.shape[1] > 1:
            block = _downmix(block)[:, None]
        if stream is not None:
            block = stream.resample_chunk(np.ascontiguousarray(block), last=False)
        if len(block):
            put(block)
            report()
    if stream is not None:
        tail = stream.resample_chunk(np.zeros((0, chans), np.float32), last=True)
        if len(tail):
            put(tail)
            report()
    if container is not None and notes is not None:
        from engine.audio.container import damage_warnings

        sr = target_sr or info.sample_rate
        notes += damage_warnings(p.name, container, n, expected, sr)
    return out[:n], n_bad


def _sndfile_blocks(p: Path):
    with sf.SoundFile(str(p)) as f:
        while True:
            block = f.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)  # [t, C]
            if len(block):
                yield block
            if len(block) < _BLOCK_FRAMES:
                return


_PARALLEL_ABOVE = 1 << 23  # frames (~3 min at 48 kHz): the second half runs on a helper thread
_PCM_BLOCK = 1 << 18  # frames per libsndfile read (fewer, larger numpy calls: ~0.1-0.3 ms each)


def can_scan_quickly(info: AudioInfo) -> bool:
    """16/8-bit PCM reads so cheaply that a peak overview pass (`scan_mono`) before the decode
    costs less than half a second per hour; compressed or float files would decode twice."""
    return info.subtype in _INT16_SUBTYPES


def scan_mono(path: str | os.PathLike, on_block: Callable[[int, np.ndarray, np.float32], None],
              on_prefix: Callable[[int], None] | None = None) -> int:
    """Stream a 16/8-bit PCM file's mono mix without keeping it, for a peak overview ahead of the
    decode: `on_block(start, sums, scale)` gets frames [start, start + len(sums)) as int32 channel
    sums in a reused buffer; `float32(sums) * scale` is bit for bit what `read_audio(mono=True)`
    returns there (and, rounding being monotonic, so are its min and max times scale). Blocks
    start at multiples of 262144 frames. Long files are read in two halves on two threads, so
    `on_block` may run on two threads at once (for disjoint ranges); `on_prefix(n)` (this thread,
    may raise to abort) says every frame before n was delivered. Returns the frames read."""
    p = Path(path)
    info = probe(p)
    if not can_scan_quickly(info):
        raise ValueError(f"{p.name}: scan_mono reads 16/8-bit PCM only ({info.subtype})")
    scale = np.float32(1.0 / (32768.0 * info.channels))

    def scan(start: int, end: int, prefix, stop=None) -> int:
        sums = np.empty(_PCM_BLOCK, np.int32)
        tmp = np.empty(_PCM_BLOCK, np.int32)
        n = start
        for first, got in _pcm16_blocks(p, info, start, end, stop):
            o = sums[:len(got)]
            _sum_int16(got, o, tmp)
            on_block(first, o, scale)
            n = first + len(got)
            if prefix is not None:
                prefix(n)
        return n - start

    try:
        return _in_halves(info.frames, scan, on_prefix or (lambda _n: None))
    except Exception as exc:
        raise _describe_failure(p, exc) from exc


def _sum_int16(got: np.ndarray, out: np.ndarray, tmp: np.ndarray) -> None:
    """int16 [t, C] -> int32 channel sums [t]. Stereo reads each frame as one int32 and splits it
    with shifts (the two halves are the channels, in either byte order; the sum does not care):
    4 contiguous passes, ~1.5x faster than numpy adding two strided int16 columns with a cast."""
    t, chans = got.shape
    if chans == 2 and got.flags.c_contiguous:
        v = got.view(np.int32).reshape(t)
        hi = tmp[:t]
        np.left_shift(v, 16, out=out)
        np.right_shift(out, 16, out=out)  # arithmetic: the low channel, sign-extended
        np.right_shift(v, 16, out=hi)  # the high channel
        out += hi
        return
    np.copyto(out, got[:, 0])
    for c in range(1, chans):
        out += got[:, c]


def _read_int16_mono(p: Path, info: AudioInfo, out: np.ndarray, report_n: Callable[[int], None]) -> None:
    """16-bit (or 8-bit) PCM straight into the mono float32 `out` [frames], in small blocks (each
    numpy step releases the GIL briefly, so a GUI thread beside it never waits long); long files
    decode their second half on a helper thread meanwhile."""

    def decode(start: int, end: int, prefix, stop=None) -> int:
        stereo = np.empty((_PCM_BLOCK, info.channels), np.float32) if info.channels > 1 else None
        n = start
        for first, got in _pcm16_blocks(p, info, start, end, stop):
            n = first + len(got)
            _mix_int16(got, out[first:n], stereo)
            if prefix is not None:
                prefix(n)
        return n - start

    _in_halves(out.size, decode, report_n)


def _in_halves(total: int, work, report_n: Callable[[int], None]) -> int:
    """`work(start, end, prefix, stop)` over [0, total): long ranges as two halves at once (a helper
    thread takes the second; libsndfile and numpy release the GIL, so they really run in
    parallel). `report_n(n)` only ever reports a valid prefix; the last call covers all read.
    A truncated file (fewer frames than its header says) reports and returns what was read."""
    if total < _PARALLEL_ABOVE:
        n = work(0, total, report_n)
        if n < total:  # the header promised more frames than the file holds (truncated file)
            report_n(n)
        return n
    import threading

    half = total // 2 // _PCM_BLOCK * _PCM_BLOCK
    stop = threading.Event()
    result: dict[str, object] = {}

    def helper() -> None:
        try:
            result["n"] = work(half, total, None, stop)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the calling thread
            result["error"] = exc

    t = threading.Thread(target=helper, name="mynah-decode-2nd-half", daemon=True)
    t.start()
    try:
        n = work(0, half, report_n)
    except BaseException:  # cancelled (report_n raised) or a read error: stop the helper too
        stop.set()
        t.join()
        raise
    t.join()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    if n == half:
        n = half + int(result.get("n", 0))
    report_n(n)
    return n


def _pcm16_blocks(p: Path, info: AudioInfo, start: int, end: int, stop=None):
    """(frame, int16 [t, C]) blocks of frames [start, end), in one reused buffer."""
    buf = np.empty((_PCM_BLOCK, info.channels), np.int16)
    n = start
    with sf.SoundFile(str(p)) as f:
        if start:
            f.seek(start)
        while n < end and not (stop is not None and stop.is_set()):
            want = min(_PCM_BLOCK, end - n)
            got = f.read(want, dtype="int16", out=buf[:want])
            if len(got) == 0:
                break
            yield n, got
            n += len(got)


def _mix_int16(got: np.ndarray, o: np.ndarray, stereo: np.ndarray | None) -> None:
    """int16 [t, C] -> the float32 channel average in `o` [t]. Sums of int16 are exact in float32
    and the one final multiply rounds monotonically, so any caller gets the same bits (the peak
    overview equals the decoded samples' peaks exactly). Casting the block contiguously first
    and adding float columns is ~2x faster than adding int16 columns with a cast."""
    t, chans = got.shape
    scale = np.float32(1.0 / (32768.0 * chans))
    if chans == 1:
        np.multiply(got[:, 0], scale, out=o, dtype=np.float32)
        return
    f = stereo[:t]
    np.copyto(f, got, casting="unsafe")
    np.add(f[:, 0], f[:, 1], out=o)
    for c in range(2, chans):
        o += f[:, c]
    o *= scale


def _downmix(block: np.ndarray) -> np.ndarray:
    """[t, C] -> [t] average; column adds are ~4x faster than mean(axis=1) on interleaved data."""
    out = block[:, 0].copy()
    for c in range(1, block.shape[1]):
        out += block[:, c]
    out *= np.float32(1.0 / block.shape[1])
    return out


def read_audio(path: str | os.PathLike, *, mono: bool = True, target_sr: int | None = None,
               on_block: Callable[[np.ndarray, int], None] | None = None) -> Audio:
    """Decode a file to float32; `mono` downmixes by averaging channels.

    `on_block(buffer, n)`: progress while decoding (see `_read_blocks`); it may raise to abort.

    Raises AudioFileError for anything unreadable (empty, truncated header, not audio, no samples).
    """
    p = Path(path)
    info = probe(p)
    target = int(target_sr) if target_sr is not None and int(target_sr) != info.sample_rate else None
    notes: list[str] = []
    try:
        data, n_bad = _read_blocks(p, info, mono, target, on_block, notes)
    except AudioFileError:
        raise
    except MemoryError as exc:
        raise AudioFileError(f"{p.name} is too large to load into memory ({info.duration_s / 60:.0f} minutes).") from exc
    except Exception as exc:
        from engine.audio.container import ContainerError

        if isinstance(exc, ContainerError):
            raise AudioFileError(f"{p.name} is not a readable audio file ({exc.reason}).") from exc
        raise _describe_failure(p, exc) from exc
    if len(data) == 0:
        raise AudioFileError(f"{p.name} contains no audio samples.")

    warnings: list[str] = list(notes)
    if n_bad:
        warnings.append(f"{p.name} had {n_bad} invalid samples (NaN or infinity); they were replaced by silence.")
    samples = data[:, 0] if data.shape[1] == 1 else data  # [T] or [T, C]
    sr = target or info.sample_rate
    warnings += length_warnings(p.name, len(data), sr)
    return Audio(samples=np.ascontiguousarray(samples, dtype=np.float32), sample_rate=sr, info=info,
                 warnings=warnings)


def length_warnings(name: str, frames: int, sample_rate: int) -> list[str]:
    """What `read_audio` says about a clip's length (known from the header before decoding)."""
    duration = frames / float(sample_rate)
    if duration < MIN_REFERENCE_S:
        length = f"{frames} samples" if duration < 0.01 else f"{duration:.2f} s"
        return [f"{name} is only {length} long: too short to use as a voice reference "
                "(5-15 s of speech works best)."]
    if duration > LONG_FILE_S:
        return [f"{name} is long ({_hms(duration)}); editing and analysis will be slower. "
                "A 5-15 s excerpt makes the best voice reference."]
    return []


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


_FORMAT_BY_SUFFIX = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".oga": "OGG", ".mp3": "MP3",
                     ".aif": "AIFF", ".aiff": "AIFF", ".w64": "W64", ".caf": "CAF"}


def write_audio(path: str | os.PathLike, samples: np.ndarray, sample_rate: int, *,
                subtype: str | None = None, format: str | None = None) -> Path:
    """Write [T] or [T, C] float audio; the format follows the suffix unless given.

    Writes to a temporary name and renames, so a failed write never leaves half a file under the
    real name (or destroys the file it was replacing).
    """
    p = Path(path)
    fmt = format or _FORMAT_BY_SUFFIX.get(p.suffix.lower())
    if fmt is None:
        raise AudioFileError(f"Cannot save {p.name}: unknown audio format '{p.suffix}'.")
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim not in (1, 2) or len(x) == 0:
        raise AudioFileError(f"Cannot save {p.name}: no audio to write.")
    if not np.all(np.isfinite(x)):
        x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    if subtype is None and fmt in ("WAV", "W64", "AIFF", "CAF"):
        subtype = "PCM_16" if fmt == "AIFF" else "FLOAT"
    tmp = p.with_name(f".{p.name}.part")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(tmp), x, int(sample_rate), subtype=subtype, format=fmt)
        os.replace(tmp, p)
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        raise AudioFileError(f"Cannot save {p.name}: {exc}") from exc
    return p
