"""Work around a PySide6 6.12 refcount bug: every Python-side `Signal.emit()` drops one reference
to `True` without taking it (its bool return value), and every call of a Python slot from a Qt
signal (a QTimer tick, a button click) drops one reference to `None` (the slot's return value).
CPython 3.11 then aborts with "Fatal Python error: bool_dealloc" / "none_dealloc" after a few
thousand signals: a 30 Hz meter timer kills the app within minutes, often at exit.

On CPython < 3.12 we give True/False/None a very large extra reference count once, which makes
them effectively immortal, as they are by design from 3.12 on. Imported by every Qt module of
the studio that emits signals; importing it twice is harmless.
"""
from __future__ import annotations

import ctypes
import sys

_EXTRA = 1 << 40  # ~1e12 emits before it could matter


def _pin() -> None:
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return  # already immortal there; never touch immortal refcounts
    if getattr(sys, "_mynah_refcount_pinned", False):
        return
    for obj in (True, False, None):
        ctypes.c_ssize_t.from_address(id(obj)).value += _EXTRA  # ob_refcnt is the first field
    sys._mynah_refcount_pinned = True


_pin()
