"""One click of Generate: N takes, each an engine Synthesize job, tracked from events (no Qt here).

Seeds are always concrete: "random" draws one per take, so every take shows (and the recipe keeps)
the seed that made it, and Re-render can reproduce it.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import numpy as np

from engine.backends.base import ModelInfo, SamplingParams
from engine.jobs import ReferenceSpec, Synthesize
from studio.core.takes import TakeRecipe

MAX_TEXT_CHARS = 20_000  # a long chapter; beyond this the user should split the script


class GenerateError(ValueError):
    """The request cannot start; the message is for the user (nothing they typed is lost)."""


@dataclass(frozen=True)
class GenerateSettings:
    temperature: float = 0.9
    top_k: int = 50
    top_p: float = 1.0
    seed: int | None = None  # None: a random seed per take
    takes: int = 1
    max_audio_seconds: float | None = None
    options: dict = field(default_factory=dict)


def seeds_for(settings: GenerateSettings, rng: random.Random | None = None) -> list[int]:
    """Fixed seed s -> s, s+1, ...; random -> fresh 31-bit seeds."""
    n = max(1, settings.takes)
    if settings.seed is not None:
        return [settings.seed + i for i in range(n)]
    rng = rng or random.SystemRandom()
    return [rng.randrange(0, 2**31 - 1) for _ in range(n)]


def check_text(text: str) -> str:
    """What the worker will get; raises GenerateError with a clear message for unusable text."""
    if not text.strip():
        raise GenerateError("Type or paste some text to speak first.")
    if len(text) > MAX_TEXT_CHARS:
        raise GenerateError(f"The text is {len(text):,} characters; the limit for one generation is "
                            f"{MAX_TEXT_CHARS:,}. Split the script and generate it in parts.")
    return text


@dataclass
class TakeJob:
    """A take being generated: the request sent and everything received so far."""

    request: Synthesize
    recipe: TakeRecipe
    sample_rate: int = 0
    # Audio so far in a buffer that doubles when full: streaming appends stay O(n) overall.
    _buf: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    n_samples: int = 0
    # int [n_codebooks] codes per frame, or float32 [latent_dim] latents (continuous-latent models)
    frames: list[np.ndarray] = field(default_factory=list)
    spans: dict[int, list[int]] = field(default_factory=dict)  # text chunk index -> [start, end) samples
    started: float = field(default_factory=time.perf_counter)
    first_audio_s: float | None = None
    chunk_index: int = 0
    chunk_count: int = 1
    finished: str | None = None  # "complete" | "cancelled" | "failed"

    @property
    def job_id(self) -> str:
        return self.request.job_id

    def add_audio(self, audio: np.ndarray, sample_rate: int, text_chunk_index: int, silence: bool) -> None:
        if not silence and self.first_audio_s is None:
            self.first_audio_s = time.perf_counter() - self.started
        self.sample_rate = sample_rate
        a = np.asarray(audio, dtype=np.float32).reshape(-1)
        if not silence:  # pauses are not part of any chunk: regenerating a chunk keeps them
            span = self.spans.setdefault(text_chunk_index, [self.n_samples, self.n_samples])
            span[1] = self.n_samples + a.size
        need = self.n_samples + a.size
        if need > self._buf.size:
            grown = np.zeros(max(need, 2 * self._buf.size, 48000), np.float32)
            grown[:self.n_samples] = self._buf[:self.n_samples]
            self._buf = grown
        self._buf[self.n_samples:need] = a
        self.n_samples = need

    def set_audio(self, audio: np.ndarray, sample_rate: int) -> None:
        """The engine's final take replaces what was streamed (same samples, one copy)."""
        self._buf = np.asarray(audio, dtype=np.float32).reshape(-1)
        self.n_samples, self.sample_rate = self._buf.size, sample_rate

    def audio(self) -> np.ndarray:
        """A view of the audio so far [T]. Samples in it never change: appends write past its end
        (a full buffer is replaced by a new, larger one) and set_audio swaps in another array, so
        the view may be kept (the player streams from it) without a copy."""
        return self._buf[:self.n_samples]

    def codes(self) -> np.ndarray | None:
        """[n_codebooks, n_frames] int codes, or [latent_dim, n_frames] float latents."""
        return np.stack(self.frames, axis=1) if self.frames else None

    def chunk_spans(self) -> list[tuple[int, int]]:
        return [tuple(self.spans[i]) for i in sorted(self.spans)]

    def timings(self) -> dict[str, float]:
        t = {"total_s": round(time.perf_counter() - self.started, 4)}
        if self.first_audio_s is not None:
            t["first_audio_s"] = round(self.first_audio_s, 4)
        return t


