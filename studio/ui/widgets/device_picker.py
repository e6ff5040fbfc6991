"""Audio device combo box (input or output). Devices are listed off the GUI thread because
PortAudio start-up can take a noticeable time. The choice is stored as `AudioDevice.key`
("<host API>::<name>", stable across sessions); a bare name saved by older versions still matches."""
from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox

from studio.ui.widgets.background import run_in_background

log = logging.getLogger(__name__)

SYSTEM_DEFAULT = "System default"


def device_display_name(value: str | None) -> str:
    """What the user reads for a stored device value (key or bare name); None = system default."""
    return value.split("::", 1)[-1] if value else "system default"


def _list_devices():
    from studio.core.devices import list_devices

    return list_devices()


class DevicePicker(QComboBox):
    deviceChanged = Signal(object)  # device key (str) or None for the system default
    devicesListed = Signal(list)  # the AudioDevice list, for status displays

    def __init__(self, kind: str, current: str | None = None, parent=None):
        super().__init__(parent)
        assert kind in ("input", "output")
        self.kind = kind
        self._current = current
        self.setMinimumContentsLength(18)
        self.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.addItem(SYSTEM_DEFAULT, None)
        if current:
            self.addItem(device_display_name(current), current)
            self.setCurrentIndex(1)
        self.setToolTip(f"Audio {kind} device")
        self.currentIndexChanged.connect(self._changed)

    def _find(self, value: str | None) -> int:
        """Row of a stored key, or of the first device with that bare name (older settings)."""
        idx = self.findData(value)
        if idx < 0 and value and "::" not in value:
            idx = next((i for i in range(1, self.count())
                        if str(self.itemData(i) or "").split("::", 1)[-1] == value), -1)
        return idx

    def set_current(self, value: str | None) -> None:
        self._current = value
        idx = self._find(value) if value else 0
        if idx < 0 and value:
            self.addItem(device_display_name(value), value)
            idx = self.count() - 1
        self.blockSignals(True)
        self.setCurrentIndex(max(0, idx))
        self.blockSignals(False)

    def refresh(self) -> None:
        run_in_background(_list_devices, on_done=self._fill, on_error=self._failed)

    def _fill(self, devices) -> None:
        key = "max_input_channels" if self.kind == "input" else "max_output_channels"
        usable = [d for d in devices if getattr(d, key, 0) > 0]
        names = [d.name for d in usable]
        self.blockSignals(True)
        self.clear()
        self.addItem(SYSTEM_DEFAULT, None)
        for d in usable:  # the host API only where two APIs list the same name
            self.addItem(d.name if names.count(d.name) == 1 else f"{d.name} [{d.hostapi}]", d.key)
        idx = self._find(self._current) if self._current else 0
        if idx < 0:  # the saved device is gone: keep showing it so the user sees what changed
            self.addItem(f"{device_display_name(self._current)} (missing)", self._current)
            idx = self.count() - 1
        self.setCurrentIndex(idx)
        self.blockSignals(False)
        self.devicesListed.emit(list(devices))

    def _failed(self, exc: BaseException) -> None:
        self.setToolTip(f"Could not list audio {self.kind} devices: {exc}")

    def _changed(self, _i: int) -> None:
        self._current = self.currentData()
        self.deviceChanged.emit(self._current)
