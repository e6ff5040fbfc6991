"""Loading a Pocket TTS model folder: the package's own network modules, our loading and checks.

Accepted layouts (what the Hub repos hold, or a flat folder):
- `languages/<variant>/model.safetensors` + `tokenizer.json` or `tokenizer.model` (+ `embeddings/*.safetensors`,
  the preset voices), as in kyutai/pocket-tts and kyutai/pocket-tts-without-voice-cloning; the architecture
  is the `pocket-tts` package's `config/<variant>.yaml`;
- any folder with `model.safetensors`, a tokenizer and a `config.yaml` (the package's config format), e.g. a
  fine-tune. A `config.yaml` next to the weights always wins over the package's config.

The weights file is the package's `TTSModel.state_dict()` (`flow_lm.*`, `mimi.*`). The voice-cloning
projection `flow_lm.speaker_proj_weight` is what the gated repo adds: without it (or all zeros) the model
offers only its preset voices, and encoding a reference clip fails with a message saying why.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.backends.pocket_files import (LANGUAGES, TOKENIZER_NAMES, PocketFolder, PocketLoadError,  # noqa: F401
                                          find_folder, package_config_dir, variant_language)

log = logging.getLogger(__name__)

SPEAKER_PROJ = "flow_lm.speaker_proj_weight"
CLONING_PAGE = "https://huggingface.co/kyutai/pocket-tts"


def import_pocket() -> Any:
    """`pocket_tts.models.tts_model`, imported without letting it change torch's thread count (its import
    calls torch.set_num_threads(1) for the whole process: CSM and Whisper would silently lose threads)."""
    threads = torch.get_num_threads()
    try:
        from pocket_tts.models import tts_model
    except ImportError as e:
        raise PocketLoadError(f"the pocket-tts package is not installed ({e}); install it with "
                              "`pip install --no-deps pocket-tts==4.0.1`") from None
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
    return tts_model


def read_config(folder: PocketFolder) -> Any:
    """The package's Config with the tokenizer pointing at the local file and no download paths left."""
    import yaml

    from pocket_tts.utils.config import Config

    try:
        raw = yaml.safe_load(folder.config.read_text(encoding="utf-8"))
        raw["flow_lm"]["lookup_table"]["tokenizer_path"] = str(folder.tokenizer)
        raw["flow_lm"]["lookup_table"]["tokenizer"] = ("tokenizers" if folder.tokenizer.suffix == ".json"
                                                      else "sentencepiece")
        for key in ("weights_path", "weights_path_without_voice_cloning"):
            raw.pop(key, None)
        raw["flow_lm"].pop("weights_path", None)
        raw["mimi"].pop("weights_path", None)
        return Config(**raw)
    except Exception as e:  # yaml errors, pydantic validation, missing sections
        raise PocketLoadError(f"{folder.config}: not a Pocket TTS config ({e})") from None


def weights_fingerprint(path: Path) -> str:
    """SHA-256 of the safetensors header (names, shapes, offsets) plus the first MB of data: hashing
    every byte would cost seconds on each load for a file that identifies itself this well."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        f.seek(0)
        h.update(f.read(8 + n + (1 << 20)))
    return h.hexdigest()


@dataclass
class LoadedPocket:
    model: Any  # pocket_tts TTSModel: .flow_lm, .mimi, .config
    folder: PocketFolder
    has_cloning: bool
    device: torch.device
    dtype: torch.dtype  # compute dtype of the transformer (weights stay fp32; bf16/fp16 via autocast)
    weights_sha256: str
    n_parameters: int


def build_model(config: Any) -> Any:
    """A TTSModel from a config, random weights, with the voice-cloning projection (what the package
    adds only on its weight-loading path)."""
    tts = import_pocket()
    from pocket_tts.models.mimi import build_mimi

    model = tts.TTSModel._from_pydantic_config(config, temp=config.default_temperature, sampler_decode_steps=1,
                                               noise_clamp=None, eos_threshold=config.default_eos_threshold,
                                               origin=None)
    model.flow_lm.speaker_proj_weight = torch.nn.Parameter(torch.zeros(
        config.flow_lm.transformer.d_model, config.mimi.inner_dim or config.mimi.seanet.dimension))
    model.mimi = build_mimi(config.mimi)
    tts.stamp_state_names(model)
    return model.eval()


def load_pocket(model_dir: Path, device: torch.device, dtype: torch.dtype) -> LoadedPocket:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = find_folder(model_dir)
    config = read_config(folder)
    try:
        model = build_model(config)
    except AssertionError as e:  # the package asserts tokenizer size == n_bins
        raise PocketLoadError(f"{folder.tokenizer.name} does not match the model: {e}") from None
    try:
        state = load_file(str(folder.weights))
    except (SafetensorError, OSError) as e:
        raise PocketLoadError(f"{folder.weights}: unreadable weights ({e})") from None
    has_cloning = SPEAKER_PROJ in state and bool(state[SPEAKER_PROJ].abs().sum() > 0)
    if SPEAKER_PROJ not in state:
        state[SPEAKER_PROJ] = model.flow_lm.speaker_proj_weight.detach().clone()
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [f"{k} {list(state[k].shape)} != {list(v.shape)}" for k, v in expected.items()
             if k in state and state[k].shape != v.shape]
    if missing or unexpected or wrong:
        parts = [f"{len(missing)} missing (e.g. {missing[0]})" if missing else "",
                 f"{len(unexpected)} unexpected (e.g. {unexpected[0]})" if unexpected else "",
                 f"shape mismatch: {wrong[0]}" if wrong else ""]
        raise PocketLoadError(f"{folder.weights} does not fit the {folder.variant} architecture: "
                              + "; ".join(p for p in parts if p))
    model.load_state_dict(state, strict=True)
    model = model.to(device).eval()
    n_params = sum(p.numel() for p in model.parameters())
    return LoadedPocket(model, folder, has_cloning, device, dtype, weights_fingerprint(folder.weights), n_params)
