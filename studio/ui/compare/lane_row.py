"""One lane in the Compare workspace: a switch button, what it is (hidden when blind), whether it
was heard, and its MOS ratings. Holds no identity itself: the controller sets only what may show."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QPushButton

MOS_CHOICES = ("–", "1 Bad", "2 Poor", "3 Fair", "4 Good", "5 Excellent")


def _mos_combo(what: str) -> QComboBox:
    c = QComboBox()
    for i, text in enumerate(MOS_CHOICES):
        c.addItem(f"{what}: {text}", i or None)
    c.setEnabled(False)
    return c


class LaneRow(QFrame):
    def __init__(self, index: int, parent=None):
        super().__init__(parent)
        self.setObjectName(f"lane{index}")  # position only: never the lane's identity
        self.setFrameShape(QFrame.StyledPanel)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        self.switch = QPushButton()
        self.switch.setCheckable(True)
        self.switch.setMinimumWidth(44)
        self.name = QLabel()
        self.name.setMinimumWidth(220)
        self.heard = QLabel("not heard yet")
        self.naturalness = _mos_combo("Naturalness")
        self.similarity = _mos_combo("Similarity")
        lay.addWidget(self.switch)
        lay.addWidget(self.name, 1)
        lay.addWidget(self.heard)
        lay.addWidget(self.naturalness)
        lay.addWidget(self.similarity)

    def set_played(self, played: bool) -> None:
        self.heard.setText("heard" if played else "not heard yet")
        self.naturalness.setEnabled(played)
        self.similarity.setEnabled(played)

    def scores(self) -> tuple[int | None, int | None]:
        return self.naturalness.currentData(), self.similarity.currentData()

    def clear_scores(self) -> None:
        self.naturalness.setCurrentIndex(0)
        self.similarity.setCurrentIndex(0)
