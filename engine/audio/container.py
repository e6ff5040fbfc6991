"""Audio tracks of media containers, decoded by FFmpeg through PyAV: phone voice memos (.m4a with
AAC or ALAC), screen and camera recordings (.mp4, .mov, .mkv), browser recordings (.webm: Opus or
Vorbis), Windows Media (.wma), AMR voice notes (.amr, .3gp).

`engine.audio.io` asks libsndfile first (WAV/FLAC/OGG/MP3/AIFF stay on its faster path) and comes
here for what it cannot read. The decode streams: packets are decoded one by one and handed on in
blocks, so `read_audio`'s downmix, resampling and progress callbacks work as for any other file.
A damaged packet becomes silence of its own length (the timeline stays true) and a warning; a file
cut short loads what is there and says so; a video without a sound track is refused in plain words.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import numpy as np

from engine.audio.formats import CONTAINER_SUFFIXES  # noqa: F401  (re-exported)

# FFmpeg demuxers we trust with a user's file. FFmpeg's probe will "recognize" some formats in
# random bytes (raw streams, tty text art); a file only counts as audio through one of these.
_DEMUXERS = {"mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm", "asf", "amr", "amrnb", "amrwb",
             "aac", "ogg", "mp3", "wav", "flac", "aiff", "caf", "w64"}
_NAMES = {"mov": "MP4", "matroska": "MATROSKA", "asf": "ASF", "amr": "AMR", "amrnb": "AMR",
          "amrwb": "AMR", "aac": "AAC", "ogg": "OGG", "mp3": "MP3", "wav": "WAV", "flac": "FLAC"}
# A file whose decode ends this far short of its header's length is reported as cut off.
SHORT_BY_S = 0.5


class ContainerError(Exception):
    """PyAV could not give audio; `reason` is a plain-language phrase for the user's message."""

    def __init__(self, reason: str, *, no_audio_track: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.no_audio_track = no_audio_track


def _av():
    try:
        import av
    except ImportError as exc:  # a trimmed install: say what would read the file
        raise ContainerError("reading it needs PyAV, which is not installed (pip install av)") from exc
    return av


def _reason(exc: Exception, path: Path | None = None) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    if "Invalid data found" in text:
        if path is not None and _is_iso_media(path):
            # FFmpeg writes the MP4 index (moov) last: a recording stopped by a crash or a full
            # disk has the audio but no map of it.
            return "its index is missing: the recording was probably cut off before it was finished"
        return "FFmpeg found no valid media data in it"
    return f"FFmpeg: {text}"


def _is_iso_media(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(12)[4:8] == b"ftyp"
    except OSError:
        return False


def _layout(av, chans: int, native=None):
    """The decoder's own layout where it matches the channel count, else FFmpeg's default one."""
    if native is not None and getattr(native, "nb_channels", 0) == chans:
        return native
    return av.AudioLayout({1: "mono", 2: "stereo"}.get(chans, f"{chans}c"))


def probe_container(path: Path) -> dict:
    """Header facts of the first audio track: sample_rate, channels, frames (an estimate where the
    container has no exact count; 0 when it has none at all, e.g. a browser's live .webm),
    format, subtype. Raises ContainerError."""
    av = _av()
    try:
        with av.open(str(path), "r") as c:
            demuxer = c.format.name
            if not set(demuxer.split(",")) & _DEMUXERS:
                raise ContainerError(f"it is not a media file Mynah knows ({demuxer})")
            if not c.streams.audio:
                if c.streams.video:
                    raise ContainerError("it is a video without a sound track: there is no audio to import",
                                         no_audio_track=True)
                raise ContainerError("it holds no audio track", no_audio_track=True)
            s = c.streams.audio[0]
            cc = s.codec_context
            sr, chans = int(cc.sample_rate or 0), int(cc.channels or 0)
            if sr <= 0 or chans <= 0:
                raise ContainerError(f"its audio track has no usable format ({sr} Hz, {chans} channels)")
            seconds = 0.0
            if s.duration and s.time_base:
                seconds = float(s.duration * s.time_base)
            elif c.duration:
                seconds = c.duration / 1_000_000  # AV_TIME_BASE
            return {"sample_rate": sr, "channels": chans, "frames": max(int(round(seconds * sr)), 0),
                    "format": _NAMES.get(demuxer.split(",")[0], demuxer.split(",")[0].upper()),
                    "subtype": (cc.name or "unknown").upper()}
    except ContainerError:
        raise
    except Exception as exc:  # av.FFmpegError subclasses, OSError, ValueError from odd headers
        raise ContainerError(_reason(exc, path)) from exc


def probe_as_audio_info(p: Path, sndfile_exc: Exception):
    """`io.probe` for what libsndfile refused (`sndfile_exc`): an `AudioInfo` from FFmpeg, or an
    `AudioFileError` worded for the user (libsndfile's wording for files that are no media at all)."""
    from engine.audio.formats import READABLE
    from engine.audio.io import AudioFileError, AudioInfo, _describe_failure

    if not looks_like_media(p):
        raise _describe_failure(p, sndfile_exc) from sndfile_exc
    try:
        h = probe_container(p)
    except ContainerError as exc:
        if exc.no_audio_track:
            raise AudioFileError(f"{p.name} cannot be imported: {exc.reason}.") from exc
        if p.suffix.lower() in CONTAINER_SUFFIXES:
            raise AudioFileError(f"{p.name} is not a readable audio file ({exc.reason}). "
                                 f"Mynah reads {READABLE}; the file may be damaged.") from exc
        raise _describe_failure(p, sndfile_exc) from sndfile_exc
    return AudioInfo(path=p, sample_rate=h["sample_rate"], channels=h["channels"], frames=h["frames"],
                     duration_s=h["frames"] / float(h["sample_rate"]), format=h["format"],
                     subtype=h["subtype"], decoder="ffmpeg")


class ContainerBlocks:
    """Iterate float32 [t, C] blocks of about `block_frames` of the first audio track. After the
    iteration: `damaged` (packets that failed to decode, replaced by silence), `damaged_s`, and
    `cut_short` (the demuxer stopped on an error after some audio: what came before is kept)."""

    def __init__(self, path: Path, sample_rate: int, channels: int, block_frames: int):
        self.path, self.sr, self.chans, self.block = path, sample_rate, channels, block_frames
        self.damaged = 0
        self.damaged_s = 0.0
        self.cut_short: str | None = None

    def __iter__(self) -> Iterator[np.ndarray]:
        av = _av()
        pending: list[np.ndarray] = []
        have = 0
        got_any = False
        try:
            c = av.open(str(self.path), "r")
        except Exception as exc:
            raise ContainerError(_reason(exc, self.path)) from exc
        try:
            s = c.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout=_layout(av, self.chans, s.codec_context.layout),
                                          rate=self.sr)
            shape = None  # (format, layout, rate) of the track's frames: the resampler's input
            for frames in self._decoded(c, s):
                for fr in frames:
                    if isinstance(fr, int):  # silence standing in for a damaged packet
                        pending.append(np.zeros((fr, self.chans), np.float32))
                        have += fr
                        continue
                    key = (fr.format.name, fr.layout.name, fr.sample_rate)
                    shape = shape or key
                    if key != shape:  # a corrupt packet decoded as another channel layout or rate
                        rate = fr.sample_rate or self.sr
                        self.damaged += 1
                        self.damaged_s += fr.samples / float(rate)
                        silent = int(round(fr.samples * self.sr / rate))
                        pending.append(np.zeros((silent, self.chans), np.float32))
                        have += silent
                        continue
                    for r in resampler.resample(fr):
                        a = r.to_ndarray().reshape(-1, self.chans)  # packed float: [1, t*C] -> [t, C]
                        pending.append(a)
                        have += len(a)
                if have >= self.block:
                    got_any = True
                    yield _join(pending)
                    pending, have = [], 0
            for r in resampler.resample(None):
                pending.append(r.to_ndarray().reshape(-1, self.chans))
        except ContainerError:
            raise
        except av.FFmpegError as exc:
            if not got_any and not pending:
                raise ContainerError(_reason(exc)) from exc
            self.cut_short = _reason(exc)
        finally:
            c.close()
        if pending:
            yield _join(pending)

    def _decoded(self, c, s):
        """Per packet, its decoded frames; a packet that fails to decode gives [n] instead: n
        frames of silence for its duration (where the container knows it), keeping the timeline."""
        import av

        for packet in c.demux(s):
            try:
                yield packet.decode()
            except av.FFmpegError:
                self.damaged += 1
                if packet.duration and s.time_base:
                    seconds = float(packet.duration * s.time_base)
                    self.damaged_s += seconds
                    yield [int(round(seconds * self.sr))]


def _join(parts: list[np.ndarray]) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def damage_warnings(name: str, blocks: ContainerBlocks, frames_read: int, frames_expected: int,
                    sample_rate: int) -> list[str]:
    """The user-facing notes about a damaged or cut-off container file."""
    out: list[str] = []
    if blocks.damaged:
        out.append(f"{name} has {blocks.damaged} damaged part(s) (about {blocks.damaged_s:.2f} s); "
                   "they were replaced by silence.")
    short_s = (frames_expected - frames_read) / float(sample_rate)
    if blocks.cut_short or (frames_expected and short_s > SHORT_BY_S):
        got = frames_read / float(sample_rate)
        out.append(f"{name} ends early: only the first {got:.1f} s could be read"
                   + (f" of {frames_expected / sample_rate:.1f} s" if frames_expected else "")
                   + " (the file may be cut off or damaged).")
    return out


def looks_like_media(path: Path) -> bool:
    """Worth asking FFmpeg: an existing, non-empty, readable file."""
    try:
        return path.is_file() and path.stat().st_size > 0 and os.access(path, os.R_OK)
    except OSError:
        return False
