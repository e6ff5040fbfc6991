"""Runtime hook of the Mynah bundle: run before any of the app's code.

sounddevice finds PortAudio with `ctypes.util.find_library("portaudio")`, which on Linux asks
ldconfig's cache and so never sees the copy inside the bundle (a machine without libportaudio2
would then have no audio at all). Names listed here resolve to the bundled file first.
"""
import ctypes.util
import os
import sys

_BUNDLED = {"portaudio": ("libportaudio.so.2",)}
_base = getattr(sys, "_MEIPASS", os.path.dirname(sys.executable))
_system_find_library = ctypes.util.find_library


def _find_library(name):
    for filename in _BUNDLED.get(name, ()):
        path = os.path.join(_base, filename)
        if os.path.exists(path):
            return path
    return _system_find_library(name)


ctypes.util.find_library = _find_library
