"""A deterministic fake Backend for the worker, CLI and bridge tests (holds no tests itself).

It follows engine/backends/base.py exactly: frames of int codes, float32 audio every
`stream_frames` frames, a text chunker under a character budget, and it can be told to raise at a
given frame or to be slow, so cancel and failure paths are exercised without a real model.
Importable as "tests.engine.test_worker_fake_backend:FakeBackend" (the CLI's --backend plugin form).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import numpy as np

from engine.backends.base import ModelInfo, SamplingParams, SynthStep, VoicePrompt
from engine.text.chunking import chunk_text

SR = 8000
FRAME_RATE = 12.5
SAMPLES_PER_FRAME = int(SR / FRAME_RATE)  # 640
N_CODEBOOKS = 4


class FakeBackend:
    name = "fake"

    def __init__(self, *, fail_at_frame: int | None = None, frame_delay_s: float = 0.0,
                 frames_per_word: int = 2, max_chars: int = 200, fail_on_load: bool = False):
        self.fail_at_frame = fail_at_frame
        self.frame_delay_s = frame_delay_s
        self.frames_per_word = frames_per_word
        self.max_chars = max_chars
        self.fail_on_load = fail_on_load
        self._info: ModelInfo | None = None
        self.encode_calls = 0
        self.synth_calls: list[str] = []
        self.open_generators = 0
        self.unloaded = False

    def load(self, model_dir: Path, *, device: str = "auto", dtype: str = "auto",
             codec_dir: Path | None = None) -> ModelInfo:
        if self.fail_on_load:
            raise RuntimeError("fake checkpoint is corrupt")
        self._info = ModelInfo(model_id=str(model_dir), backend="fake", backend_version="0", revision="local",
                               weights_sha256="0" * 64, device="cpu", dtype="float32", sample_rate=SR,
                               frame_rate=FRAME_RATE, n_codebooks=N_CODEBOOKS, max_positions=2048)
        self.unloaded = False
        return self._info

    @property
    def info(self) -> ModelInfo:
        assert self._info is not None, "not loaded"
        return self._info

    def encode_reference(self, audio: np.ndarray, sample_rate: int, text: str, key: str) -> VoicePrompt:
        self.encode_calls += 1
        n_frames = int(len(audio) / sample_rate * FRAME_RATE)
        # The voice "timbre" in this fake is a pitch derived from the reference's RMS.
        pitch = 100.0 + 400.0 * float(np.sqrt(np.mean(np.square(audio))))
        return VoicePrompt(key=key, text=text, n_frames=n_frames, payload={"pitch": pitch})

    def split_text(self, text: str, voice: VoicePrompt | None) -> list[str]:
        return chunk_text(text, fits=lambda t: len(t) <= self.max_chars)

    def synthesize(self, text: str, voice: VoicePrompt | None, params: SamplingParams,
                   *, stream_frames: int = 5) -> Iterator[SynthStep]:
        self.synth_calls.append(text)
        self.open_generators += 1
        try:
            rng = np.random.default_rng(params.seed if params.seed is not None else 0)
            pitch = voice.payload["pitch"] if voice is not None else 220.0
            n_frames = max(2, len(text.split()) * self.frames_per_word)
            pending: list[np.ndarray] = []
            for f in range(n_frames):
                if self.frame_delay_s:
                    time.sleep(self.frame_delay_s)
                if self.fail_at_frame is not None and f == self.fail_at_frame:
                    raise RuntimeError(f"fake backend exploded at frame {f}")
                codes = rng.integers(1, 2048, size=N_CODEBOOKS)
                t = (np.arange(SAMPLES_PER_FRAME) + f * SAMPLES_PER_FRAME) / SR
                pending.append((0.3 * np.sin(2 * np.pi * pitch * t)).astype(np.float32))
                last = f == n_frames - 1
                audio = None
                if len(pending) >= stream_frames or last:
                    audio = np.concatenate(pending)
                    pending = []
                yield SynthStep(frame_index=f, codes=codes, audio=audio, done=last,
                                stop_reason="eos" if last else None)
        finally:
            self.open_generators -= 1

    def decode_codes(self, codes: np.ndarray, n_codebooks: int | None = None) -> np.ndarray:
        return np.zeros(codes.shape[-1] * SAMPLES_PER_FRAME, np.float32)

    def unload(self) -> None:
        self.unloaded = True
        self._info = None
