"""One lane in the Compare workspace: a switch button, what it is (hidden when blind), its waveform
(hidden when blind), whether it was heard, and its MOS ratings. Holds no identity itself: the
controller sets only what may show."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QComboBox, QFrame, QGridLayout, QLabel, QPushButton, QSizePolicy, QWidget

from studio.ui.theme import COLORS

MOS_CHOICES = ("–", "1 Bad", "2 Poor", "3 Fair", "4 Good", "5 Excellent")


def _mos_combo(what: str) -> QComboBox:
    c = QComboBox()
    for i, text in enumerate(MOS_CHOICES):
        c.addItem(f"{what}: {text}", i or None)
    c.setEnabled(False)
    return c


class ElidedLabel(QLabel):
    """A one-line label that ends in "…" when the window is narrow; the full text is its tooltip."""

    def setText(self, text: str) -> None:  # noqa: N802 (Qt name)
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(80, super().minimumSizeHint().height())

    def paintEvent(self, _ev) -> None:  # noqa: N802
        p = QPainter(self)
        r = self.contentsRect()
        p.setPen(self.palette().color(self.foregroundRole()))
        p.drawText(r, Qt.AlignVCenter | Qt.AlignLeft, self.fontMetrics().elidedText(self.text(), Qt.ElideRight, r.width()))


class LaneWave(QWidget):
    """A lane's min/max envelope on the comparison's common time scale, with the shared playhead."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFixedHeight(30)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self._env: np.ndarray | None = None  # [bins, 2] min/max, bins spanning `_frac` of the width
        self._frac = 1.0
        self._head = 0.0  # playhead as a fraction of the common duration
        self.active = False

    def set_audio(self, audio: np.ndarray | None, sr: int, total_s: float, bins: int = 400) -> None:
        if audio is None or len(audio) == 0 or total_s <= 0:
            self._env = None
        else:
            x = np.asarray(audio, np.float32)
            n = max(1, len(x) // bins)
            x = x[:n * (len(x) // n)].reshape(-1, n)  # [bins, n]
            self._env = np.stack([x.min(axis=1), x.max(axis=1)], axis=1)
            self._frac = min(1.0, len(audio) / sr / total_s)
        self.update()

    def set_playhead(self, fraction: float) -> None:
        if abs(fraction - self._head) > 1e-4:
            self._head = fraction
            self.update()

    def paintEvent(self, _ev) -> None:  # noqa: N802
        p = QPainter(self)
        w, h = self.width(), self.height()
        p.fillRect(self.rect(), QColor(COLORS["plot_bg"]))
        if self._env is None:
            return
        env, mid = self._env, h / 2
        peak = 0.5  # one scale for every lane (they are loudness-matched): louder looks louder
        p.setPen(QPen(QColor(COLORS["wave"] if self.active else COLORS["accent_dim"]), 1))
        xs = np.linspace(0, w * self._frac, len(env), endpoint=False)
        env = np.clip(env, -peak, peak)
        for x, (lo, hi) in zip(xs, env):
            p.drawLine(QPointF(x, mid - hi / peak * (mid - 2)), QPointF(x, mid - lo / peak * (mid - 2)))
        p.setPen(QPen(QColor(COLORS["playhead"]), 1))
        p.drawLine(QPointF(self._head * w, 0), QPointF(self._head * w, h))
        p.setPen(QPen(QColor(COLORS["border"]), 1))
        p.drawRect(QRectF(0, 0, w - 1, h - 1))


class LaneRow(QFrame):
    def __init__(self, index: int, parent=None):
        super().__init__(parent)
        self.setObjectName(f"lane{index}")  # position only: never the lane's identity
        self.setFrameShape(QFrame.StyledPanel)
        lay = QGridLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setVerticalSpacing(3)
        self.switch = QPushButton()
        self.switch.setCheckable(True)
        self.switch.setMinimumWidth(44)
        self.switch.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Expanding)
        self.name = ElidedLabel()
        self.wave = LaneWave()
        self.heard = QLabel("not heard yet")
        self.naturalness = _mos_combo("Naturalness")
        self.similarity = _mos_combo("Similarity")
        lay.addWidget(self.switch, 0, 0, 2, 1)
        lay.addWidget(self.name, 0, 1)
        lay.addWidget(self.heard, 0, 2)
        lay.addWidget(self.naturalness, 0, 3)
        lay.addWidget(self.similarity, 0, 4)
        lay.addWidget(self.wave, 1, 1, 1, 4)
        # "Check for watermark" (wired by compare/watermark.py): a verdict on the lane's audio only.
        self.check_watermark = QPushButton("Check for watermark")
        self.check_watermark.setToolTip("Look for the inaudible AI watermark in the audio this lane plays")
        self.watermark = QLabel("")
        self.watermark.setWordWrap(True)
        self.watermark.setVisible(False)
        lay.addWidget(self.check_watermark, 1, 5)
        lay.addWidget(self.watermark, 2, 1, 1, 5)
        lay.setColumnStretch(1, 1)

    def set_played(self, played: bool) -> None:
        self.heard.setText("heard" if played else "not heard yet")
        self.naturalness.setEnabled(played)
        self.similarity.setEnabled(played)

    def scores(self) -> tuple[int | None, int | None]:
        return self.naturalness.currentData(), self.similarity.currentData()

    def clear_scores(self) -> None:
        self.naturalness.setCurrentIndex(0)
        self.similarity.setCurrentIndex(0)
