"""A tuned voice on disk: an adapter folder (PEFT layout) that names its base model.

Any place that takes a model folder takes a tuned voice's folder too: `resolve_model_dir` finds the
base model (mynah_adapter.json: `base_model_dir`; else adapter_config.json `base_model_name_or_path` when it
is a local folder) and the backend applies the adapter on load. `import_adapter` brings an adapter
trained elsewhere (transformers + peft, or another Mynah) into the library, checked first.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from engine.train.lora import (CONFIG_FILE, MYNAH_FILE, WEIGHTS_FILE, AdapterError, adapter_hash, read_mynah,
                               read_settings, write_mynah)

_KEY = re.compile(r"^base_model\.model\.(backbone_model|depth_decoder\.model)\.layers\.\d+\."
                  r"(self_attn|mlp)\.\w+_proj\.lora_[AB](\.default)?\.weight$")


def is_adapter_dir(path: Path) -> bool:
    return (Path(path) / CONFIG_FILE).is_file()


def base_model_of(adapter_dir: Path) -> Path | None:
    try:
        cfg = json.loads((Path(adapter_dir) / CONFIG_FILE).read_text())
    except (OSError, ValueError):
        return None
    for cand in (read_mynah(adapter_dir).get("base_model_dir"), cfg.get("base_model_name_or_path")):
        if cand and Path(cand).expanduser().is_dir():
            return Path(cand).expanduser()
    return None


def resolve_model_dir(path: Path) -> tuple[Path, Path | None]:
    """(base model folder, adapter folder or None) for a model or tuned-voice folder."""
    path = Path(path)
    if not is_adapter_dir(path):
        return path, None
    base = base_model_of(path)
    if base is None:
        raise AdapterError(f"{path.name} is a LoRA adapter whose base model folder is unknown or missing; "
                           "import it again with `mynah finetune import DIR --base MODEL_DIR`")
    return base, path


def check_adapter_files(folder: Path) -> int:
    """Light check without a model: config and weights readable, only LoRA keys of CSM's two
    decoders (never the codec). Returns the number of tensors."""
    from safetensors import safe_open

    read_settings(folder)
    try:
        with safe_open(str(Path(folder) / WEIGHTS_FILE), framework="pt") as f:
            keys = list(f.keys())
    except Exception as e:  # safetensors' own error types
        raise AdapterError(f"{Path(folder) / WEIGHTS_FILE} could not be read: {e}") from None
    bad = [k for k in keys if not _KEY.match(k)]
    if not keys or bad:
        raise AdapterError(f"{folder}: not a CSM LoRA adapter (unexpected tensor {bad[0] if bad else 'none'}); "
                           "only LoRA on the backbone and depth decoder projections can be used")
    return len(keys)


def import_adapter(src: Path, dest_root: Path, base_model_dir: Path | None = None, name: str | None = None) -> Path:
    """Copy a checked adapter into dest_root/<name>/ and record its base model; returns the folder.
    The source is never modified; an existing tuned voice of that name is never overwritten."""
    src = Path(src)
    check_adapter_files(src)
    base = Path(base_model_dir) if base_model_dir else base_model_of(src)
    if base is None or not (base / "config.json").is_file():
        raise AdapterError(f"which base model does {src.name} belong to? Pass --base MODEL_DIR "
                           "(the CSM-1B folder it was trained on)")
    dest = Path(dest_root) / (name or src.name)
    if dest.exists():
        raise AdapterError(f"a tuned voice named {dest.name!r} already exists in {dest_root}; choose another name")
    tmp = dest.with_name(f".{dest.name}.importing")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for f in (WEIGHTS_FILE, CONFIG_FILE):
        shutil.copy2(src / f, tmp / f)
    ours = read_mynah(src)
    ours["base_model_dir"] = str(base.resolve())
    ours.setdefault("imported_from", str(src.resolve()))
    write_mynah(tmp, ours)
    tmp.rename(dest)
    return dest


def promote(checkpoint: Path, dest_root: Path, name: str, base_model_dir: Path) -> Path:
    """A checkpoint's adapter becomes a tuned voice (dest_root/<name>/), usable as a model."""
    return import_adapter(checkpoint, dest_root, base_model_dir, name)


__all__ = ["MYNAH_FILE", "adapter_hash", "base_model_of", "check_adapter_files", "import_adapter", "is_adapter_dir",
           "promote", "resolve_model_dir"]
