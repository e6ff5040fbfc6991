"""Telling checkpoint formats apart before any work (no torch: reads safetensors headers only).

sesame/csm-1b ships Sesame's original checkpoint (`model.safetensors`, `ckpt.pt`) beside the
transformers export. The original uses torchtune names (`backbone.layers.0.attn.q_proj.weight`,
`codebook0_head.weight`), keeps Q/K rows in Meta's order instead of the rotated-half order RoPE uses
in transformers, and has no Mimi codec. Mynah reads the transformers export (which carries Mimi as
`codec_model.*`); a folder holding only the original is refused with the files that are needed,
before anything is copied or loaded.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path

_ORIGINAL_MARKERS = ("codebook0_head.weight", "audio_head", "projection.weight")
_ORIGINAL_PREFIXES = ("backbone.layers.", "decoder.layers.")


def safetensors_keys(path: Path) -> list[str] | None:
    """Tensor names in a safetensors file's header; None when it is not one (or unreadable)."""
    try:
        with open(path, "rb") as f:
            raw = f.read(8)
            if len(raw) < 8:
                return None
            (n,) = struct.unpack("<Q", raw)
            if n > min(Path(path).stat().st_size - 8, 100_000_000):
                return None
            header = json.loads(f.read(n))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return [k for k in header if k != "__metadata__"] if isinstance(header, dict) else None


def is_sesame_original(keys: list[str]) -> bool:
    return any(k in _ORIGINAL_MARKERS or k.startswith(_ORIGINAL_PREFIXES) for k in keys)


def sesame_original_message(entry_name: str = "Sesame CSM-1B") -> str:
    return (f"Sesame's original {entry_name} checkpoint (model.safetensors / ckpt.pt: torchtune names, no Mimi "
            "codec), which Mynah does not load. Use the transformers export from the same repository: "
            "config.json, tokenizer.json, transformers.safetensors.index.json, "
            "transformers-00001-of-00002.safetensors and transformers-00002-of-00002.safetensors "
            "(https://huggingface.co/sesame/csm-1b)")


def unreadable_weights(entry, folder: Path, layout) -> str | None:
    """Why the weights `layout` names in `folder` cannot be used by `entry`'s backend (None: they
    can, or nothing is known against them). `layout` None: the folder has no usable layout; say so
    when what it has is a known foreign format."""
    if entry.backend != "csm":
        return None
    folder = Path(folder)
    if layout is None:
        if (folder / "ckpt.pt").is_file():
            return sesame_original_message(entry.name)
        return None
    for name in layout.files:
        if name.endswith(".safetensors"):
            keys = safetensors_keys(folder / name)
            if keys is not None and is_sesame_original(keys):
                return sesame_original_message(entry.name)
    return None


def holds_only_sesame_original(folder: Path) -> bool:
    """True when the weights a loader would open in `folder` are Sesame's original checkpoint (no
    shard index, and model.safetensors in torchtune names, or only ckpt.pt)."""
    folder = Path(folder)
    if any((folder / i).is_file() for i in ("model.safetensors.index.json", "transformers.safetensors.index.json")):
        return False
    single = folder / "model.safetensors"
    if single.is_file():
        keys = safetensors_keys(single)
        return keys is not None and is_sesame_original(keys)
    return (folder / "ckpt.pt").is_file()
