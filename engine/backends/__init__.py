"""Backends by name. Imports are lazy: naming a backend must not pull torch into the GUI."""
from __future__ import annotations

from typing import Callable

from engine.backends.base import Backend


def _csm() -> Backend:
    from engine.backends.csm import CsmBackend

    return CsmBackend()


def _qwen3() -> Backend:
    from engine.backends.qwen3 import Qwen3Backend

    return Qwen3Backend()


_FACTORIES: dict[str, Callable[[], Backend]] = {"csm": _csm, "qwen3": _qwen3}


def available_backends() -> list[str]:
    return sorted(_FACTORIES)


def get_backend(name: str) -> Backend:
    """A new, unloaded backend instance, e.g. `get_backend("csm")`."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ValueError(f"unknown backend {name!r} (known: {', '.join(available_backends())})") from None
    return factory()
