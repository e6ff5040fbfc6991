"""Requests the studio sends to the engine worker, and the events it gets back.

Plain dataclasses, no Qt and no torch: the worker (engine/worker.py) consumes requests on its own
thread and hands events to listeners; studio/ui/engine_bridge.py turns events into Qt signals.

Every request carries a `job_id` (generated when not given) and every event names the job it
belongs to. A job ends with exactly one of Done, Failed or Cancelled.
Audio and codes inside events are numpy copies owned by the receiver (never views of model buffers).
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from engine.backends.base import ModelInfo, SamplingParams

_ids = itertools.count(1)
_ids_lock = threading.Lock()


def new_job_id(kind: str = "job") -> str:
    """A process-unique, human-readable id ("synth-12")."""
    with _ids_lock:
        return f"{kind}-{next(_ids)}"


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class Request:
    job_id: str = ""

    def __post_init__(self) -> None:
        if not self.job_id:
            self.job_id = new_job_id(type(self).__name__.lower())


@dataclass(kw_only=True)
class ReferenceSpec:
    """A reference voice clip to condition on: samples in memory, or a file to read.

    `key` identifies the voice clip (e.g. voice id + clip hash); the worker caches the encoded
    prompt per (model, key), so re-using a voice does not re-encode it.
    """

    key: str
    text: str
    audio: np.ndarray | None = None  # float32 mono [T]
    sample_rate: int | None = None
    path: Path | None = None  # an audio file, or a stored voice state (.safetensors: e.g. a preset voice)
    # Where the encoded voice is stored (the voice's folder in the library), for backends that can save
    # it (Pocket TTS): reopening the voice then loads it instead of encoding the clip again.
    state_dir: Path | None = None


@dataclass(kw_only=True)
class LoadModel(Request):
    model_dir: Path
    backend: str = "csm"  # a registered backend name, or "package.module:Factory"
    model_id: str | None = None  # key the model is known by; defaults to the folder path
    device: str = "auto"
    dtype: str = "auto"
    codec_dir: Path | None = None

    @property
    def key(self) -> str:
        return self.model_id or str(self.model_dir)


@dataclass(kw_only=True)
class EncodeReference(Request):
    reference: ReferenceSpec
    model_id: str | None = None  # None: the only loaded model


@dataclass(kw_only=True)
class Synthesize(Request):
    text: str
    voice: ReferenceSpec | None = None  # encoded on first use, then cached
    model_id: str | None = None  # None: the only loaded model
    params: SamplingParams = field(default_factory=SamplingParams)
    stream_frames: int = 5  # frames per audio chunk (CSM: 5 frames = 400 ms)
    normalize_text: bool = True
    default_pause_s: float = 0.6  # silence for a blank line between paragraphs
    # Equal-power crossfade where two text chunks meet (0: plain concatenation). Part of the
    # request so a take's recipe records it and Re-render reproduces the same samples.
    crossfade_ms: float = 30.0
    # Mark the finished take with the inaudible AI watermark (engine/provenance). The streamed
    # AudioChunks stay unmarked (a preview); SynthResult.audio and a cancelled/failed job's
    # `partial` carry the mark. Off only by the user's explicit, confirmed choice.
    watermark: bool = True


@dataclass(kw_only=True)
class DecodeCodes(Request):
    """Decode a take's codes with only the first `n_codebooks` RVQ levels ("hear codebooks 1..k")."""

    codes: np.ndarray  # int [n_codebooks_total, T]: all levels the model produced
    n_codebooks: int  # k: 1..the model's codebook count
    model_id: str | None = None  # None: the only loaded model


@dataclass(kw_only=True)
class Evaluate(Request):
    """Score a take with engine.eval.scorer.Scorer (ASR/WER, speaker similarity, predicted MOS)."""

    audio: np.ndarray
    sample_rate: int
    text: str | None = None
    reference: np.ndarray | None = None
    reference_sr: int | None = None
    # engine.eval.scorer.ScorerConfig (typed loosely so this module stays import-light); None: defaults.
    # The worker keeps one Scorer per config, so models load once per setting.
    config: Any = None
    metrics: tuple[str, ...] | None = None  # None: the Scorer's default (wer, similarity, dnsmos)
    transcribe: bool = False  # also fill TakeScores.transcript when there is no text (reference clips)


