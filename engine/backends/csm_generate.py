"""The CSM frame loop: prefill the prompt, then sample frames until EOS or a guard stops it.

Each model call runs under `torch.inference_mode()` on its own, so the generator can be suspended
between frames (the caller cancels by closing it) without leaking inference mode to the caller.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from engine.backends.csm_guards import GuardSettings, RunawayGuard
from engine.backends.csm_model import CsmModel
from engine.backends.csm_recipe import PromptRows
from engine.lm.cpu_blas import torch_on_one_thread
from engine.lm.sampling import SamplerSettings

REPETITION_WINDOW = 32  # frames of codebook 0 the repetition penalty looks back on


@dataclass
class GeneratedFrame:
    index: int
    codes: np.ndarray  # [K] int64
    stop_reason: str | None = None  # set on the last frame of the utterance


def make_generator(device: torch.device, seed: int | None) -> torch.Generator:
    gen = torch.Generator(device=device)
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(int(seed))
    return gen


def generate_frames(model: CsmModel, prompt: PromptRows, settings: SamplerSettings, max_frames: int,
                    generator: torch.Generator | None = None,
                    guards: GuardSettings = GuardSettings(),
                    code_limit: int | None = None) -> Iterator[GeneratedFrame]:
    """Yields each kept frame; the last one carries `stop_reason`. The EOS frame is not audio: when it
    comes, a final `GeneratedFrame` with empty `codes` and stop_reason "eos" is yielded instead."""
    device = model.codebook0_head.weight.device
    tokens = torch.from_numpy(prompt.tokens).to(device).unsqueeze(0)  # [1, S, K+1]
    mask = torch.from_numpy(prompt.mask).to(device).unsqueeze(0)
    guard = RunawayGuard(max_frames, model.spec.codebook_eos, guards)
    use_penalty = settings.repetition_penalty != 1.0
    history: list[torch.Tensor] = []
    with torch.inference_mode():
        h = model.prefill(tokens, mask)  # [1, D]
    for index in range(max_frames):
        with torch.inference_mode(), torch_on_one_thread(model.blas):
            previous = torch.stack(history[-REPETITION_WINDOW:], dim=1) if use_penalty and history else None
            codes = model.sample_frame(h, settings, generator, previous, code_limit)  # [1, K]
        frame = codes[0].cpu().numpy()
        if guard.is_eos(frame):
            yield GeneratedFrame(index, np.zeros(0, dtype=np.int64), "eos")
            return
        reason = guard.after_frame(frame)
        yield GeneratedFrame(index, frame, reason)
        if reason is not None:
            return
        if use_penalty:
            history.append(codes[:, 0].clone())
        with torch.inference_mode(), torch_on_one_thread(model.blas):
            h = model.advance(codes)
