"""A Pocket TTS voice: the flow LM's streaming state after reading the reference clip.

Encoding: clip -> 24 kHz mono -> end on a short pause (the package's `end_on_pause`: a prompt that ends
mid-word makes the model continue that word) -> Mimi encoder latents [1, F, 32] -> speaker projection ->
[BOS] + frames through the transformer -> its KV caches. That state is all generation needs, so it is
what the worker caches and what the library stores (`save_state` / `load_state`: one safetensors file,
keys "module/tensor", the layout of the package's `export_model_state`, so its preset voices load too).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

State = dict[str, dict[str, torch.Tensor]]


class NoCloningError(ValueError):
    """This model's weights carry no voice-cloning projection (the public, ungated repo)."""


def encode_voice(model: Any, audio: np.ndarray, sample_rate: int) -> State:
    """audio: float32 mono [T] at `sample_rate` -> the flow LM state conditioned on it."""
    from pocket_tts.data.audio_utils import end_on_pause
    from pocket_tts.modules.stateful_module import increment_steps, init_states

    sr = int(model.config.mimi.sample_rate)
    x = np.asarray(audio, dtype=np.float32).reshape(-1)
    if int(sample_rate) != sr:
        from engine.audio.resample import resample

        x = resample(x, int(sample_rate), sr)
    fl = model.flow_lm
    device = next(fl.parameters()).device
    with torch.no_grad():
        wav = end_on_pause(torch.from_numpy(np.ascontiguousarray(x))[None], sr)  # [1, T']
        latents = model.mimi.encode_to_latent(wav[None].to(device))  # [1, F, ldim]
        cond = torch.nn.functional.linear(latents.to(torch.float32), fl.speaker_proj_weight)  # [1, F, D]
        if fl.insert_bos_before_voice:
            cond = torch.cat([fl.bos_before_voice, cond], dim=1)  # [1, 1 + F, D]
        state = init_states(fl, batch_size=1, sequence_length=cond.shape[1])
        empty = cond.new_empty((1, 0, fl.ldim))
        fl.backbone(fl.input_linear(empty), cond, empty, model_state=state)
        increment_steps(fl, state, increment=cond.shape[1])
    return state


def save_state(state: State, path: Path, metadata: dict[str, str] | None = None) -> None:
    """Write atomically (a `.part` file renamed into place): a crash never leaves half a voice."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    flat = {f"{m}/{k}": t.detach().to("cpu").contiguous() for m, s in state.items() for k, t in s.items()}
    part = path.with_name(path.name + ".part")
    save_file(flat, str(part), metadata=metadata or {})
    part.replace(path)


def load_state(path: Path, device: torch.device | str = "cpu") -> tuple[State, dict[str, str]]:
    from safetensors import safe_open

    state: State = {}
    with safe_open(str(path), framework="pt", device="cpu") as f:
        meta = dict(f.metadata() or {})
        for key in f.keys():
            module, _, name = key.rpartition("/")
            t = f.get_tensor(key)
            if name == "current_end":  # older exports stored the length as a tensor's shape
                name, t = "offset", torch.full((1,), t.shape[0], dtype=torch.long)
            state.setdefault(module, {})[name] = t.to(device)
    return state, meta


def check_state(state: State, model: Any) -> None:
    """The voice fits this model's transformer (same layers, heads and width), else a clear error."""
    from pocket_tts.modules.stateful_module import init_states

    want = init_states(model.flow_lm, batch_size=1, sequence_length=1)
    if set(want) != set(state):
        raise ValueError("this voice was made for another Pocket TTS model (its layers differ); "
                         "encode the reference clip again with this model")
    for name, module_state in want.items():
        got = state[name].get("cache")
        if got is None or got.shape[:2] != module_state["cache"].shape[:2] or got.shape[3:] != module_state["cache"].shape[3:]:
            raise ValueError("this voice was made for another Pocket TTS model (its attention shape differs); "
                             "encode the reference clip again with this model")
