"""Provenance of the open clip in Voices: is it generated speech (the AI watermark), and what do
its content credentials (C2PA) say.

Every newly opened clip (import or recording) is checked once in the background; "Check for
watermark" checks the clip as it is now (after edits), with per-span scores for long clips. A
marked clip is flagged under the clip readouts, and saving it as a voice (or adding it to one)
asks first: cloning generated speech is cloning someone's synthetic copy.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton

from studio.ui.theme import COLORS
from studio.ui.voices.view import _panel
from studio.ui.widgets.background import run_in_background
from studio.ui.widgets.watermark_check import FLAG, check_clip, describe  # noqa: F401  (FLAG: tests)

AUTO_CHECK_S = 180.0  # a newly opened clip is checked this far on its own (~5-10 s of CPU here)


class ClipProvenance(QObject):
    checked = Signal(object)  # Detection of the open clip

    def __init__(self, ctx, view, controller, parent=None):
        super().__init__(parent)
        self.ctx, self.view, self.controller = ctx, view, controller
        self.panel, lay = _panel("Provenance")
        self.label = QLabel("Open a clip to check it for an AI watermark.")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.credentials = QLabel("")  # what a C2PA manifest in (or beside) the file says
        self.credentials.setWordWrap(True)
        self.credentials.setObjectName("hint")
        self.credentials.setVisible(False)
        self.credentials.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.check_button = QPushButton("Check for watermark")
        self.check_button.setToolTip("Look for the inaudible AI watermark that marks generated speech")
        # The button sits in the title row: the right column is tall already (Save as voice below).
        title = lay.takeAt(0).widget()
        row = QHBoxLayout()
        row.addWidget(title)
        row.addStretch(1)
        row.addWidget(self.check_button)
        lay.addLayout(row)
        lay.addWidget(self.label)
        lay.addWidget(self.credentials)
        check = view.report_notes.parentWidget()  # right under the Reference check panel
        column = check.parentWidget().layout()
        column.insertWidget(column.indexOf(check) + 1, self.panel)
        self.check_button.clicked.connect(lambda: self.check(force=True))
        self.detection = None  # of the open clip, once known
        self._checked_key = None
        self._task = None
        # Asks before a marked clip becomes a clone reference; tests replace it.
        self.ask = lambda: QMessageBox.question(
            view, "Use generated speech as a voice?",
            f"{FLAG}\n\nCloning it copies a synthetic voice, not a person's recording. Only go on if you "
            "have permission from the person whose voice it imitates.\n\nUse this clip as a reference anyway?",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No) == QMessageBox.Yes
        controller.reference_guard = self.confirm_reference
        controller.clipChanged.connect(self._clip_changed)
        self._clip_changed()

    def _clip_changed(self) -> None:
        state = self.controller.state
        self.check_button.setEnabled(state is not None)
        if state is None:
            self.detection, self._checked_key = None, None
            self._show("Open a clip to check it for an AI watermark.")
            return
        key = (state.name, str(state.original))
        if key != self._checked_key:  # a new clip (import, recording), not an edit of this one
            self.check(limit_s=AUTO_CHECK_S)

    def check(self, force: bool = False, limit_s: float | None = None) -> None:
        """Check the open clip (the button: all of it; a new clip: its first AUTO_CHECK_S)."""
        state = self.controller.state
        if state is None:
            return
        self._checked_key = (state.name, str(state.original))
        if self._task is not None:
            self._task.cancel()
        self.detection = None
        self._show("Checking for an AI watermark in the background…")
        self.check_button.setEnabled(False)
        partial = limit_s is not None and state.duration_s > limit_s
        self._task = run_in_background(check_clip, state.samples, state.sample_rate, state.original, limit_s,
                                       owner=self, on_done=lambda r, s=state, p=partial: self._done(s, r, p),
                                       on_error=self._failed)

    def _done(self, state, result, partial: bool = False) -> None:
        self._task = None
        self.check_button.setEnabled(self.controller.state is not None)
        if state is not self.controller.state and (state.name, str(state.original)) != self._checked_key:
            return  # another clip is open now
        detection, creds = result
        self.detection = detection
        verdict, cred, flagged = describe(detection, creds)
        if partial:
            verdict += f" (first {AUTO_CHECK_S / 60:.0f} minutes checked; Check for watermark checks it all)"
        self._show(verdict, cred, flagged)
        self.checked.emit(detection)

    def _failed(self, exc: BaseException) -> None:
        self._task = None
        self.check_button.setEnabled(self.controller.state is not None)
        self._show(f"Could not check for a watermark: {exc}")

    def _show(self, text: str, credentials: str = "", flagged: bool = False) -> None:
        self.label.setText(text)
        self.credentials.setText(credentials)
        self.credentials.setVisible(bool(credentials))
        self.label.setStyleSheet(f"color:{COLORS['bad']}; font-weight:600;" if flagged else "")
        self.label.setProperty("flagged", flagged)

    def confirm_reference(self) -> bool:
        """Saving the open clip as (part of) a voice: a marked clip needs the user's yes."""
        if self.detection is None or not self.detection.marked:
            return True
        return bool(self.ask())

    def shutdown(self) -> None:
        if self._task is not None:
            self._task.cancel()
