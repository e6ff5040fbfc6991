"""Reusable Qt widgets (waveform, mel, meter, transport, device picker) and background helpers."""
from studio.ui.widgets import pyside_refcount_fix  # noqa: F401  (must precede any Signal.emit)
