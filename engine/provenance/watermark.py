"""Embed and detect the Perth implicit watermark on numpy audio at any sample rate.

The net runs at its own rate (32 kHz). `embed` adds only the mark: the difference the net makes at
32 kHz is resampled back and added to the untouched input, so a 48 kHz take keeps its top octave
and untouched regions stay bit-identical in spirit (float rounding aside). The net is loaded once,
lazily, under a lock; calls may come from the engine thread or any background pool thread (torch
modules are safe to run concurrently in inference mode). Never call these on the GUI thread: a
minute of audio costs about a second of CPU (benchmarks/bench_watermark.py).
"""
from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

import numpy as np

from engine.audio.resample import resample
from engine.provenance.weights import METHOD, WatermarkUnavailable, find_weights, load_state_dict, read_hparams, sha256_prefix

DETECT_THRESHOLD = 0.5  # scores sit near 0 (clean) or 1 (marked); see the tests' 52-clip figures
MESSAGE = "This audio carries an AI watermark: it was generated, not recorded."
MIN_SECONDS = 0.25  # shorter audio has too few frames to carry (or reveal) a mark
SPAN_SECONDS = 10.0  # per-span scores for long files
CHUNK_S = 30.0  # long audio is marked/scored in windows of this length (bounded memory)
OVERLAP_S = 1.0  # marks of neighbouring windows crossfade over twice this

__all__ = ["DETECT_THRESHOLD", "MESSAGE", "Detection", "WatermarkStamp", "WatermarkUnavailable",
           "detect", "detect_spans", "embed", "stamp", "warning_for"]


@dataclass(frozen=True)
class WatermarkStamp:
    """What marked a take: recorded in its recipe and in export tags/sidecars."""

    method: str  # "perth-implicit"
    model: str  # "perth_net_250000"
    version: str  # "resemble-perth 1.0.1"
    weights_sha256: str  # first 16 hex digits of the checkpoint file

    def to_dict(self) -> dict:
        return asdict(self)

    def label(self) -> str:
        return f"{self.method} ({self.model}, {self.version})"


@dataclass(frozen=True)
class Detection:
    score: float  # 0..1, over the whole clip
    spans: tuple[tuple[float, float, float], ...] = ()  # (start_s, end_s, score) for long clips

    @property
    def marked(self) -> bool:
        return self.score >= DETECT_THRESHOLD or any(s >= DETECT_THRESHOLD for *_, s in self.spans)


class _Model:
    def __init__(self):
        import torch

        from engine.provenance.perth_net import PerthNet, PerthParams

        files = find_weights()
        hp = read_hparams(files.hparams)
        params = PerthParams(**{k: type(getattr(PerthParams, k))(hp[k])
                                for k in PerthParams.__dataclass_fields__ if k in hp})
        if params.window_fn != "hann":
            raise WatermarkUnavailable(f"unsupported watermark window {params.window_fn!r} in {files.hparams}")
        net = PerthNet(params)
        state = load_state_dict(files.checkpoint)
        # The checkpoint also holds torchaudio's STFT buffers (ap.*); our STFT makes its own window.
        net.load_state_dict({k: v for k, v in state.items() if not k.startswith("ap.")}, strict=True)
        self.net = net.eval()
        self.torch = torch
        self.sr = params.sample_rate
        version = f"{'resemble-perth ' + files.package_version if files.package_version else files.folder.name}"
        self.stamp = WatermarkStamp(method=METHOD, model=files.model_name, version=version,
                                    weights_sha256=sha256_prefix(files.checkpoint))


_model: _Model | None = None
_lock = threading.Lock()


def _get() -> _Model:
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = _Model()
    return _model


def stamp() -> WatermarkStamp:
    """Loads the model (once) and says what it is."""
    return _get().stamp


def _mono(audio: np.ndarray) -> np.ndarray:
    a = np.asarray(audio, dtype=np.float32)
    return a.mean(axis=1) if a.ndim == 2 else a.reshape(-1)  # [T]


