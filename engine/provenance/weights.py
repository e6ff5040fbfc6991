"""Where the Perth watermark weights live and how they are read (no torch at import time).

The trained weights ship inside the `resemble-perth` wheel (MIT; it declares no dependencies), a
runtime dependency of Mynah. We only read its data files: `perth` itself is never imported (its
code needs torchaudio and librosa). `MYNAH_WATERMARK_DIR` may point at a folder holding
`hparams.yaml` and `perth_net_*.pth.tar` instead (a frozen bundle, or a newer checkpoint).
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "resemble-perth"
SUBDIR = Path("perth_net") / "pretrained" / "implicit"
METHOD = "perth-implicit"  # what the recipe and export tags name


class WatermarkUnavailable(RuntimeError):
    """The watermark model cannot be found or read; the message says what to install."""


@dataclass(frozen=True)
class WeightFiles:
    folder: Path
    checkpoint: Path
    hparams: Path
    package_version: str  # "" when loaded from MYNAH_WATERMARK_DIR

    @property
    def step(self) -> int:
        return int(self.checkpoint.name.split(".")[0].rsplit("_", 1)[-1])

    @property
    def model_name(self) -> str:
        """e.g. "perth_net_250000" (the checkpoint's training step names it)."""
        return self.checkpoint.name.split(".")[0]


def _package_folder() -> Path | None:
    spec = importlib.util.find_spec("perth")  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / SUBDIR


def find_weights() -> WeightFiles:
    override = os.environ.get("MYNAH_WATERMARK_DIR")
    folder = Path(override) if override else _package_folder()
    if folder is None:
        raise WatermarkUnavailable(
            "The watermark model is missing: install the 'resemble-perth' package "
            "(pip install --no-deps resemble-perth), which carries its weights.")
    ckpts = sorted(folder.glob("perth_net_*.pth.tar"), key=lambda p: int(p.name.split(".")[0].rsplit("_", 1)[-1]))
    hparams = folder / "hparams.yaml"
    if not ckpts or not hparams.is_file():
        raise WatermarkUnavailable(f"No watermark checkpoint (perth_net_*.pth.tar + hparams.yaml) in {folder}")
    version = ""
    if not override:
        try:
            version = importlib.metadata.version(PACKAGE)
        except importlib.metadata.PackageNotFoundError:
            version = "unknown"
    return WeightFiles(folder=folder, checkpoint=ckpts[-1], hparams=hparams, package_version=version)


def read_hparams(path: Path) -> dict:
    """hparams.yaml is flat `key: value` lines; read with PyYAML's safe loader."""
    import yaml

    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    if not isinstance(data, dict):
        raise WatermarkUnavailable(f"{path} is not a mapping of hyper-parameters")
    return data


def load_state_dict(path: Path) -> dict:
    """The checkpoint's `model` state dict; tensors only (weights_only=True: no arbitrary pickle)."""
    import torch

    try:
        ckpt = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated download or a different format
        raise WatermarkUnavailable(f"Cannot read the watermark checkpoint {path}: {exc}") from exc
    state = ckpt.get("model") if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise WatermarkUnavailable(f"{path} has no 'model' state dict")
    return state


def sha256_prefix(path: Path, n: int = 16) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:n]
