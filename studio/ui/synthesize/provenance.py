"""The Synthesize workspace's watermark switch: every new take carries the inaudible AI watermark;
turning that off needs the user to read what it means and confirm."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox

OFF_TITLE = "Turn off the AI watermark?"
OFF_TEXT = (
    "New takes will be saved without the inaudible watermark that marks them as generated speech.\n\n"
    "Without it, nothing in the audio (or in any file exported from it, once its tags are stripped) "
    "shows that it was made by a machine: a listener, a platform or a detector cannot tell it from a "
    "real recording of this voice. Takes already made keep their mark.\n\n"
    "Turn the watermark off for new takes?")


class WatermarkSwitch(QObject):
    changed = Signal(bool)

    def __init__(self, ctx, checkbox, parent=None):
        super().__init__(parent)
        self.ctx, self.box = ctx, checkbox
        # Asks before turning marking off; tests replace it.
        self.confirm_off = lambda: QMessageBox.warning(
            checkbox, OFF_TITLE, OFF_TEXT, QMessageBox.Yes | QMessageBox.Cancel,
            QMessageBox.Cancel) == QMessageBox.Yes
        checkbox.setChecked(bool(getattr(ctx.settings, "watermark_takes", True)))
        checkbox.setToolTip("An inaudible watermark (Perth) in every new take, so it can be recognised as "
                            "generated speech; `mynah detect` and the Voices workspace find it.")
        checkbox.toggled.connect(self._toggled)

    def _toggled(self, on: bool) -> None:
        if not on and not self.confirm_off():
            self.box.blockSignals(True)
            self.box.setChecked(True)
            self.box.blockSignals(False)
            return
        self.ctx.settings.watermark_takes = bool(on)
        self.changed.emit(bool(on))
