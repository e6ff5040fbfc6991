"""Provenance of the open clip in Voices: is it generated speech (the AI watermark), and what do
its content credentials (C2PA) say.

Every newly opened clip (import or recording) is checked once in the background; "Check for
watermark" checks the clip as it is now (after edits), with per-span scores for long clips. A
marked clip is flagged under the clip readouts, and saving it as a voice (or adding it to one)
asks first: cloning generated speech is cloning someone's synthetic copy.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton

from studio.ui.theme import COLORS
from studio.ui.voices.view import _panel
from studio.ui.widgets.background import run_in_background

log = logging.getLogger(__name__)

FLAG = "This audio carries an AI watermark: it was generated, not recorded."


def check_clip(samples, sample_rate, original):
    """Worker thread: (Detection, Credentials | None) of a clip and the file it came from."""
    from engine import provenance

    detection = provenance.detect_spans(samples, sample_rate)
    creds = None
    if original is not None:
        from engine.provenance.credentials import read_credentials

        try:
            creds = read_credentials(original)
        except Exception as exc:  # an unreadable manifest must not hide the watermark verdict
            log.warning("could not read content credentials of %s: %s", original, exc)
    return detection, creds


def describe(detection, creds=None) -> tuple[str, bool]:
    """(text for the panel, flagged?)."""
    lines = []
    if detection.marked:
        lines.append(f"<b>⚠ {FLAG}</b> (watermark score {detection.score:.2f})")
    else:
        lines.append(f"No AI watermark found (score {detection.score:.2f}).")
    marked_spans = [f"{a:.0f}–{b:.0f} s" for a, b, s in detection.spans if s >= 0.5]
    if detection.spans and marked_spans:
        lines.append("Marked passages: " + ", ".join(marked_spans))
    if creds is not None:
        lines.append(creds.summary())
        d = creds.details
        if d:
            lines.append(f"Model {d.get('model', '?')}, voice consent {d.get('voice_consent')}, made {d.get('created', '?')}")
    return "<br>".join(lines), detection.marked


class ClipProvenance(QObject):
    checked = Signal(object)  # Detection of the open clip

    def __init__(self, ctx, view, controller, parent=None):
        super().__init__(parent)
        self.ctx, self.view, self.controller = ctx, view, controller
        self.panel, lay = _panel("Provenance")
        self.label = QLabel("Open a clip to check it for an AI watermark.")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.RichText)
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        row = QHBoxLayout()
        self.check_button = QPushButton("Check for watermark")
        self.check_button.setToolTip("Look for the inaudible AI watermark that marks generated speech")
        row.addWidget(self.check_button)
        row.addStretch(1)
        lay.addWidget(self.label)
        lay.addLayout(row)
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
            self._show("Open a clip to check it for an AI watermark.", False)
            return
        key = (state.name, str(state.original))
        if key != self._checked_key:  # a new clip (import, recording), not an edit of this one
            self.check()

    def check(self, force: bool = False) -> None:
        state = self.controller.state
        if state is None:
            return
        self._checked_key = (state.name, str(state.original))
        if self._task is not None:
            self._task.cancel()
        self.detection = None
        self._show("Checking for an AI watermark in the background…", False)
        self.check_button.setEnabled(False)
        self._task = run_in_background(check_clip, state.samples, state.sample_rate, state.original,
                                       owner=self, on_done=lambda r, s=state: self._done(s, r),
                                       on_error=self._failed)

    def _done(self, state, result) -> None:
        self._task = None
        self.check_button.setEnabled(self.controller.state is not None)
        if state is not self.controller.state and (state.name, str(state.original)) != self._checked_key:
            return  # another clip is open now
        detection, creds = result
        self.detection = detection
        text, flagged = describe(detection, creds)
        self._show(text, flagged)
        self.checked.emit(detection)

    def _failed(self, exc: BaseException) -> None:
        self._task = None
        self.check_button.setEnabled(self.controller.state is not None)
        self._show(f"Could not check for a watermark: {exc}", False)

    def _show(self, text: str, flagged: bool) -> None:
        self.label.setText(text)
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
