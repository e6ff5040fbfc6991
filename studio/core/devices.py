"""Audio devices: listing, a stable identity to persist, and the "test device" tone.

PortAudio indices change when devices come and go, so the UI persists `AudioDevice.key`
("<host API>::<name>") and resolves it back with `find_device` at start-up.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

import numpy as np
import sounddevice as sd

Direction = Literal["input", "output"]


class DeviceError(Exception):
    """A device could not be opened or stopped working; the message is for the user."""


@dataclass(frozen=True)
class AudioDevice:
    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    is_default_input: bool = False
    is_default_output: bool = False

    @property
    def key(self) -> str:
        """Stable identity to persist (indices are not stable across sessions or unplugs)."""
        return f"{self.hostapi}::{self.name}"

    @property
    def label(self) -> str:
        mark = " (default)" if self.is_default_input or self.is_default_output else ""
        return f"{self.name} [{self.hostapi}]{mark}"


DeviceSpec = Union[None, int, str, AudioDevice]


def _default_indices() -> tuple[int, int]:
    try:
        inp, out = sd.default.device
    except Exception:
        inp, out = -1, -1
    if inp is None or inp < 0 or out is None or out < 0:
        try:
            inp = sd.query_devices(kind="input")["index"] if inp is None or inp < 0 else inp
        except Exception:
            inp = -1
        try:
            out = sd.query_devices(kind="output")["index"] if out is None or out < 0 else out
        except Exception:
            out = -1
    return int(inp), int(out)


def list_devices(direction: Direction | None = None) -> list[AudioDevice]:
    """All devices (or only those with inputs/outputs), default ones marked."""
    try:
        raw = sd.query_devices()
        apis = sd.query_hostapis()
    except Exception as exc:
        raise DeviceError(f"The audio system is not available: {exc}") from exc
    d_in, d_out = _default_indices()
    out: list[AudioDevice] = []
    for i, d in enumerate(raw):
        dev = AudioDevice(index=i, name=d["name"], hostapi=apis[d["hostapi"]]["name"],
                          max_input_channels=int(d["max_input_channels"]),
                          max_output_channels=int(d["max_output_channels"]),
                          default_samplerate=float(d["default_samplerate"]),
                          is_default_input=i == d_in, is_default_output=i == d_out)
        if direction == "input" and dev.max_input_channels == 0:
            continue
        if direction == "output" and dev.max_output_channels == 0:
            continue
        out.append(dev)
    return out


def default_input() -> AudioDevice | None:
    return next((d for d in list_devices("input") if d.is_default_input), None)


def default_output() -> AudioDevice | None:
    return next((d for d in list_devices("output") if d.is_default_output), None)


def find_device(key: str, direction: Direction | None = None) -> AudioDevice | None:
    """The device a persisted key (or bare name) names, wherever its index is now; None when gone.

    A bare name matches the first device of that name: `.key` is preferred because two host APIs
    (e.g. ALSA and JACK) can list the same name.
    """
    devs = list_devices(direction)
    return (next((d for d in devs if d.key == key), None)
            or next((d for d in devs if d.name == key), None))


def resolve_device(device: DeviceSpec, direction: Direction) -> int | None:
    """A PortAudio index for a spec (None = system default); DeviceError when it is not there."""
    if device is None:
        return None
    if isinstance(device, AudioDevice):
        found = find_device(device.key, direction)
        if found is None:
            raise DeviceError(f"The {direction} device '{device.name}' ({device.hostapi}) is not connected.")
        return found.index
    if isinstance(device, str):
        found = find_device(device, direction)
        if found is None:
            name = device.split("::", 1)[-1]
            raise DeviceError(f"The {direction} device '{name}' is not connected.")
        return found.index
    devs = {d.index: d for d in list_devices(direction)}
    if int(device) not in devs:
        raise DeviceError(f"The {direction} device #{device} is not available (it may have been unplugged).")
    return int(device)


def device_name(index: int | None, direction: Direction) -> str:
    try:
        return str(sd.query_devices(index, kind=direction if index is None else None)["name"])
    except Exception:
        return f"device #{index}" if index is not None else f"default {direction}"


def describe_port_audio_error(exc: Exception, what: str) -> str:
    """A user-facing sentence for a PortAudio failure on `what` (e.g. "the microphone 'USB Mic'")."""
    detail = str(exc).strip() or type(exc).__name__
    return f"Cannot use {what}: {detail}. Check that it is connected and not used by another program."


def play_test_tone(device: DeviceSpec = None, seconds: float = 1.0, *, freq: float = 440.0,
                   level_dbfs: float = -12.0, wait: bool = False):
    """Play a sine tone (with 20 ms fades, so no clicks) on an output device; returns the Player.

    Non-blocking unless `wait`; raises DeviceError when the device cannot be opened.
    """
    from studio.core.player import Player

    sr = 48000
    n = max(1, int(seconds * sr))
    t = np.arange(n) / sr
    tone = (10 ** (level_dbfs / 20) * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    fade = min(n // 2, int(0.02 * sr))
    if fade:
        ramp = np.linspace(0, 1, fade, dtype=np.float32)
        tone[:fade] *= ramp
        tone[-fade:] *= ramp[::-1]
    player = Player(device=device)
    player.play(tone, sr)
    if player.error:
        raise DeviceError(player.error)
    if wait:
        player.wait(timeout=seconds + 5.0)
    return player


def rescan_devices() -> None:
    """Re-initialize PortAudio so newly plugged devices appear (PortAudio caches its list).

    Only call while no stream is open (e.g. from a "Rescan" button): it invalidates open streams.
    """
    try:
        sd._terminate()
        sd._initialize()
    except Exception as exc:
        raise DeviceError(f"Could not rescan audio devices: {exc}") from exc
