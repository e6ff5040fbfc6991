"""Synthesis on the engine thread: script -> text chunks -> backend steps -> events.

The text is parsed into speech and explicit pauses (engine/text/script.py), each speech part is
normalized and cut by the backend into chunks that fit its position budget, and every chunk is
generated as a stream of SynthSteps. The cancel flag is checked between steps; the generator is
closed on every exit so the backend frees its streaming state. Chunks are joined by
engine/worker_seams.py (equal-power crossfade of `Synthesize.crossfade_ms`, a few ms ramp next to
pauses); the streamed AudioChunks concatenate to exactly the unmarked take.

Every finished take is watermarked here (engine/provenance), whatever backend made it: the one
place all engines' takes pass through. SynthResult.audio is the marked take; a cancelled or failed
job carries its marked partial audio on the exception (`partial`), which the worker puts on the
Cancelled/Failed event. The streamed chunks stay an unmarked preview.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from engine.jobs import AudioChunk, CodeFrame, LatentFrame, PartialTake, Progress, SynthResult, Synthesize
from engine.text.normalize import normalize_for_tts
from engine.text.script import Pause, parse_script
from engine.worker_jobs import JobContext, JobError, model_for, voice_prompt
from engine.worker_seams import SeamJoiner

CHARS_PER_SECOND = 14.0  # typical read speech; only used to estimate progress
MAX_CROSSFADE_MS = 500.0  # longer would smear words together; a typo should fail clearly

log = logging.getLogger("mynah.engine")


@dataclass
class _Item:
    text: str | None  # None: a pause
    pause_s: float = 0.0


def plan_items(req: Synthesize, split, language: str = "en") -> list[_Item]:
    """Speech chunks and pauses in order. `split(text) -> list[str]` is the backend's chunker;
    `language` (the backend's, ISO 639-1) picks the normalization."""
    items: list[_Item] = []
    # A multilingual take names its own language ("auto" too: then nothing English-only is applied);
    # otherwise the backend's (CSM: English; a Pocket TTS variant: its one language).
    language = (req.params.options or {}).get("language") or language
    for part in parse_script(req.text, default_pause_s=req.default_pause_s):
        if isinstance(part, Pause):
            items.append(_Item(None, part.seconds))
            continue
        text = normalize_for_tts(part.text, language=language) if req.normalize_text else part.text
        if not text:
            continue  # e.g. only emoji: nothing speakable in this part
        items.extend(_Item(chunk) for chunk in split(text) if chunk.strip())
    if not any(i.text for i in items):
        raise JobError("There is no speakable text (after normalization nothing is left)")
    return items


class _Take:
    """Accumulates the take while streaming events out; what it emits went through the joiner, so
    `audio` (the emitted pieces) is the final take."""

    def __init__(self, ctx: JobContext, sample_rate: int, expected_s: float, n_chunks: int,
                 joiner: SeamJoiner):
        self.ctx, self.sr, self.expected_s, self.n_chunks = ctx, sample_rate, max(expected_s, 0.1), n_chunks
        self.joiner = joiner
        self.audio: list[np.ndarray] = []
        self.codes: list[np.ndarray] = []  # each int [n_codebooks]
        self.latents: list[np.ndarray] = []  # each float32 [latent_dim] (continuous-latent models)
        self.n_samples = 0
        self.first_audio_at: float | None = None

    def speech(self, audio: np.ndarray, chunk_index: int) -> None:
        # A copy the receiver owns: the backend may reuse its buffer for the next step.
        chunk = np.array(audio, dtype=np.float32, copy=True).reshape(-1)  # [n]
        if not np.isfinite(chunk).all():
            raise JobError("The model produced invalid audio (NaN/inf); try another dtype (bf16/fp32)")
        self._emit(self.joiner.push(chunk), chunk_index)

    def end_chunk(self, chunk_index: int) -> None:
        self._emit(self.joiner.end_chunk(), chunk_index)

    def pause(self, seconds: float, chunk_index: int) -> None:
        speech, silence = self.joiner.pause(int(round(seconds * self.sr)))
        self._emit(speech, chunk_index)
        self._emit(silence, chunk_index, silence=True)

    def finish(self, chunk_index: int) -> None:
        self._emit(self.joiner.finish(), chunk_index)

    def _emit(self, chunk: np.ndarray, chunk_index: int, *, silence: bool = False) -> None:
        if chunk.size == 0:
            return
        chunk = np.array(chunk, dtype=np.float32, copy=True)  # never a view of the joiner's buffers
        if self.first_audio_at is None and not silence:
            self.first_audio_at = time.perf_counter()
        self.ctx.emit(AudioChunk(job_id=self.ctx.job_id, audio=chunk, sample_rate=self.sr,
                                 start_sample=self.n_samples, text_chunk_index=chunk_index, is_silence=silence))
        self.audio.append(chunk)
        self.n_samples += chunk.size
        seconds = self.n_samples / self.sr
        self.ctx.emit(Progress(job_id=self.ctx.job_id, fraction=min(0.99, seconds / self.expected_s),
                               message="Generating speech", audio_seconds=seconds,
                               text_chunk_index=chunk_index, text_chunk_count=self.n_chunks))

    def add_codes(self, codes: np.ndarray, chunk_index: int) -> None:
        frame = np.array(codes, copy=True).reshape(-1)  # [n_codebooks]
        self.ctx.emit(CodeFrame(job_id=self.ctx.job_id, frame_index=len(self.codes), codes=frame,
                                text_chunk_index=chunk_index))
        self.codes.append(frame)

    def add_latent(self, latent: np.ndarray, chunk_index: int) -> None:
        frame = np.array(latent, dtype=np.float32, copy=True).reshape(-1)  # [latent_dim]
        self.ctx.emit(LatentFrame(job_id=self.ctx.job_id, frame_index=len(self.latents), latent=frame,
                                  text_chunk_index=chunk_index))
        self.latents.append(frame)


def run_synthesize(req: Synthesize, ctx: JobContext) -> SynthResult:
    started = time.perf_counter()
    if not 0.0 <= req.crossfade_ms <= MAX_CROSSFADE_MS:  # also catches NaN
        raise JobError(f"The crossfade between chunks must be 0-{MAX_CROSSFADE_MS:.0f} ms, got {req.crossfade_ms}")
    slot = model_for(ctx, req.model_id)
    backend = slot.backend
    voice = voice_prompt(ctx, slot, req.voice) if req.voice is not None else None
    ctx.check_cancel()
    items = plan_items(req, lambda text: backend.split_text(text, voice), getattr(backend, "language", "en"))
    speech = [i for i in items if i.text]
    expected_s = sum(len(i.text) for i in speech) / CHARS_PER_SECOND + sum(i.pause_s for i in items)
    sr = int(slot.info.sample_rate)
    take = _Take(ctx, sr, expected_s, len(speech), SeamJoiner.for_rate(sr, req.crossfade_ms))
    stop_reasons: list[str | None] = []
    chunk_index = -1
    try:
        for item in items:
            ctx.check_cancel()
            if item.text is None:
                take.pause(item.pause_s, max(chunk_index, 0))
                continue
            chunk_index += 1
            take.joiner.start_chunk()
            stop_reasons.append(_generate_chunk(ctx, backend, item.text, voice, req, take, chunk_index))
            take.end_chunk(chunk_index)
        ctx.check_cancel()
        take.finish(max(chunk_index, 0))
    except BaseException as exc:
        exc.partial = _marked_partial(take, req.watermark)  # the worker puts it on Cancelled/Failed
        raise
    if take.n_samples == 0:
        raise JobError("The model produced no audio")
    audio = np.concatenate(take.audio) if take.audio else np.zeros(0, np.float32)  # [T]
    codes = np.stack(take.codes, axis=1) if take.codes else None  # [n_codebooks, n_frames]
    latents = np.stack(take.latents, axis=1) if take.latents else None  # [latent_dim, n_frames]
    audio, stamp = mark_take(audio, sr, req.watermark)
    first = None if take.first_audio_at is None else take.first_audio_at - ctx.submitted_at
    return SynthResult(audio=audio, sample_rate=sr, codes=codes, text_chunks=[i.text for i in speech],
                       stop_reasons=stop_reasons, model_id=slot.model_id, params=req.params,
                       seconds_to_first_audio=first, seconds_total=time.perf_counter() - started,
                       latents=latents, watermark=stamp)


def mark_take(audio: np.ndarray, sample_rate: int, enabled: bool) -> tuple[np.ndarray, dict | None]:
    """(marked audio, stamp dict) or (audio, None) when the user turned marking off."""
    if not enabled:
        return audio, None
    from engine import provenance

    try:
        return provenance.embed(audio, sample_rate), provenance.stamp().to_dict()
    except provenance.WatermarkUnavailable as exc:
        raise JobError(f"Could not watermark the take: {exc}. Generated speech is marked so it can be "
                       "recognised as synthetic; watermarking can be turned off in Settings.") from exc


def _marked_partial(take: _Take, watermark: bool) -> PartialTake | None:
    if not take.audio:
        return None
    audio = np.concatenate(take.audio)  # [T] what was streamed
    try:
        audio, stamp = mark_take(audio, take.sr, watermark)
    except Exception:  # the job is already failing; keep the unmarked audio out of the event
        log.exception("could not watermark a partial take")
        return None
    return PartialTake(audio=audio, sample_rate=take.sr, watermark=stamp)


def _generate_chunk(ctx: JobContext, backend, text: str, voice, req: Synthesize, take: _Take,
                    chunk_index: int) -> str | None:
    steps = backend.synthesize(text, voice, req.params, stream_frames=req.stream_frames)
    stop_reason = None
    try:
        for step in steps:
            ctx.check_cancel()  # between frames: the cancel point the user feels
            if step.codes is not None:
                take.add_codes(step.codes, chunk_index)
            if step.latent is not None:
                take.add_latent(step.latent, chunk_index)
            if step.audio is not None:
                take.speech(step.audio, chunk_index)
            if step.done:
                stop_reason = step.stop_reason
                break
    finally:
        close = getattr(steps, "close", None)
        if close is not None:
            close()  # frees the backend's streaming state (KV cache position, decoder state)
    return stop_reason
