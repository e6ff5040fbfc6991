"""Voices: "Is this clip good enough to clone?" Scores the open reference clip in the background
through the engine (DNSMOS + QC + ASR transcript; no WER or similarity: there is nothing to compare
it with yet) and shows the verdict next to the Reference check panel. "Transcribe" fills the
transcript field with what ASR heard; text the user typed is never replaced without asking.

Kept out of controller.py/view.py (owned by the Voices area): this module finds its place in the
view's right column and reads the controller's `state` / `clipChanged`.
"""
from __future__ import annotations

import html
import itertools

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout

from studio.ui.eval_client import EvalClient, ScoreRequest
from studio.ui.widgets.score_view import AMBER, GREEN, RED

_ids = itertools.count(1)


def verdict(scores) -> tuple[str, str]:
    """(colour, sentence): is the clip fit to clone from? DNSMOS OVRL ~3+ is clean studio speech."""
    problems = list(scores.qc.issues)
    d = scores.dnsmos
    if d is None:
        problems.append(scores.not_scorable.get("dnsmos", "quality not scorable"))
    elif d.ovr < 2.6:
        problems.append(f"sounds noisy or degraded (DNSMOS {d.ovr:.2f})")
    elif d.bak < 3.0:
        problems.append(f"background noise (DNSMOS bak {d.bak:.2f})")
    if scores.duration_s < 3:
        problems.append("shorter than 3 s: the voice may not carry over")
    if not problems:
        return GREEN, "Good enough to clone."
    colour = RED if (d is None or d.ovr < 2.6 or "silent" in " ".join(problems)) else AMBER
    return colour, "Usable, but: " + "; ".join(problems) if colour == AMBER else "Not recommended: " + "; ".join(problems)


class ClipScoresPanel(QFrame):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("panel")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 10)
        lay.setSpacing(6)
        title = QLabel("Good enough to clone?".upper())  # styled like the view's other panels
        title.setObjectName("panelTitle")
        lay.addWidget(title)
        row = QHBoxLayout()
        self.check_button = QPushButton("Check clip")
        self.check_button.setToolTip("Score the clip in the background: DNSMOS quality, signal QC, ASR transcript")
        self.transcribe_button = QPushButton("Transcribe")
        self.transcribe_button.setToolTip("Fill the transcript with what speech recognition hears (edit it after)")
        row.addWidget(self.check_button)
        row.addWidget(self.transcribe_button)
        lay.addLayout(row)
        self.verdict = QLabel("Open a clip, then Check clip.")
        self.verdict.setWordWrap(True)
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.asr_label = QLabel("")  # which ASR, and "low accuracy" for pocketsphinx
        self.asr_label.setWordWrap(True)
        for w in (self.verdict, self.details, self.asr_label):
            lay.addWidget(w)


