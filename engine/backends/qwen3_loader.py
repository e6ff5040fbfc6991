"""Loading a Qwen3-TTS 12 Hz model folder (the Hub layout of Qwen/Qwen3-TTS-12Hz-*).

config.json + model.safetensors (talker, code predictor, speaker encoder for Base models),
generation_config.json (sampling defaults), the Qwen2 text tokenizer files, and speech_tokenizer/
(the codec). Weights are memory-mapped and adopted by a meta-device build (no pickle, no copy on
CPU in the file's dtype); bf16 on CUDA, fp32 on CPU unless asked otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from engine.backends.csm_loader import cpu_mkl_layout, resolve_device_dtype, weights_fingerprint
from engine.backends.qwen3_config import Qwen3Spec
from engine.backends.qwen3_generate import Qwen3Sampling
from engine.backends.qwen3_model import Qwen3TTSModel, expected_hf_keys, state_dict_from_hf
from engine.backends.qwen3_split import MAX_POSITIONS  # the talker's KV cache (shared with the chunk rule)
from engine.hub.checkpoint import CheckpointError, open_checkpoint, read_json
from engine.lm import cpu_blas
from engine.lm.config import ConfigError
from engine.lm.sampling import SamplerSettings

LM_PREFIX = "talker."


@dataclass
class LoadedQwen3:
    model: Qwen3TTSModel
    spec: Qwen3Spec
    device: torch.device
    dtype: torch.dtype
    weights_sha256: str
    sampling: Qwen3Sampling
    max_frames: int
    config: dict[str, Any] = field(default_factory=dict)


def sampling_from_generation_config(gen: dict[str, Any]) -> tuple[Qwen3Sampling, int]:
    """qwen-tts's generation_config.json keys -> our settings (missing keys keep its defaults)."""
    d = Qwen3Sampling()
    t, p = d.talker, d.predictor
    talker = SamplerSettings(
        temperature=float(gen.get("temperature", t.temperature)) if gen.get("do_sample", True) else 0.0,
        top_k=int(gen.get("top_k", t.top_k)), top_p=float(gen.get("top_p", t.top_p)),
        repetition_penalty=float(gen.get("repetition_penalty", t.repetition_penalty)))
    predictor = SamplerSettings(
        temperature=float(gen.get("subtalker_temperature", p.temperature))
        if gen.get("subtalker_dosample", True) else 0.0,
        top_k=int(gen.get("subtalker_top_k", p.top_k)), top_p=float(gen.get("subtalker_top_p", p.top_p)))
    return Qwen3Sampling(talker, predictor), int(gen.get("max_new_tokens", 4096))


def load_qwen3(model_dir: Path, *, device: str = "auto", dtype: str = "auto",
               max_positions: int = MAX_POSITIONS) -> LoadedQwen3:
    model_dir = Path(model_dir)
    cfg = read_json(model_dir / "config.json")
    try:
        spec = Qwen3Spec.from_hf(cfg)
    except ConfigError as e:
        raise CheckpointError(f"{model_dir / 'config.json'}: {e}") from None
    gen_path = model_dir / "generation_config.json"
    sampling, max_frames = sampling_from_generation_config(read_json(gen_path) if gen_path.is_file() else {})
    ckpt = open_checkpoint(model_dir)
    ckpt.check(expected_hf_keys(spec))
    dev, dt = resolve_device_dtype(device, dtype)
    with torch.device("meta"):
        model = Qwen3TTSModel(spec)
    sd = state_dict_from_hf({k: ckpt.tensor(k) for k in ckpt.keys() if k.startswith(LM_PREFIX)}, spec,
                            release=ckpt.release, in_out=cpu_mkl_layout(dev, dt))
    model.load_state_dict(sd, strict=True, assign=True)
    model = model.to(device=dev, dtype=dt).eval()
    del sd  # the model holds what it needs (a moved weight must not stay alive here)
    if cpu_blas.wanted_for(dev, dt):  # fp32 CPU: weights in huge pages (faster GEMVs)
        cpu_blas.to_huge_pages(model, moved_from=ckpt.release_memory)
    with torch.inference_mode():
        model.setup_caches(min(max_positions, spec.talker.max_positions))
    return LoadedQwen3(model, spec, dev, dt, weights_fingerprint(ckpt), sampling, max_frames, cfg)
