""""Check for watermark" on each lane of a comparison.

What is checked is the audio the lane plays (resampled, loudness-matched), never the take's recipe
or file, so a verdict says only what a listener's own detector would find in that audio. In a blind
test the score is shown to one decimal: scores sit near 0 or 1, and two decimals (0.97 vs 0.98)
could tie a blind lane to a take checked before the test. Results are dropped when a blind test
starts, so nothing checked with names showing carries over to the lettered lanes. A generated lane
and a real recording still differ (flagged / not): that is what the audio itself carries.
"""
from __future__ import annotations

from PySide6.QtCore import QObject

from studio.ui.theme import COLORS
from studio.ui.widgets.watermark_check import CHECKING, WatermarkCheck, verdict


class LaneWatermark(QObject):
    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.c = controller
        self.checks = WatermarkCheck(self)  # keyed by the lane's item key (never shown)
        self.checks.checked.connect(lambda *_: self._show())
        self.checks.failed.connect(self._failed)
        self._errors: dict[str, str] = {}
        self._blind = controller.blind
        controller.rowsBuilt.connect(self._rows_built)
        self._rows_built()

    def check(self, i: int) -> None:
        if not (0 <= i < len(self.c.lanes)):
            return
        lane = self.c.lanes[i]
        self._errors.pop(lane.item.key, None)
        self.checks.check_audio(lane.item.key, lane.audio, lane.sample_rate)
        self._show()

    def _rows_built(self) -> None:
        if self.c.blind and not self._blind:  # a blind test starts: results checked with names showing go
            self.checks.forget()
            self._errors.clear()
        self._blind = self.c.blind
        for i, row in enumerate(self.c.rows):
            row.check_watermark.clicked.connect(lambda _=False, i=i: self.check(i))
        self._show()

    def _failed(self, key, message: str) -> None:
        self._errors[key] = message
        self._show()

    def _show(self) -> None:
        for lane, row in zip(self.c.lanes, self.c.rows):
            key = lane.item.key
            det = self.checks.results.get(key)
            running = self.checks.running(key)
            row.check_watermark.setEnabled(not running)
            if det is None and not running and key not in self._errors:
                row.watermark.setVisible(False)
                continue
            text = CHECKING if running else self._errors.get(key) or verdict(det, coarse=self.c.blind)
            flagged = det is not None and det.marked
            row.watermark.setText(text)
            row.watermark.setProperty("flagged", flagged)
            row.watermark.setStyleSheet(f"color:{COLORS['bad']}; font-weight:600;" if flagged else "")
            row.watermark.setVisible(True)

    def shutdown(self) -> None:
        self.checks.shutdown()
