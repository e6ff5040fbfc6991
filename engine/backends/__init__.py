"""Backends by name. Imports are lazy: naming a backend must not pull torch into the GUI."""
from __future__ import annotations

from typing import Callable

from engine.backends.base import Backend


def _csm() -> Backend:
    from engine.backends.csm import CsmBackend

    return CsmBackend()


def _pocket() -> Backend:
    from engine.backends.pocket import PocketBackend

    return PocketBackend()


def _qwen3() -> Backend:
    from engine.backends.qwen3 import Qwen3Backend

    return Qwen3Backend()


_FACTORIES: dict[str, Callable[[], Backend]] = {"csm": _csm, "pocket": _pocket, "qwen3": _qwen3}


def backend_for_folder(model_dir) -> str:
    """The backend that reads a model folder: Pocket TTS folders hold languages/<variant>/ or a
    config.yaml (the package's format); a config.json of model_type qwen3_tts is Qwen3-TTS; everything
    else is read as CSM."""
    import json
    from pathlib import Path

    d = Path(model_dir)
    if (d / "languages").is_dir() or (d / "config.yaml").is_file():
        return "pocket"
    try:
        cfg = json.loads((d / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "csm"
    return "qwen3" if isinstance(cfg, dict) and cfg.get("model_type") == "qwen3_tts" else "csm"


def available_backends() -> list[str]:
    return sorted(_FACTORIES)


def get_backend(name: str) -> Backend:
    """A new, unloaded backend instance, e.g. `get_backend("csm")`."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ValueError(f"unknown backend {name!r} (known: {', '.join(available_backends())})") from None
    return factory()