def build_jobs(text: str, settings: GenerateSettings, *, model_id: str, info: ModelInfo | None,
               voice: ReferenceSpec | None, voice_id: int | str | None,
               seeds: list[int] | None = None) -> list[TakeJob]:
    """One Synthesize request + recipe per take."""
    text = check_text(text)
    jobs = []
    for seed in seeds if seeds is not None else seeds_for(settings):
        params = SamplingParams(temperature=settings.temperature, top_k=settings.top_k, top_p=settings.top_p,
                                seed=seed, max_audio_seconds=settings.max_audio_seconds,
                                options=dict(settings.options))
        req = Synthesize(text=text, voice=voice, model_id=model_id, params=params)
        recipe = TakeRecipe(
            model_id=model_id, text=text, voice_id=voice_id,
            backend=info.backend if info else "", backend_version=info.backend_version if info else "",
            revision=info.revision if info else "", weights_sha256=info.weights_sha256 if info else "",
            device=info.device if info else "", dtype=info.dtype if info else "",
            temperature=settings.temperature, top_k=settings.top_k, top_p=settings.top_p, seed=seed,
            max_audio_seconds=settings.max_audio_seconds, options=dict(settings.options),
            crossfade_ms=req.crossfade_ms)  # what the engine will really use at chunk seams
        jobs.append(TakeJob(request=req, recipe=recipe))
    return jobs


def request_from_recipe(recipe: TakeRecipe, voice: ReferenceSpec | None) -> Synthesize:
    """Re-render: the same request the take was made with (same seed, parameters and text)."""
    params = SamplingParams(temperature=recipe.temperature, top_k=recipe.top_k, top_p=recipe.top_p,
                            repetition_penalty=recipe.repetition_penalty, seed=recipe.seed,
                            max_audio_seconds=recipe.max_audio_seconds, options=dict(recipe.options))
    # Takes made before chunk crossfades recorded 0 ms, which reproduces their plain joins.
    return Synthesize(text=recipe.text, voice=voice, model_id=recipe.model_id, params=params,
                      crossfade_ms=recipe.crossfade_ms)


def splice(audio: np.ndarray, sr: int, start: int, end: int, new: np.ndarray,
           crossfade_ms: float = 30.0) -> tuple[np.ndarray, int, int]:
    """`audio` with samples [start, end) replaced by `new`, joined by equal-power crossfades so the
    seams do not click (each overlaps up to `crossfade_ms`). Returns (audio, new_start, new_end):
    where the new chunk sits; everything after `end` moves by new_end - end."""
    audio = np.asarray(audio, np.float32)
    new = np.asarray(new, np.float32)
    pre, post = audio[:start], audio[end:]
    n = int(sr * crossfade_ms / 1000)
    n1, n2 = min(n, len(pre), len(new) // 2), min(n, len(post), len(new) // 2)
    t1 = np.linspace(0, np.pi / 2, n1, dtype=np.float32)
    t2 = np.linspace(0, np.pi / 2, n2, dtype=np.float32)
    mid = new.copy()
    if n1:
        mid[:n1] = pre[len(pre) - n1:] * np.cos(t1) + new[:n1] * np.sin(t1)
        pre = pre[:len(pre) - n1]
    if n2:
        mid[len(mid) - n2:] = new[len(new) - n2:] * np.cos(t2) + post[:n2] * np.sin(t2)
        post = post[n2:]
    return np.concatenate([pre, mid, post]).astype(np.float32), len(pre), len(pre) + len(mid)  # [T']
