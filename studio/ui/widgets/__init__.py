"""Reusable Qt widgets (waveform, mel, meter, transport, device picker) and background helpers."""
