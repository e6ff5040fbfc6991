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


# Which encoders each case needs (the cut/damaged ones are made from the intact files).
NEEDS = {"M4A AAC 44100 Hz": ("aac",), "M4A ALAC 48000 Hz stereo": ("alac",), "MP4 video + AAC": ("aac", "mpeg4"),
         "MOV AAC": ("aac", "mpeg4"), "MKV AAC": ("aac",), "WEBM Opus": ("libopus", "libvpx"),
         "WMA 22050 Hz": ("wmav2",), "AMR 8000 Hz": ("libopencore_amrnb",), "MP4 video without audio": ("mpeg4",),
         "M4A cut off (no index)": ("aac",), "WEBM cut off": ("libopus", "libvpx"),
         "MP4 garbage in the middle": ("aac", "mpeg4")}


def missing_encoders(name: str) -> list[str]:
    """Encoders this av wheel lacks for a case (an av build without e.g. libopencore_amrnb)."""
    import av

    out = []
    for codec in NEEDS[name]:
        try:
            av.codec.Codec(codec, "w")
        except Exception:  # av.codec.codec.UnknownCodecError
            out.append(codec)
    return out


def skip_reason(name: str) -> str:
    return f"this PyAV build has no {', '.join(missing_encoders(name))} encoder to make the '{name}' file"


def make_container_cases(d: Path, case, tone) -> list:
    """`case(name, path, loads, **facts)` builds an AudioCase; `tone(sr, s, f)` a test tone. A case
    whose encoder this av build lacks is left out (`skip_reason` says why)."""
    made = []

    def add(name, build):
        if not missing_encoders(name):
            made.append(build(name))

    sig = tone(44100, 4.0, 330.0)
    s48 = tone(48000, 4.0, 330.0)
    lossy = dict(channels=1, duration_s=4.0, duration_tol=LOSSY_TOL_S)
    add("M4A AAC 44100 Hz", lambda n: case(n, encode(d / "memo.m4a", sig, 44100, "ipod", "aac"), True,
                                           sample_rate=44100, **lossy))
    add("M4A ALAC 48000 Hz stereo", lambda n: case(
        n, encode(d / "lossless.m4a", np.stack([s48, s48 * 0.5], 1), 48000, "ipod", "alac"), True,
        sample_rate=48000, channels=2, duration_s=4.0))
    add("MP4 video + AAC", lambda n: case(n, encode(d / "screen.mp4", s48, 48000, "mp4", "aac", video="mpeg4"),
                                          True, sample_rate=48000, **lossy))
    add("MOV AAC", lambda n: case(n, encode(d / "camera.mov", s48, 48000, "mov", "aac", video="mpeg4"), True,
                                  sample_rate=48000, **lossy))
    add("MKV AAC", lambda n: case(n, encode(d / "stream.mkv", sig, 44100, "matroska", "aac"), True,
                                  sample_rate=44100, **lossy))
    add("WEBM Opus", lambda n: case(n, encode(d / "browser.webm", s48, 48000, "webm", "libopus", video="libvpx"),
                                    True, sample_rate=48000, **lossy))
    add("WMA 22050 Hz", lambda n: case(n, encode(d / "old.wma", tone(22050, 4.0, 330.0), 22050, "asf", "wmav2",
                                                 bit_rate=48000), True, sample_rate=22050, **lossy))
    add("AMR 8000 Hz", lambda n: case(n, encode(d / "voice_note.amr", tone(8000, 4.0, 330.0), 8000, "amr",
                                                "libopencore_amrnb"), True, sample_rate=8000, **lossy))

    # Damaged ones.
    add("MP4 video without audio", lambda n: case(
        n, encode(d / "silent_film.mp4", np.zeros(0, np.float32), 48000, "mp4", "aac", video="mpeg4",
                  audio=False, seconds=2.0), False, error_contains="without a sound track"))

    def cut_m4a(n):  # ffmpeg writes the index (moov) last: cut, it is gone
        whole = encode(d / "memo_whole.m4a", sig, 44100, "ipod", "aac").read_bytes()
        p = d / "memo_cut.m4a"
        p.write_bytes(whole[: len(whole) * 2 // 3])
        return case(n, p, False, error_contains="cut off")

    def cut_webm(n):  # Matroska streams: the first part still plays
        whole = encode(d / "browser_whole.webm", s48, 48000, "webm", "libopus", video="libvpx").read_bytes()
        p = d / "browser_cut.webm"
        p.write_bytes(whole[: len(whole) // 2])
        return case(n, p, True, sample_rate=48000, channels=1, duration_s=None, warning_contains="ends early")

    def garbage_mp4(n):
        whole = bytearray(encode(d / "screen_whole.mp4", s48, 48000, "mp4", "aac", video="mpeg4").read_bytes())
        mid = len(whole) // 3
        whole[mid:mid + 3000] = np.random.default_rng(3).integers(0, 256, 3000, dtype=np.uint8).tobytes()
        p = d / "screen_garbage.mp4"
        p.write_bytes(bytes(whole))
        return case(n, p, True, sample_rate=48000, warning_contains="damaged", **lossy)

    add("M4A cut off (no index)", cut_m4a)
    add("WEBM cut off", cut_webm)
    add("MP4 garbage in the middle", garbage_mp4)
    return made
