"""Media-container cases of the bad-file corpus, encoded at test time with PyAV's own encoders
(the av wheel ships aac, alac, wmav2, libopencore_amrnb, libopus, mpeg4 and libvpx): what creators
bring (a phone memo, a screen recording, a browser recording, a .wma, an AMR voice note) and the
same files damaged (cut off, garbage in the middle, a video without a sound track)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

# Lossy codecs add/trim a few ms at the edges (priming, frame padding); the length still matches.
LOSSY_TOL_S = 0.08

CONTAINER_CASE_NAMES = ["M4A AAC 44100 Hz", "M4A ALAC 48000 Hz stereo", "MP4 video + AAC", "MOV AAC",
                        "MKV AAC", "WEBM Opus", "WMA 22050 Hz", "AMR 8000 Hz", "MP4 video without audio",
                        "M4A cut off (no index)", "WEBM cut off", "MP4 garbage in the middle"]


def encode(path: Path, x: np.ndarray, sr: int, fmt: str, codec: str, *, video: str | None = None,
           audio: bool = True, bit_rate: int | None = None, seconds: float = 0.0) -> Path:
    """Write [T] or [T, 2] float audio (and/or a small test-pattern video) with PyAV."""
    import av

    x = np.asarray(x, np.float32)
    chans = 1 if x.ndim == 1 else x.shape[1]
    with av.open(str(path), "w", format=fmt) as out:
        vs = None
        if video:
            vs = out.add_stream(video, rate=10)
            vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        a = out.add_stream(codec, rate=sr, layout="mono" if chans == 1 else "stereo") if audio else None
        if a is not None and bit_rate:
            a.bit_rate = bit_rate  # wmav2 has no default and refuses to open without one
        if vs is not None:
            n_frames = int((seconds or len(x) / sr) * 10)
            for i in range(n_frames):
                img = np.full((48, 64, 3), (i * 9) % 255, np.uint8)
                for pkt in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    out.mux(pkt)
            for pkt in vs.encode(None):
                out.mux(pkt)
        if a is not None:
            step = 4096
            for i in range(0, len(x), step):
                chunk = x[i:i + step]
                f = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt",
                                               layout="mono" if chans == 1 else "stereo")
                f.sample_rate, f.pts = sr, i
                for pkt in a.encode(f):
                    out.mux(pkt)
            for pkt in a.encode(None):
                out.mux(pkt)
    return path


def make_container_cases(d: Path, case, tone) -> list:
    """`case(name, path, loads, **facts)` builds an AudioCase; `tone(sr, s, f)` a test tone."""
    cases = []
    sig = tone(44100, 4.0, 330.0)
    p = encode(d / "memo.m4a", sig, 44100, "ipod", "aac")
    cases.append(case("M4A AAC 44100 Hz", p, True, sample_rate=44100, channels=1, duration_s=4.0,
                      duration_tol=LOSSY_TOL_S))
    s48 = tone(48000, 4.0, 330.0)
    p = encode(d / "lossless.m4a", np.stack([s48, s48 * 0.5], 1), 48000, "ipod", "alac")
    cases.append(case("M4A ALAC 48000 Hz stereo", p, True, sample_rate=48000, channels=2, duration_s=4.0))
    p = encode(d / "screen.mp4", s48, 48000, "mp4", "aac", video="mpeg4")
    cases.append(case("MP4 video + AAC", p, True, sample_rate=48000, channels=1, duration_s=4.0,
                      duration_tol=LOSSY_TOL_S))
    p = encode(d / "camera.mov", s48, 48000, "mov", "aac", video="mpeg4")
    cases.append(case("MOV AAC", p, True, sample_rate=48000, channels=1, duration_s=4.0, duration_tol=LOSSY_TOL_S))
    p = encode(d / "stream.mkv", sig, 44100, "matroska", "aac")
    cases.append(case("MKV AAC", p, True, sample_rate=44100, channels=1, duration_s=4.0, duration_tol=LOSSY_TOL_S))
    p = encode(d / "browser.webm", s48, 48000, "webm", "libopus", video="libvpx")
    cases.append(case("WEBM Opus", p, True, sample_rate=48000, channels=1, duration_s=4.0,
                      duration_tol=LOSSY_TOL_S))
    p = encode(d / "old.wma", tone(22050, 4.0, 330.0), 22050, "asf", "wmav2", bit_rate=48000)
    cases.append(case("WMA 22050 Hz", p, True, sample_rate=22050, channels=1, duration_s=4.0,
                      duration_tol=LOSSY_TOL_S))
    p = encode(d / "voice_note.amr", tone(8000, 4.0, 330.0), 8000, "amr", "libopencore_amrnb")
    cases.append(case("AMR 8000 Hz", p, True, sample_rate=8000, channels=1, duration_s=4.0,
                      duration_tol=LOSSY_TOL_S))

    # Damaged ones.
    p = encode(d / "silent_film.mp4", np.zeros(0, np.float32), 48000, "mp4", "aac", video="mpeg4",
               audio=False, seconds=2.0)
    cases.append(case("MP4 video without audio", p, False, error_contains="without a sound track"))
    whole = (d / "memo.m4a").read_bytes()  # ffmpeg writes the index (moov) last: cut, it is gone
    p = d / "memo_cut.m4a"
    p.write_bytes(whole[: len(whole) * 2 // 3])
    cases.append(case("M4A cut off (no index)", p, False, error_contains="cut off"))
    whole = (d / "browser.webm").read_bytes()
    p = d / "browser_cut.webm"
    p.write_bytes(whole[: len(whole) // 2])  # Matroska streams: the first part still plays
    cases.append(case("WEBM cut off", p, True, sample_rate=48000, channels=1, duration_s=None,
                      warning_contains="ends early"))
    whole = bytearray((d / "screen.mp4").read_bytes())
    rng = np.random.default_rng(3)
    mid = len(whole) // 3
    whole[mid:mid + 3000] = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
    p = d / "screen_garbage.mp4"
    p.write_bytes(bytes(whole))
    cases.append(case("MP4 garbage in the middle", p, True, sample_rate=48000, channels=1, duration_s=4.0,
                      duration_tol=LOSSY_TOL_S, warning_contains="damaged"))
    return cases
