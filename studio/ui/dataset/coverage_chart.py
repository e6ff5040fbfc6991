"""Phoneme coverage chart: per ARPABET phone, occurrences in the script vs in what is recorded."""
from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QWidget

from engine.text.phonemes import ARPABET, Coverage
from studio.ui.theme import COLORS


class CoverageChart(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("coverageChart")
        self.script: Coverage | None = None
        self.recorded: Coverage | None = None
        self.setMinimumHeight(120)
        self.setToolTip("Phoneme coverage (CMU dictionary): grey = in the script, teal = recorded so far. "
                        "Bars use a log scale; red labels are phones nothing recorded covers yet.")

    def sizeHint(self) -> QSize:
        return QSize(700, 150)

    def set_coverage(self, script: Coverage, recorded: Coverage) -> None:
        self.script, self.recorded = script, recorded
        self.update()

    def paintEvent(self, _ev) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(COLORS["plot_bg"]))
        if self.script is None:
            p.setPen(QColor(COLORS["text_dim"]))
            p.drawText(self.rect(), Qt.AlignCenter, "Phoneme coverage of the script appears here")
            return
        n = len(ARPABET)
        w = (self.width() - 20) / n
        h = self.height() - 34
        top = max(1, max(self.script.counts.values(), default=1))
        scale = lambda c: h * math.log1p(c) / math.log1p(top)  # noqa: E731 - tiny local helper
        for i, ph in enumerate(ARPABET):
            x = 10 + i * w
            sc, rc = self.script.counts[ph], self.recorded.counts[ph] if self.recorded else 0
            p.fillRect(QRectF(x + 1, 10 + h - scale(sc), w - 2, scale(sc)), QColor(COLORS["border"]))
            p.fillRect(QRectF(x + 3, 10 + h - scale(rc), w - 6, scale(rc)), QColor(COLORS["accent"]))
            p.setPen(QColor(COLORS["bad"] if rc == 0 else COLORS["text_dim"]))
            p.save()
            p.translate(x + w / 2 + 4, self.height() - 2)
            p.rotate(-90)
            p.drawText(0, 0, ph)
            p.restore()
        rec = self.recorded.summary() if self.recorded else "nothing recorded"
        p.setPen(QColor(COLORS["text"]))
        p.drawText(QRectF(10, 0, self.width() - 20, 14), Qt.AlignLeft, f"Recorded: {rec}")
