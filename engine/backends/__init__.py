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


_FACTORIES: dict[str, Callable[[], Backend]] = {"csm": _csm, "pocket": _pocket}


def backend_for_folder(model_dir) -> str:
    """The backend that reads a model folder: Pocket TTS folders hold languages/<variant>/ or a
    config.yaml (the package's format); everything else is read as CSM."""
    from pathlib import Path

    d = Path(model_dir)
    return "pocket" if (d / "languages").is_dir() or (d / "config.yaml").is_file() else "csm"


def available_backends() -> list[str]:
    return sorted(_FACTORIES)


def get_backend(name: str) -> Backend:
    """A new, unloaded backend instance, e.g. `get_backend("csm")`."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ValueError(f"unknown backend {name!r} (known: {', '.join(available_backends())})") from None
    return factory()
