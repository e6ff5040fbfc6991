"""The Qwen3-TTS frame loop: prefill the prompt, then sample frames until end-of-speech or a guard.

Same contract as the CSM loop (engine/backends/csm_generate.py): each model call runs under its own
`torch.inference_mode()`, so the caller can suspend or close the generator between frames.
Codebook 0 is sampled as qwen-tts samples it (repetition penalty over every earlier codebook-0 id,
control ids suppressed, no end-of-speech in the first two frames); codebooks 1..15 with the
code predictor's own settings (no penalty).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from engine.backends.csm_generate import GeneratedFrame, make_generator
from engine.backends.csm_guards import GuardSettings, RunawayGuard
from engine.backends.qwen3_model import Qwen3TTSModel
from engine.backends.qwen3_prompt import TalkerPrompt
from engine.lm.cpu_blas import torch_on_one_thread
from engine.lm.sampling import SamplerSettings

MIN_FRAMES = 2  # end-of-speech is not allowed before this many frames (the reference's min_new_tokens)

__all__ = ["GeneratedFrame", "Qwen3Sampling", "generate_frames", "make_generator"]


@dataclass(frozen=True)
class Qwen3Sampling:
    """qwen-tts defaults (its generate_config.json): both levels sample at T=0.9, top-k 50."""
    talker: SamplerSettings = SamplerSettings(temperature=0.9, top_k=50, top_p=1.0, repetition_penalty=1.05)
    predictor: SamplerSettings = SamplerSettings(temperature=0.9, top_k=50, top_p=1.0)

    @classmethod
    def greedy(cls) -> "Qwen3Sampling":
        return cls(SamplerSettings(0.0, 0, 1.0, 1.05), SamplerSettings(0.0, 0, 1.0))


def generate_frames(model: Qwen3TTSModel, prompt: TalkerPrompt, sampling: Qwen3Sampling, max_frames: int,
                    generator: torch.Generator | None = None,
                    guards: GuardSettings = GuardSettings()) -> Iterator[GeneratedFrame]:
    """Yields each kept frame ([K] codes); the last carries `stop_reason`. End-of-speech yields a
    final frame with empty codes and stop_reason "eos"."""
    eos = model.spec.codec_eos
    guard = RunawayGuard(max_frames, eos, guards)
    history = torch.empty(1, 0, dtype=torch.long, device=prompt.embeds.device)
    with torch.inference_mode():
        h = model.prefill(prompt.embeds)
    for index in range(max_frames):
        with torch.inference_mode(), torch_on_one_thread(model.blas):
            codes = model.sample_frame(h, sampling.talker, sampling.predictor, generator,
                                       history, allow_eos=index >= MIN_FRAMES)  # [1, K]
        frame = codes[0].cpu().numpy()
        if int(frame[0]) == eos:
            yield GeneratedFrame(index, np.zeros(0, dtype=np.int64), "eos")
            return
        reason = guard.after_frame(frame)
        yield GeneratedFrame(index, frame, reason)
        if reason is not None:
            return
        with torch.inference_mode(), torch_on_one_thread(model.blas):
            history = torch.cat([history, codes[:, :1]], dim=1)
            h = model.advance(model.frame_embed(codes.unsqueeze(1))[:, 0] + prompt.frame_text(index))
