"""The Synthesize workspace's watermark switch (every new take carries the inaudible AI watermark;
turning that off needs the user to read what it means and confirm) and its "Check for watermark"
action on a take of the history (button and right-click menu), which looks at the take's saved audio
in the background, whatever its recipe says."""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMenu, QMessageBox

from studio.ui.theme import COLORS
from studio.ui.widgets.watermark_check import CHECKING, WatermarkCheck, verdict

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


class TakeWatermarkCheck(QObject):
    """"Check for watermark" on the selected take; the verdict shows under the take's recipe line and
    stays with the take (reselecting it shows it again) until the workspace closes."""

    def __init__(self, view, takes, history, parent=None):
        super().__init__(parent)
        self.view, self.takes, self.history = view, takes, history
        self.checks = WatermarkCheck(self)
        self.checks.checked.connect(lambda key, _d: self._show_current())
        self.checks.failed.connect(self._failed)
        view.check_watermark_button.clicked.connect(self.check_current)
        lst = view.take_list
        lst.setContextMenuPolicy(Qt.CustomContextMenu)
        lst.customContextMenuRequested.connect(self._menu)
        shown = getattr(history, "on_current", None)  # scoring.py's; the history calls it per opened take

        def on_current():
            if shown is not None:
                shown()
            self._show_current()
        history.on_current = on_current
        self._errors: dict[str, str] = {}
        self._show_current()

    def check_current(self) -> None:
        take = self.history.current
        if take is None:
            return
        self._errors.pop(take.id, None)
        self.checks.check_file(take.id, take.audio_path)
        self._show_current()

    def menu(self) -> QMenu:
        """The history list's right-click menu (for the selected take)."""
        menu = QMenu(self.view.take_list)
        menu.addAction("Play", self.history.play)
        menu.addAction("Check for watermark", self.check_current)
        menu.addAction("Export…", self.history.export_selected)
        return menu

    def _menu(self, pos) -> None:
        if self.view.take_list.itemAt(pos) is not None:
            self.menu().exec(self.view.take_list.viewport().mapToGlobal(pos))

    def _failed(self, key, message: str) -> None:
        self._errors[key] = message
        self._show_current()

    def _show_current(self) -> None:
        take, label = self.history.current, self.view.watermark_result
        self.view.check_watermark_button.setEnabled(take is not None and not self.checks.running(take.id))
        det = self.checks.results.get(take.id) if take is not None else None
        if take is None or (det is None and not self.checks.running(take.id) and take.id not in self._errors):
            label.setVisible(False)
            label.setProperty("flagged", False)
            return
        text = CHECKING if self.checks.running(take.id) else self._errors.get(take.id) or verdict(det)
        flagged = det is not None and det.marked
        label.setText(text)
        label.setProperty("flagged", flagged)
        label.setStyleSheet(f"color:{COLORS['bad']}; font-weight:600;" if flagged else "")
        label.setVisible(True)

    def shutdown(self) -> None:
        self.checks.shutdown()
