"""A table of audio devices of one direction (input or output) for the Audio devices dialog.

Row 0 follows the system default (stored as None); every other row is a device, stored by its
`AudioDevice.key`. A saved device that is not connected keeps a red "not connected" row so the user
sees what changed instead of a silent switch to another device.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from studio.ui.theme import COLORS

COLUMNS = ("Device", "Host API", "Channels", "Sample rate", "System default")
_KEY = Qt.UserRole


def _rate(sr: float) -> str:
    return f"{sr / 1000:g} kHz" if sr else "—"


class DeviceTable(QTableWidget):
    chosen = Signal(object)  # the stored value: AudioDevice.key, or None for the system default

    def __init__(self, kind: str, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        assert kind in ("input", "output")
        self.kind = kind
        self.devices: list = []
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        h = self.horizontalHeader()
        h.setSectionResizeMode(0, QHeaderView.Stretch)
        for c in range(1, len(COLUMNS)):
            h.setSectionResizeMode(c, QHeaderView.ResizeToContents)
        h.setDefaultAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        self.setStyleSheet(f"QTableWidget {{ background: {COLORS['plot_bg']}; alternate-background-color: "
                           f"{COLORS['panel']}; border: 1px solid {COLORS['border']}; }}"
                           f"QHeaderView::section {{ background: {COLORS['panel_alt']}; color: {COLORS['text_dim']};"
                           f" border: none; border-bottom: 1px solid {COLORS['border']}; padding: 4px 6px; }}")
        self._filling = False
        self.itemSelectionChanged.connect(self._selection_changed)

    def _channels(self, d) -> int:
        return d.max_input_channels if self.kind == "input" else d.max_output_channels

    def _is_default(self, d) -> bool:
        return d.is_default_input if self.kind == "input" else d.is_default_output

    def _add_row(self, cells: list[str], value: str | None, *, color: str | None = None, tip: str = "") -> None:
        r = self.rowCount()
        self.insertRow(r)
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setData(_KEY, value)
            if c == 4 and text:
                item.setForeground(QColor(COLORS["accent"]))
            if color:
                item.setForeground(QColor(color))
            if tip:
                item.setToolTip(tip)
            self.setItem(r, c, item)

    def fill(self, devices: list, current: str | None) -> None:
        """Show `devices` (AudioDevice, already filtered to this direction) with `current` selected."""
        self._filling = True
        try:
            self.devices = list(devices)
            self.setRowCount(0)
            default = next((d for d in devices if self._is_default(d)), None)
            follow = f"System default ({default.name})" if default else "System default"
            self._add_row([follow, default.hostapi if default else "", str(self._channels(default)) if default else "",
                           _rate(default.default_samplerate) if default else "", ""], None,
                          tip="Follow whatever the system's default device is, now and later")
            for d in devices:
                self._add_row([d.name, d.hostapi, str(self._channels(d)), _rate(d.default_samplerate),
                               "★ default" if self._is_default(d) else ""], d.key)
            row = self.row_of(current)
            if row < 0:  # saved but not connected: keep it visible and selected
                name = current.split("::", 1)[-1]
                api = current.split("::", 1)[0] if "::" in current else ""
                self._add_row([f"{name} — not connected", api, "", "", ""], current, color=COLORS["bad"],
                              tip="This device was chosen earlier but is not connected now. Plug it in and "
                                  "press Rescan, or choose another device.")
                row = self.rowCount() - 1
            self.selectRow(row)
        finally:
            self._filling = False

    def row_of(self, value: str | None) -> int:
        """Row of a stored key; a bare name (older settings) matches the first device of that name."""
        if value is None:
            return 0
        keys = [self.item(r, 0).data(_KEY) for r in range(self.rowCount())]
        if value in keys:
            return keys.index(value)
        if "::" not in value:
            return next((r for r, k in enumerate(keys) if k and k.split("::", 1)[-1] == value), -1)
        return -1

    def current_value(self) -> str | None:
        rows = self.selectionModel().selectedRows()
        return self.item(rows[0].row(), 0).data(_KEY) if rows else None

    def current_name(self) -> str:
        rows = self.selectionModel().selectedRows()
        if not rows or rows[0].row() == 0:
            default = next((d for d in self.devices if self._is_default(d)), None)
            return default.name if default else f"the default {self.kind}"
        value = self.item(rows[0].row(), 0).data(_KEY)
        return str(value).split("::", 1)[-1]

    def _selection_changed(self) -> None:
        if not self._filling and self.selectionModel().selectedRows():
            self.chosen.emit(self.current_value())
