"""The engine worker's job handlers (except synthesis, in worker_synth.py). They run on the engine
thread only, raise on failure (the worker turns that into a Failed event) and return the result
that goes into Done."""
from __future__ import annotations

import gc
import importlib
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from engine.backends.base import Backend, ModelInfo, VoicePrompt
from engine.jobs import (DecodeCodes, DecodedAudio, EncodeReference, Evaluate, Event, LoadModel, Progress,
                         ReferenceSpec, Unload)

log = logging.getLogger("mynah.engine")

BackendFactory = Callable[[str], Backend]


class JobError(Exception):
    """A job failed for a reason the user can act on; the message is shown as is."""


class JobCancelled(Exception):
    """Raised inside a handler when its cancel flag is seen; the worker emits Cancelled."""


@dataclass
class ModelSlot:
    model_id: str
    backend: Backend
    info: ModelInfo
    request: LoadModel


@dataclass
class JobContext:
    job_id: str
    emit: Callable[[Event], None]
    is_cancelled: Callable[[], bool]
    submitted_at: float  # time.perf_counter() at submit
    models: dict[str, ModelSlot]
    voices: dict[tuple[str, str], VoicePrompt]
    factory: BackendFactory

    def check_cancel(self) -> None:
        if self.is_cancelled():
            raise JobCancelled()


def resolve_backend(name: str) -> Backend:
    """A backend instance: a registered name ("csm") via engine.backends.get_backend, or an import
    path "package.module:Factory" (plugins, and fakes in tests)."""
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise JobError(f"Cannot import the backend {name!r}: {exc}") from exc
        return factory()
    from engine import backends

    get_backend = getattr(backends, "get_backend", None)
    if get_backend is None:
        raise JobError(f"No model backends are installed (engine.backends.get_backend is missing); "
                       f"cannot load a {name!r} model")
    return get_backend(name)


def model_for(ctx: JobContext, model_id: str | None) -> ModelSlot:
    if model_id is None:
        if len(ctx.models) == 1:
            return next(iter(ctx.models.values()))
        if not ctx.models:
            raise JobError("No model is loaded; load a model first")
        raise JobError(f"Several models are loaded ({', '.join(ctx.models)}); say which one to use")
    slot = ctx.models.get(model_id)
    if slot is None:
        raise JobError(f"The model {model_id!r} is not loaded")
    return slot


def run_load(req: LoadModel, ctx: JobContext) -> ModelInfo:
    model_dir = Path(req.model_dir).expanduser()
    if not model_dir.is_dir():
        raise JobError(f"Model folder not found: {model_dir}")
    existing = ctx.models.get(req.key)
    if existing is not None and (existing.request.model_dir, existing.request.device, existing.request.dtype,
                                 existing.request.backend) == (req.model_dir, req.device, req.dtype, req.backend):
        return existing.info  # already loaded as asked: loading twice would only double the memory
    ctx.emit(Progress(job_id=ctx.job_id, fraction=None, message=f"Loading {req.key}"))
    backend = ctx.factory(req.backend)
    info = backend.load(model_dir, device=req.device, dtype=req.dtype, codec_dir=req.codec_dir)
    if ctx.is_cancelled():  # loading cannot stop midway; honour the cancel by not keeping it
        backend.unload()
        raise JobCancelled()
    if existing is not None:
        _unload_slot(ctx, existing)
    ctx.models[req.key] = ModelSlot(req.key, backend, info, req)
    return info


def read_reference(spec: ReferenceSpec) -> tuple[np.ndarray, int]:
    """Mono float32 samples [T] and their rate, from memory or from the file (clear error if not)."""
    if spec.audio is not None:
        if not spec.sample_rate:
            raise JobError("Reference audio was given without its sample rate")
        audio = np.asarray(spec.audio, dtype=np.float32)
        return (audio.mean(axis=1) if audio.ndim == 2 else audio.reshape(-1)), int(spec.sample_rate)
    if spec.path is None:
        raise JobError(f"The voice {spec.key!r} has neither audio nor a file")
    path = Path(spec.path)
    if not path.is_file():
        raise JobError(f"Voice file not found: {path}")
    try:
        from engine.audio.io import read_audio  # contract: handles every format, NaN cleanup
    except ImportError:
        read_audio = None
    try:
        if read_audio is not None:
            clip = read_audio(path, mono=True)
            return np.asarray(clip.samples, dtype=np.float32), int(clip.sample_rate)
        import soundfile as sf

        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
        return data.mean(axis=1), int(sr)
    except Exception as exc:
        if type(exc).__name__ == "AudioFileError":  # already names the file and says what is wrong
            raise JobError(str(exc)) from exc
        raise JobError(f"Cannot read the voice file {path.name}: {exc}") from exc


def stored_voice_path(spec: ReferenceSpec, info: ModelInfo) -> Path | None:
    """Where this voice's encoded state for this model's weights lives (None: not stored)."""
    if spec.state_dir is None:
        return None
    import hashlib
    import re

    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{info.backend}-{info.model_id}")[:80]
    key = hashlib.sha256(f"{spec.key}|{info.weights_sha256}".encode()).hexdigest()[:16]
    return Path(spec.state_dir) / f"{safe}-{key}.safetensors"