def embed(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """The same audio with the watermark added; [T] or [T, C] float32 in, same shape out.

    Audio shorter than MIN_SECONDS, or all zeros, comes back unchanged (there is nothing to mark).
    Long audio is marked in CHUNK_S windows whose marks crossfade over 2 * OVERLAP_S, so memory stays
    bounded (a whole hour at once would need ~10 GB of spectrogram).
    """
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim == 2:
        return np.stack([embed(x[:, c], sample_rate) for c in range(x.shape[1])], axis=1)
    x = x.reshape(-1)
    if x.size < MIN_SECONDS * sample_rate or not np.any(x):
        return x.copy()
    m = _get()
    mark = np.zeros_like(x)
    ov = int(OVERLAP_S * sample_rate)
    windows = _windows(x.size, sample_rate)
    for i, (a, b) in enumerate(windows):
        piece = _mark_of(m, x[a:b], sample_rate)  # [b - a]
        w = np.ones(b - a, np.float32)
        if i > 0:  # ramp in over the overlap with the previous window
            w[: 2 * ov] = np.linspace(0.0, 1.0, 2 * ov, dtype=np.float32)
        if i < len(windows) - 1:
            w[-2 * ov:] = np.linspace(1.0, 0.0, 2 * ov, dtype=np.float32)
        mark[a:b] += piece * w
    mark[_digital_silence(x, int(0.005 * sample_rate))] = 0.0  # explicit pauses stay exact zeros
    return x + mark


def _windows(n: int, sample_rate: int) -> list[tuple[int, int]]:
    """[start, end) windows: cores of CHUNK_S extended by OVERLAP_S on each side (one window when short)."""
    core, ov = int(CHUNK_S * sample_rate), int(OVERLAP_S * sample_rate)
    if n <= core + 2 * ov:
        return [(0, n)]
    out = [(max(0, s - ov), min(n, s + core + ov)) for s in range(0, n, core)]
    if len(out) > 1 and out[-1][1] - out[-1][0] < 4 * ov:  # a sliver: the window before takes it
        out.pop()
        out[-1] = (out[-1][0], n)
    return out


def _mark_of(m: _Model, x: np.ndarray, sample_rate: int) -> np.ndarray:
    """What the net adds to `x` (one window), at `x`'s rate and length."""
    out = np.zeros_like(x)
    if x.size < MIN_SECONDS * sample_rate or not np.any(x):
        return out
    x32 = resample(x, sample_rate, m.sr)  # [T32]
    with m.torch.inference_mode():
        marked = m.net.embed(m.torch.from_numpy(x32)).numpy()  # [T32]
    back = resample(marked - x32, m.sr, sample_rate)  # [T'] ~ [T]
    n = min(x.size, back.size)
    out[:n] = back[:n]
    return out


def _digital_silence(x: np.ndarray, min_len: int) -> np.ndarray:
    """True on runs of at least `min_len` exact zeros (pauses the engine inserted, padded edges)."""
    zero = np.concatenate([[False], x == 0.0, [False]])
    edges = np.flatnonzero(np.diff(zero.astype(np.int8)))  # run starts and ends, alternating
    out = np.zeros(x.size, dtype=bool)
    for a, b in zip(edges[::2], edges[1::2]):
        if b - a >= max(1, min_len):
            out[a:b] = True
    return out


def _score(m: _Model, x: np.ndarray, sample_rate: int) -> float:
    if x.size < MIN_SECONDS * sample_rate or not np.any(x):
        return 0.0
    x32 = resample(x, sample_rate, m.sr)
    with m.torch.inference_mode():
        s = float(m.net.detect(m.torch.from_numpy(np.ascontiguousarray(x32))))
    return s if np.isfinite(s) else 0.0


def _weighted(scores: list[tuple[int, float]]) -> float:
    total = sum(n for n, _ in scores)
    return float(sum(n * s for n, s in scores) / total) if total else 0.0


def detect(audio: np.ndarray, sample_rate: int) -> float:
    """The watermark score of a clip, 0..1 (>= DETECT_THRESHOLD: marked). Clips longer than a
    window are scored per CHUNK_S window and the scores averaged by length (memory stays bounded)."""
    m = _get()
    x = _mono(audio)
    windows = _windows(x.size, sample_rate)
    if len(windows) == 1:
        return _score(m, x, sample_rate)
    core = int(CHUNK_S * sample_rate)
    cores = [(s, min(x.size, s + core)) for s in range(0, x.size, core)]
    return _weighted([(b - a, _score(m, x[a:b], sample_rate)) for a, b in cores])


def detect_spans(audio: np.ndarray, sample_rate: int, span_s: float = SPAN_SECONDS) -> Detection:
    """The clip's score, plus one per `span_s` window when the clip is longer than two spans (a
    generated passage spliced into a recording shows up in its span); for such clips the whole score
    is the spans' length-weighted mean. A short tail joins the span before it."""
    m = _get()
    x = _mono(audio)
    step = int(span_s * sample_rate)
    if x.size <= 2 * step:
        return Detection(score=_score(m, x, sample_rate))
    bounds = []
    for start in range(0, x.size, step):
        end = min(x.size, start + step)
        if end - start < step // 2 and bounds:
            bounds[-1] = (bounds[-1][0], end)
        else:
            bounds.append((start, end))
    spans = [(a / sample_rate, b / sample_rate, _score(m, x[a:b], sample_rate)) for a, b in bounds]
    whole = _weighted([(b - a, s) for (a, b), (_, _, s) in zip(bounds, spans)])
    return Detection(score=whole, spans=tuple(spans))


def warning_for(audio: np.ndarray, sample_rate: int) -> str:
    """"" for unmarked audio, else the one-line flag shown wherever audio comes in (with the
    marked spans of a long recording)."""
    det = detect_spans(audio, sample_rate)
    if not det.marked:
        return ""
    spans = [f"{a:.0f}-{b:.0f} s" for a, b, s in det.spans if s >= DETECT_THRESHOLD]
    where = f"; marked passages: {', '.join(spans)}" if spans and det.score < DETECT_THRESHOLD else ""
    return f"⚠ {MESSAGE} (watermark score {det.score:.2f}{where})"
