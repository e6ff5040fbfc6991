"""Load Mimi weights from a HF state dict / folder: build on the meta device, then assign.

Building on `meta` allocates nothing, and `load_state_dict(assign=True)` adopts the (mmap'd)
checkpoint tensors instead of copying them into freshly initialised ones: load time and peak
memory are those of the weights alone.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import Tensor

from engine.codecs.mimi_config import MimiConfig
from engine.codecs.mimi_model import Mimi


class MimiLoadError(RuntimeError):
    """A Mimi checkpoint could not be loaded; the message says what is wrong with it."""


# transformers >= 5 names the halves differently in memory; checkpoints keep the flat layout.
_NESTED_TO_FLAT = (
    ("encoder.encoder_seanet.", "encoder."),
    ("encoder.encoder_transformer.", "encoder_transformer."),
    ("encoder.downsample.", "downsample."),
    ("decoder.upsample.", "upsample."),
    ("decoder.decoder_transformer.", "decoder_transformer."),
    ("decoder.decoder_seanet.", "decoder."),
)
_IGNORED_SUFFIXES = ("codebook.initialized",)  # EMA bookkeeping, unused at inference


def _rename(name: str) -> str:
    for nested, flat in _NESTED_TO_FLAT:
        if name.startswith(nested):
            return flat + name[len(nested):]
    return name


def _fuse_weight_norm(sd: dict[str, Tensor]) -> dict[str, Tensor]:
    """Turn weight-normed convs (weight_g/weight_v or parametrizations) into plain weights."""
    pairs = {
        "weight_g": ("weight_g", "weight_v"),
        "parametrizations.weight.original0": ("parametrizations.weight.original0",
                                              "parametrizations.weight.original1"),
    }
    out = dict(sd)
    for name in list(sd):
        for marker, (g_name, v_name) in pairs.items():
            if name.endswith(marker):
                base = name[: -len(marker)]
                g, v = out.pop(base + g_name), out.pop(base + v_name)
                norm = v.norm(dim=tuple(range(1, v.ndim)), keepdim=True)
                out[base + "weight"] = g * v / norm
    return out


DECODER_PARTS = ("decoder.", "decoder_transformer.", "upsample.")


def load_mimi(state_dict: Mapping[str, Tensor], config: Mapping[str, Any] | MimiConfig, prefix: str = "",
              *, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
              encoder_only: bool = False) -> Mimi:
    """Mimi from HF MimiModel weights (keys optionally under `prefix`, e.g. "codec_model.").

    encoder_only: the checkpoint holds the encoder half only (Qwen3-TTS's speech tokenizer keeps
    Mimi's encoder, its own decoder): `encode` works, the decoder parts are left out."""
    cfg = config if isinstance(config, MimiConfig) else MimiConfig.from_hf(config)
    sd: dict[str, Tensor] = {}
    for key, value in state_dict.items():
        if not key.startswith(prefix):
            continue
        name = _rename(key[len(prefix):])
        if not name.endswith(_IGNORED_SUFFIXES):
            sd[name] = value
    if not sd:
        raise MimiLoadError(f"no Mimi weights found (looked for keys starting with {prefix!r})")
    sd = _fuse_weight_norm(sd)
    sd = {k: v.to(device=device, dtype=dtype if v.is_floating_point() else v.dtype) for k, v in sd.items()}

    with torch.device("meta"):
        model = Mimi(cfg)
    expected = set(model.state_dict())
    if encoder_only:
        expected = {k for k in expected if not k.startswith(DECODER_PARTS)}
        model.decoder_transformer = model.decoder = model.upsample = None
    missing, unexpected = sorted(expected - sd.keys()), sorted(sd.keys() - expected)
    if missing or unexpected:
        raise MimiLoadError("the checkpoint does not match its Mimi config: "
                            f"{len(missing)} missing weights {missing[:4]}, "
                            f"{len(unexpected)} unexpected {unexpected[:4]}")
    try:
        model.load_state_dict(sd, strict=not encoder_only, assign=True)
    except RuntimeError as e:  # shape mismatches
        raise MimiLoadError(f"the checkpoint does not match its Mimi config: {e}") from e
    model.finalize()
    return model.eval().requires_grad_(False)


def load_mimi_dir(path: str | Path, *, device: str | torch.device = "cpu",
                  dtype: torch.dtype = torch.float32) -> Mimi:
    """Mimi from a HF folder: config.json + model.safetensors (or a sharded index).

    A CSM folder works too: its config's `codec_config` and weights under `codec_model.`.
    """
    from safetensors import safe_open

    folder = Path(path)
    cfg_path = folder / "config.json"
    if not cfg_path.is_file():
        raise MimiLoadError(f"{folder} is not a Mimi model folder: config.json is missing")
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise MimiLoadError(f"{cfg_path} cannot be read: {e}") from e
    prefix = ""
    if "codec_config" in config:
        config, prefix = config["codec_config"], "codec_model."

    files = _weight_files(folder)
    state: dict[str, Tensor] = {}
    for f in files:
        try:
            with safe_open(str(f), framework="pt", device="cpu") as st:
                for key in st.keys():
                    if key.startswith(prefix):
                        state[key] = st.get_tensor(key)
        except Exception as e:  # safetensors raises its own error types for truncated files
            raise MimiLoadError(f"{f.name} is not a readable safetensors file: {e}") from e
    return load_mimi(state, config, prefix, device=device, dtype=dtype)


def _weight_files(folder: Path) -> list[Path]:
    single = folder / "model.safetensors"
    if single.is_file():
        return [single]
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        missing = [s for s in shards if not (folder / s).is_file()]
        if missing:
            raise MimiLoadError(f"{folder} is incomplete: missing weight shards {missing}")
        return [folder / s for s in shards]
    raise MimiLoadError(f"{folder} has no model.safetensors")