def voice_prompt(ctx: JobContext, slot: ModelSlot, spec: ReferenceSpec) -> VoicePrompt:
    """The encoded reference for this model: from the memory cache, from the voice's stored state
    (backends that can save one), or encoded now (then cached, and stored)."""
    cache_key = (slot.model_id, spec.key)
    cached = ctx.voices.get(cache_key)
    if cached is not None:
        return cached
    load_voice = getattr(slot.backend, "load_voice", None)
    if spec.path is not None and Path(spec.path).suffix == ".safetensors":
        if load_voice is None:
            raise JobError(f"{slot.model_id} cannot use a stored voice state ({Path(spec.path).name}); "
                           "give it an audio clip")
        if not Path(spec.path).is_file():
            raise JobError(f"Voice file not found: {spec.path}")
        prompt = load_voice(Path(spec.path), spec.key, spec.text)
        ctx.voices[cache_key] = prompt
        return prompt
    stored = stored_voice_path(spec, slot.info) if load_voice is not None else None
    if stored is not None and stored.is_file():
        try:
            prompt = load_voice(stored, spec.key, spec.text)
            ctx.voices[cache_key] = prompt
            return prompt
        except Exception:  # a damaged or foreign file: encode again (and overwrite it)
            log.warning("stored voice %s could not be read; encoding the clip again", stored, exc_info=True)
    audio, sr = read_reference(spec)
    if audio.size == 0:
        raise JobError(f"The voice clip {spec.key!r} is empty")
    if not np.isfinite(audio).all():
        audio = np.nan_to_num(audio, nan=0.0, posinf=0.0, neginf=0.0)
    ctx.emit(Progress(job_id=ctx.job_id, fraction=None, message="Encoding the reference voice"))
    prompt = slot.backend.encode_reference(audio, sr, spec.text, spec.key)
    ctx.voices[cache_key] = prompt
    if stored is not None:
        try:
            slot.backend.save_voice(prompt, stored)
        except OSError:  # a read-only library still generates; it only encodes again next time
            log.warning("could not store the encoded voice at %s", stored, exc_info=True)
    return prompt


def run_encode(req: EncodeReference, ctx: JobContext) -> VoicePrompt:
    slot = model_for(ctx, req.model_id)
    return voice_prompt(ctx, slot, req.reference)


def run_decode(req: DecodeCodes, ctx: JobContext) -> DecodedAudio:
    """The take's codes through the model's codec with only the first k levels."""
    slot = model_for(ctx, req.model_id)  # "not loaded" errors come from here
    total = int(slot.info.n_codebooks)
    try:
        k = int(req.n_codebooks)
    except (TypeError, ValueError):
        raise JobError(f"The number of codebooks must be a whole number, got {req.n_codebooks!r}") from None
    if not 1 <= k <= total:
        raise JobError(f"The number of codebooks must be between 1 and {total} for {slot.model_id}, got {k}")
    codes = np.asarray(req.codes)
    if codes.ndim != 2 or codes.shape[0] != total or codes.shape[1] == 0:
        raise JobError(f"These codes have shape {list(codes.shape)}; {slot.model_id} decodes "
                       f"[{total} codebooks, frames] (were they made by another model?)")
    if not np.issubdtype(codes.dtype, np.integer):
        raise JobError(f"Codes must be integers, these are {codes.dtype}")
    ctx.check_cancel()
    ctx.emit(Progress(job_id=ctx.job_id, fraction=None, message=f"Decoding codebooks 1..{k}"))
    audio = np.array(slot.backend.decode_codes(codes, k), dtype=np.float32, copy=True).reshape(-1)  # [T]
    if not np.isfinite(audio).all():
        raise JobError("The codec produced invalid audio (NaN/inf) from these codes")
    return DecodedAudio(audio=audio, sample_rate=int(slot.info.sample_rate), n_codebooks=k)


def run_evaluate(req: Evaluate, ctx: JobContext, scorer: Any) -> Any:
    audio = np.asarray(req.audio, dtype=np.float32)
    if audio.size == 0:
        raise JobError("There is no audio to score")
    ctx.emit(Progress(job_id=ctx.job_id, fraction=None, message="Scoring the take"))
    kw = {} if req.metrics is None else {"metrics": tuple(req.metrics)}
    scores = scorer.score(audio, req.sample_rate, text=req.text, reference=req.reference,
                          reference_sr=req.reference_sr, **kw)
    if req.transcribe and getattr(scores, "transcript", None) is None:
        # A reference clip has no text to compare with, but the user wants to read what ASR heard.
        from engine.eval.common import NotScorable

        try:
            scores.transcript = scorer.transcribe(audio, req.sample_rate)
        except NotScorable as exc:
            scores.not_scorable["asr"] = str(exc)
    return scores


def _unload_slot(ctx: JobContext, slot: ModelSlot) -> None:
    try:
        slot.backend.unload()
    finally:
        ctx.models.pop(slot.model_id, None)
        for key in [k for k in ctx.voices if k[0] == slot.model_id]:
            del ctx.voices[key]


def run_unload(req: Unload, ctx: JobContext) -> list[str]:
    slots = list(ctx.models.values()) if req.model_id is None else [model_for(ctx, req.model_id)]
    for slot in slots:
        _unload_slot(ctx, slot)
    gc.collect()
    torch = sys.modules.get("torch")  # only if a backend imported it; never import it here
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
    return [s.model_id for s in slots]