@dataclass(kw_only=True)
class Cancel(Request):
    target: str  # job_id to cancel


@dataclass(kw_only=True)
class Unload(Request):
    model_id: str | None = None  # None: every loaded model


# ---------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class Event:
    job_id: str


@dataclass(kw_only=True)
class Progress(Event):
    fraction: float | None  # 0..1 estimate; None when unknown
    message: str = ""
    audio_seconds: float = 0.0  # audio produced so far (synthesis)
    text_chunk_index: int = 0
    text_chunk_count: int = 1


@dataclass(kw_only=True)
class AudioChunk(Event):
    audio: np.ndarray  # float32 mono [n], a copy
    sample_rate: int
    start_sample: int  # where this chunk starts in the take
    text_chunk_index: int = 0
    is_silence: bool = False  # an explicit pause, not model output


@dataclass(kw_only=True)
class CodeFrame(Event):
    frame_index: int  # index within the whole take
    codes: np.ndarray  # int [n_codebooks], a copy
    text_chunk_index: int = 0


@dataclass(kw_only=True)
class LatentFrame(Event):
    """A continuous-latent model's frame (Pocket TTS), for the take's heat map."""

    frame_index: int  # index within the whole take
    latent: np.ndarray  # float32 [latent_dim], a copy
    text_chunk_index: int = 0


@dataclass(kw_only=True)
class SynthResult:
    audio: np.ndarray  # float32 mono [T], the whole take
    sample_rate: int
    codes: np.ndarray | None  # int [n_codebooks, n_frames] (None for latent models)
    text_chunks: list[str]
    stop_reasons: list[str | None]
    model_id: str
    params: SamplingParams
    seconds_to_first_audio: float | None
    seconds_total: float
    latents: np.ndarray | None = None  # float32 [latent_dim, n_frames] (continuous-latent models)
    # engine.provenance.WatermarkStamp.to_dict() of the mark in `audio`; None: not marked.
    watermark: dict | None = None

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate if self.sample_rate else 0.0


@dataclass(kw_only=True)
class DecodedAudio:
    audio: np.ndarray  # float32 mono [T], a copy
    sample_rate: int
    n_codebooks: int  # the k levels used


@dataclass(kw_only=True)
class PartialTake:
    """The audio a cancelled or failed synthesis made before it stopped, marked like a whole take
    (the streamed chunks are not), so what the studio keeps of it carries the watermark too."""

    audio: np.ndarray  # float32 mono [T]
    sample_rate: int
    watermark: dict | None = None


@dataclass(kw_only=True)
class Done(Event):
    # LoadModel -> ModelInfo; EncodeReference -> VoicePrompt; Synthesize -> SynthResult;
    # DecodeCodes -> DecodedAudio; Evaluate -> TakeScores; Unload -> list of unloaded model ids.
    result: Any = None


@dataclass(kw_only=True)
class Failed(Event):
    message: str  # for the user
    error_type: str = ""
    traceback: str = ""  # for the log / a "details" button
    partial: PartialTake | None = None  # Synthesize: what was made before the failure


@dataclass(kw_only=True)
class Cancelled(Event):
    partial: PartialTake | None = None  # Synthesize: what was made before the cancel


EngineStateName = Literal["idle", "loading", "busy", "stopped"]


@dataclass(kw_only=True)
class EngineState(Event):
    """The worker's state for a status bar; `job_id` is the job that caused the change ("" when none)."""

    state: EngineStateName
    models: tuple[str, ...] = ()  # loaded model ids
    infos: tuple[ModelInfo, ...] = ()
    detail: str = ""


TERMINAL_EVENTS = (Done, Failed, Cancelled)

__all__ = [
    "Request", "ReferenceSpec", "LoadModel", "EncodeReference", "Synthesize", "DecodeCodes", "Evaluate",
    "Cancel", "Unload", "Event", "Progress", "AudioChunk", "CodeFrame", "LatentFrame", "SynthResult", "DecodedAudio", "PartialTake", "Done", "Failed",
    "Cancelled", "EngineState", "TERMINAL_EVENTS", "new_job_id",
]
