"""Which device a backend runs on: auto = CUDA, then Apple MPS, then CPU; or the one the user forces.

`recommend_backend` names the engine that will be fastest on the detected hardware. It uses only cheap
checks that need no torch import (`hardware_summary`), so the GUI can call it on its own thread.
"""
from __future__ import annotations

import platform
import shutil
from dataclasses import dataclass

DEVICE_CHOICES = ("auto", "cuda", "mps", "cpu")


def pick_device(device: str = "auto"):
    """A torch.device for a preference: "auto" tries CUDA, then MPS, then CPU; a forced device that is not
    available fails with a message instead of silently running elsewhere."""
    import torch

    name = (device or "auto").lower()
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps is not None and mps.is_available())
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if has_mps else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but no CUDA GPU is available (choose auto or cpu)")
    if dev.type == "mps" and not has_mps:
        raise ValueError("device 'mps' was asked for but Apple's Metal backend is not available (choose auto or cpu)")
    if dev.type not in ("cuda", "mps", "cpu"):
        raise ValueError(f"unknown device {device!r} (use {', '.join(DEVICE_CHOICES)})")
    return dev


@dataclass(frozen=True)
class Hardware:
    cuda: bool  # an NVIDIA driver is present (nvidia-smi on PATH)
    mps: bool  # Apple silicon Mac
    cpu_cores: int

    @property
    def label(self) -> str:
        return "NVIDIA GPU" if self.cuda else "Apple GPU (MPS)" if self.mps else f"CPU only ({self.cpu_cores} cores)"


def hardware_summary() -> Hardware:
    import os

    is_mac_arm = platform.system() == "Darwin" and platform.machine() == "arm64"
    return Hardware(cuda=shutil.which("nvidia-smi") is not None, mps=is_mac_arm, cpu_cores=os.cpu_count() or 1)


def recommend_backend(hw: Hardware, installed: list[str]) -> tuple[str | None, str]:
    """(backend name or None, why). Measured here: CSM-1B runs ~9x slower than real time on a 2-core CPU,
    Pocket TTS ~2.5x faster than real time; on an NVIDIA GPU CSM is faster than real time too and the
    larger model."""
    if hw.cuda and "csm" in installed:
        return "csm", "an NVIDIA GPU runs CSM-1B faster than real time"
    if "pocket" in installed:
        return "pocket", f"{hw.label}: Pocket TTS generates faster than real time here; CSM-1B would not"
    if installed:
        return installed[0], "the only engine installed"
    return None, "no engine is installed"
