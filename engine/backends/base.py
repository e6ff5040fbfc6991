"""The Backend protocol: what every TTS model family offers the worker and the studio.

Shapes it must fit (see docs/architecture.md):
- CSM-1B: text + reference codes -> backbone predicts codebook 0, depth decoder codebooks 1..31 per
  80 ms frame -> Mimi decodes. `SynthStep.codes` carries one [n_codebooks] frame per step.
- Orpheus/Llasa (flattened codec tokens from one Llama): the backend groups its flat tokens back
  into codec frames before yielding, so the studio still sees frames.
- Pocket TTS (continuous Mimi latents): `SynthStep.codes` is None, `SynthStep.latent` may carry the
  latent frame; audio streams the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.9
    top_k: int = 50
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    seed: int | None = None
    max_audio_seconds: float | None = None  # None: derived from the text length
    options: dict[str, Any] = field(default_factory=dict)  # backend-specific (see Backend.options)


@dataclass
class VoicePrompt:
    """An encoded reference voice, ready to condition generation. Cached per voice by the worker."""

    key: str  # stable cache key (voice id + clip hash + model id)
    text: str  # transcript of the reference clip
    n_frames: int  # length of the reference in model frames
    payload: Any  # backend-specific: e.g. codes [n_codebooks, T] int64 numpy for CSM


@dataclass
class SynthStep:
    """One step of streaming synthesis.

    `audio` is a float32 mono numpy copy (never a view of a model buffer) when a chunk of audio is
    ready, else None. `codes` is the int frame [n_codebooks] the token LM produced at this step
    (None for continuous-latent models).
    """

    frame_index: int
    codes: np.ndarray | None = None
    latent: np.ndarray | None = None
    audio: np.ndarray | None = None
    text_chunk_index: int = 0
    text_chunk_count: int = 1
    done: bool = False
    stop_reason: str | None = None  # "eos", "max_frames", "repetition", "silence_tail", "cancelled"


@dataclass(frozen=True)
class ModelInfo:
    model_id: str  # e.g. "sesame/csm-1b"
    backend: str  # e.g. "csm"
    backend_version: str
    revision: str  # commit or "local"
    weights_sha256: str  # hash of the weight index/shards (first shard header hash when huge)
    device: str
    dtype: str
    sample_rate: int
    frame_rate: float
    n_codebooks: int
    max_positions: int
    adapter_sha256: str = ""  # a LoRA adapter applied on load (tuned voice); "" for the base model


@runtime_checkable
class Backend(Protocol):
    name: str
    # Fine-tuning: `trainable` backends name their `training_recipe` (engine/train; "csm-lora" for
    # CSM). Backends without them are not offered in the Fine-tune workspace.

    def load(self, model_dir: Path, *, device: str = "auto", dtype: str = "auto",
             codec_dir: Path | None = None) -> ModelInfo: ...

    @property
    def info(self) -> ModelInfo: ...

    def encode_reference(self, audio: np.ndarray, sample_rate: int, text: str, key: str) -> VoicePrompt: ...

    def split_text(self, text: str, voice: VoicePrompt | None) -> list[str]:
        """Split text into chunks that each fit the model's position budget with this voice."""
        ...

    def synthesize(self, text: str, voice: VoicePrompt | None, params: SamplingParams,
                   *, stream_frames: int = 5) -> Iterator[SynthStep]:
        """Generate speech; yields a SynthStep per frame. The caller cancels by closing the
        generator between steps. Raises on NaN/inf logits instead of yielding garbage."""
        ...

    def decode_codes(self, codes: np.ndarray, n_codebooks: int | None = None) -> np.ndarray:
        """Decode [n_codebooks, T] codes to float32 mono audio using the first n_codebooks levels."""
        ...

    def unload(self) -> None: ...
