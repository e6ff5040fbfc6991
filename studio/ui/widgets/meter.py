"""Input level meter: RMS bar, peak-hold tick, latched clip LED, overflow count.

A QTimer pulls the source (e.g. `Recorder.level`) at display rate; the audio callback never
touches the GUI. Click the meter to reset the clip LED.
"""
from __future__ import annotations

import time
from typing import Any, Callable

from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QLinearGradient, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from studio.ui.theme import COLORS

FLOOR_DB = -60.0
PEAK_HOLD_S = 1.5


class _Bar(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.rms_db = FLOOR_DB
        self.peak_db = FLOOR_DB
        self.hold_db = FLOOR_DB
        self.setMinimumSize(100, 14)

    def sizeHint(self) -> QSize:
        return QSize(220, 16)

    def _x(self, db: float, w: float) -> float:
        return max(0.0, min(1.0, (db - FLOOR_DB) / -FLOOR_DB)) * w

    def paintEvent(self, _ev):
        p = QPainter(self)
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.fillRect(r, QColor(COLORS["plot_bg"]))
        grad = QLinearGradient(r.left(), 0, r.right(), 0)
        grad.setColorAt(0.0, QColor(COLORS["ok"]))
        grad.setColorAt(0.75, QColor(COLORS["ok"]))  # -15 dBFS
        grad.setColorAt(0.9, QColor(COLORS["warn"]))  # -6 dBFS
        grad.setColorAt(1.0, QColor(COLORS["bad"]))
        w = r.width()
        p.fillRect(QRectF(r.left(), r.top() + 2, self._x(self.rms_db, w), r.height() - 4), grad)
        p.setOpacity(0.45)
        p.fillRect(QRectF(r.left(), r.top() + 2, self._x(self.peak_db, w), r.height() - 4), grad)
        p.setOpacity(1.0)
        p.setPen(QColor(COLORS["text"]))
        hx = r.left() + self._x(self.hold_db, w)
        p.drawLine(int(hx), int(r.top()), int(hx), int(r.bottom()))
        p.setPen(QColor(COLORS["border"]))
        for db in (-48, -36, -24, -18, -12, -6, -3):
            x = r.left() + self._x(db, w)
            p.drawLine(int(x), int(r.bottom() - 3), int(x), int(r.bottom()))
        p.drawRect(r)


class LevelMeter(QWidget):
    def __init__(self, parent=None, *, rate_hz: int = 30):
        super().__init__(parent)
        self.bar = _Bar(self)
        self.clip_led = QLabel("CLIP")
        self.clip_led.setAlignment(Qt.AlignCenter)
        self.clip_led.setFixedWidth(40)
        self.clip_led.setToolTip("Lit when the input clipped since the last reset. Click the meter to reset.")
        self.readout = QLabel("—")
        self.readout.setObjectName("readoutValue")
        self.readout.setFixedWidth(78)
        self.overflow_label = QLabel("")
        self.overflow_label.setObjectName("hint")
        self.overflow_label.setToolTip("Audio blocks lost because the computer could not keep up")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addWidget(self.bar, 1)
        lay.addWidget(self.readout)
        lay.addWidget(self.clip_led)
        lay.addWidget(self.overflow_label)
        self.clipped = False
        self.overflows = 0
        self._hold_t = 0.0
        self._source: Callable[[], Any] | None = None
        self._overflow_source: Callable[[], int] | None = None
        self._timer = QTimer(self, interval=int(1000 / rate_hz))
        self._timer.timeout.connect(self._poll)
        self._set_clip(False)

    def set_source(self, level: Callable[[], Any] | None, overflows: Callable[[], int] | None = None) -> None:
        """`level()` returns an object with rms_dbfs, peak_dbfs, clipped (LevelReading) or None."""
        self._source, self._overflow_source = level, overflows
        if level is None:
            self._timer.stop()
            self.set_level(FLOOR_DB, FLOOR_DB, False)
        else:
            self._timer.start()

    def _poll(self) -> None:
        try:
            reading = self._source() if self._source else None
            over = self._overflow_source() if self._overflow_source else 0
        except Exception:  # a vanished device must not spam; the owner reports the error
            self.set_source(None)
            return
        if reading is not None:
            self.set_level(reading.rms_dbfs, reading.peak_dbfs, reading.clipped)
        self.set_overflows(int(over or 0))

    def set_level(self, rms_dbfs: float, peak_dbfs: float, clipped: bool) -> None:
        b = self.bar
        b.rms_db = max(FLOOR_DB, rms_dbfs)
        b.peak_db = max(FLOOR_DB, peak_dbfs)
        now = time.monotonic()
        if b.peak_db >= b.hold_db or now - self._hold_t > PEAK_HOLD_S:
            b.hold_db, self._hold_t = b.peak_db, now
        self.readout.setText(f"{peak_dbfs:6.1f} dB" if peak_dbfs > FLOOR_DB else "  -inf dB")
        if clipped:
            self._set_clip(True)
        b.update()

    def set_overflows(self, n: int) -> None:
        self.overflows = n
        self.overflow_label.setText(f"{n} overflow{'s' if n != 1 else ''}" if n else "")
        self.overflow_label.setStyleSheet(f"color: {COLORS['warn']};" if n else "")

    def _set_clip(self, on: bool) -> None:
        self.clipped = on
        bg = COLORS["bad"] if on else COLORS["panel_alt"]
        fg = "white" if on else COLORS["text_dim"]
        self.clip_led.setStyleSheet(f"background:{bg}; color:{fg}; border-radius:3px; font-size:8pt;"
                                    " font-weight:600; padding:1px;")

    def mousePressEvent(self, ev):
        self._set_clip(False)
        self.bar.hold_db = FLOOR_DB
        super().mousePressEvent(ev)
