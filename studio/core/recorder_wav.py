"""A WAV file written while it records: 32-bit float PCM, header rewritten and fsync'd periodically.

Why our own writer rather than soundfile: recovery after a crash must parse the header, find the
data chunk and trust the file size over the (stale) sizes in the header; owning both sides of the
format keeps that exact. The layout is the canonical 44-byte header (RIFF, fmt, data).
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HEADER_BYTES = 44
_FLOAT = 3  # WAVE_FORMAT_IEEE_FLOAT
_PCM = 1


def _header(sample_rate: int, channels: int, data_bytes: int) -> bytes:
    bytes_per_frame = 4 * channels
    return (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, _FLOAT, channels, sample_rate,
                                    sample_rate * bytes_per_frame, bytes_per_frame, 32)
            + b"data" + struct.pack("<I", data_bytes))


class StreamingWavWriter:
    """Append-only float32 WAV; `sync()` makes everything written so far durable and readable."""

    def __init__(self, path: Path, sample_rate: int, channels: int):
        self.path = Path(path)
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self.frames = 0
        self._f = open(self.path, "wb")
        self._f.write(_header(self.sample_rate, self.channels, 0))
        self.sync()

    def write(self, block: np.ndarray) -> None:
        """Append a [t, C] (or [t] mono) block."""
        data = np.ascontiguousarray(block, dtype="<f4")
        self._f.write(data.tobytes())
        self.frames += data.shape[0]

    def sync(self) -> None:
        """Point the header at the frames written so far, then flush + fsync."""
        pos = self._f.tell()
        self._f.seek(0)
        self._f.write(_header(self.sample_rate, self.channels, self.frames * 4 * self.channels))
        self._f.seek(pos)
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        if not self._f.closed:
            self.sync()
            self._f.close()


@dataclass
class WavLayout:
    sample_rate: int
    channels: int
    bytes_per_sample: int
    data_offset: int
    header_frames: int   # what the (possibly stale) header claims
    real_frames: int     # what the file size says is really there


def inspect_wav(path: Path) -> WavLayout:
    """Walk the RIFF chunks; raises ValueError when this is not a WAV we can repair."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise ValueError("not a RIFF/WAVE file")
        fmt = None
        while True:
            ch = f.read(8)
            if len(ch) < 8:
                raise ValueError("no data chunk")
            cid, clen = ch[:4], struct.unpack("<I", ch[4:])[0]
            if cid == b"fmt ":
                body = f.read(clen)
                tag, chans, sr, _, _, bits = struct.unpack("<HHIIHH", body[:16])
                fmt = (tag, chans, sr, bits)
            elif cid == b"data":
                if fmt is None:
                    raise ValueError("data chunk before fmt chunk")
                offset = f.tell()
                tag, chans, sr, bits = fmt
                bps = bits // 8
                if chans <= 0 or sr <= 0 or bps <= 0:
                    raise ValueError("invalid fmt chunk")
                real = (size - offset) // (bps * chans)
                return WavLayout(sr, chans, bps, offset, clen // (bps * chans), real)
            else:
                f.seek(clen + (clen & 1), 1)


def repair_header(path: Path) -> WavLayout:
    """Rewrite RIFF/data sizes from the real file size (drops a trailing partial frame)."""
    lay = inspect_wav(path)
    data_bytes = lay.real_frames * lay.bytes_per_sample * lay.channels
    with open(path, "r+b") as f:
        f.truncate(lay.data_offset + data_bytes)
        f.seek(4)
        f.write(struct.pack("<I", lay.data_offset - 8 + data_bytes))
        f.seek(lay.data_offset - 4)
        f.write(struct.pack("<I", data_bytes))
        f.flush()
        os.fsync(f.fileno())
    lay.header_frames = lay.real_frames
    return lay