class ClipScoring(QObject):
    checked = Signal(object)  # TakeScores of the open clip
    transcribed = Signal(str)  # the ASR text, once handled (filled, or kept aside)

    def __init__(self, ctx, view, controller, parent=None):
        super().__init__(parent)
        self.ctx, self.view, self.controller = ctx, view, controller
        self.client = EvalClient(ctx, self)
        self.panel = ClipScoresPanel()
        self._place(view)
        self._jobs: dict[str, tuple[str, object]] = {}  # key -> (what, clip state at submit)
        self._filled: str | None = None  # the text we last put in the field (not the user's)
        # Asks before replacing typed text; tests replace it.
        self.ask = lambda text: QMessageBox.question(
            view, "Replace the transcript?", "The transcript field has text you typed. Replace it with what "
            f"speech recognition heard?\n\n“{text}”") == QMessageBox.StandardButton.Yes
        self.panel.check_button.clicked.connect(lambda: self._submit("check"))
        self.panel.transcribe_button.clicked.connect(lambda: self._submit("transcribe"))
        self.client.scored.connect(self._scored)
        self.client.failed.connect(self._failed)
        controller.clipChanged.connect(self._clip_changed)
        self._clip_changed()

    def _place(self, view) -> None:
        """Right under the Reference check panel (its frame holds `report_notes`)."""
        check = view.report_notes.parentWidget()
        column = check.parentWidget().layout()
        column.insertWidget(column.indexOf(check) + 1, self.panel)

    def _clip_changed(self) -> None:
        has = self.controller.state is not None
        self.panel.check_button.setEnabled(has)
        self.panel.transcribe_button.setEnabled(has)
        self.panel.verdict.setText("Check clip scores it in the background." if has else "Open a clip, then Check clip.")
        self.panel.verdict.setStyleSheet("")
        self.panel.details.setText("")

    def _submit(self, what: str) -> None:
        state = self.controller.state
        if state is None:
            return
        key = f"clip-{next(_ids)}"
        self._jobs[key] = (what, state)
        metrics = ("dnsmos",) if what == "check" else ()
        self.client.submit(ScoreRequest(key, state.samples, state.sample_rate, metrics=metrics, transcribe=True))
        button = self.panel.check_button if what == "check" else self.panel.transcribe_button
        button.setEnabled(False)
        if what == "check":
            self.panel.verdict.setText("Checking in the background…")
        else:
            self.panel.asr_label.setText("Transcribing in the background…")

    def _scored(self, key: str, scores) -> None:
        what, state = self._jobs.pop(key, (None, None))
        if what is None:
            return
        (self.panel.check_button if what == "check" else self.panel.transcribe_button).setEnabled(
            self.controller.state is not None)
        if state is not self.controller.state:
            return  # the user opened or edited another clip meanwhile
        self._show_asr(scores)
        if what == "check":
            self._show_check(scores)
            self.checked.emit(scores)
        else:
            self._fill_transcript(scores)

    def _failed(self, key: str, message: str) -> None:
        what, _ = self._jobs.pop(key, (None, None))
        if what is not None:
            self.panel.check_button.setEnabled(self.controller.state is not None)
            self.panel.transcribe_button.setEnabled(self.controller.state is not None)
            self.panel.verdict.setText(f"Could not score the clip: {message}")
            self.panel.verdict.setStyleSheet(f"color: {RED};")

    def _show_check(self, scores) -> None:
        colour, text = verdict(scores)
        self.panel.verdict.setText(text)
        self.panel.verdict.setStyleSheet(f"color: {colour};")
        d, q = scores.dnsmos, scores.qc
        parts = []
        if d is not None:
            parts.append(f"DNSMOS ovr {d.ovr:.2f} · sig {d.sig:.2f} · bak {d.bak:.2f} · p808 {d.p808:.2f}")
        parts.append(f"QC: {'; '.join(q.issues) if q.issues else 'no issues'}")
        for metric, reason in scores.not_scorable.items():
            parts.append(f"{metric}: {reason}")
        if scores.hypothesis:
            parts.append(f"Heard: “{scores.hypothesis}”")
        self.panel.details.setText("<br>".join(html.escape(p) for p in parts))

    def _show_asr(self, scores) -> None:
        tr = scores.transcript
        if tr is None:
            reason = scores.not_scorable.get("asr", "")
            self.panel.asr_label.setText(f"Speech recognition heard nothing{': ' + reason if reason else ''}.")
            return
        label = f"ASR: {tr.engine} ({tr.model})"
        if tr.low_accuracy:
            label += " · low accuracy: check every word"
        self.panel.asr_label.setText(label)

    def _fill_transcript(self, scores) -> None:
        tr = scores.transcript
        if tr is None or not tr.text.strip():
            return
        text = tr.text.strip()
        field = self.view.transcript_edit
        current = field.toPlainText().strip()
        if current and current != self._filled and current != text and not self.ask(text):
            self.panel.asr_label.setText(self.panel.asr_label.text() + f" · heard “{text}” (your text kept)")
        else:
            field.setPlainText(text)
            self._filled = text
        self.transcribed.emit(text)

    def shutdown(self) -> None:
        self.client.cancel_all()
