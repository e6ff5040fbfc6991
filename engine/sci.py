"""Import the SciPy-based stack once, under a lock.

Two threads importing scipy submodules at the same time (the GUI's mel worker and the engine
thread's first loudness measurement, say) can hand one of them a partially initialised module,
because scipy's subpackages import one another. Every thread that is about to do numeric work
calls `preload()` first; the first call pays the import, later calls cost a lock round-trip.
"""
from __future__ import annotations

import threading

_LOCK = threading.Lock()
_done = False


def preload() -> None:
    global _done
    if _done:
        return
    with _LOCK:
        if _done:
            return
        import scipy.fft  # noqa: F401
        import scipy.ndimage  # noqa: F401
        import scipy.signal  # noqa: F401
        import scipy.sparse  # noqa: F401
        import scipy.stats  # noqa: F401
        import pyloudnorm  # noqa: F401
        import soxr  # noqa: F401
        _done = True
