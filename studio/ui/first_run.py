"""The guided first run: a non-modal welcome that detects the machine, then walks through a first
reference voice, the model that suits this machine (licence and token steps when it is gated) and a
first take. Shown once on first start (`Settings.first_run_done`), skippable at every step, and
reachable again from Help ▸ Getting started. Each step's button opens the workspace that does it;
the guide stays open beside the window. Hardware detection runs on a worker thread."""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDialog, QFrame, QHBoxLayout, QLabel, QPushButton, QStackedWidget,
                               QVBoxLayout, QWidget)

from studio.ui.theme import COLORS
from studio.ui.widgets.background import run_in_background

log = logging.getLogger(__name__)
STEPS = ("Welcome", "Your voice", "A model", "First take")


def _label(text: str = "", *, rich: bool = False, muted: bool = False) -> QLabel:
    lab = QLabel(text)
    lab.setWordWrap(True)
    lab.setTextFormat(Qt.RichText if rich else Qt.PlainText)
    lab.setTextInteractionFlags(Qt.TextSelectableByMouse | Qt.LinksAccessibleByMouse)
    lab.setOpenExternalLinks(True)
    if muted:
        lab.setStyleSheet(f"color: {COLORS['text_dim']};")
    return lab


def _page(title: str, *widgets: QWidget) -> QWidget:
    w = QWidget()
    lay = QVBoxLayout(w)
    head = QLabel(title)
    head.setStyleSheet("font-size: 17px; font-weight: 600;")
    lay.addWidget(head)
    for x in widgets:
        lay.addWidget(x)
    lay.addStretch(1)
    return w


class FirstRunGuide(QDialog):
    """`window`: the MainWindow (show_workspace, import_dialog, toggle_record)."""

    hardwareShown = Signal()  # the machine's facts and the model recommendation are on screen

    def __init__(self, window, parent=None):
        super().__init__(parent or window)
        self.window = window
        self.hardware = None
        self.recommendation = None
        self.setWindowTitle("Welcome to Mynah")
        self.setModal(False)
        self.resize(600, 440)
        lay = QVBoxLayout(self)
        self.crumbs = QLabel()
        self.crumbs.setStyleSheet(f"color: {COLORS['text_dim']};")
        lay.addWidget(self.crumbs)
        self.stack = QStackedWidget()
        lay.addWidget(self.stack, 1)
        self._build_pages()
        line = QFrame()
        line.setFrameShape(QFrame.HLine)
        lay.addWidget(line)
        nav = QHBoxLayout()
        self.skip_button = QPushButton("Skip the guide")
        self.back_button = QPushButton("Back")
        self.next_button = QPushButton("Next")
        self.next_button.setDefault(True)
        nav.addWidget(self.skip_button)
        nav.addStretch(1)
        nav.addWidget(self.back_button)
        nav.addWidget(self.next_button)
        lay.addLayout(nav)
        self.skip_button.clicked.connect(self.close)
        self.back_button.clicked.connect(lambda: self.go(self.stack.currentIndex() - 1))
        self.next_button.clicked.connect(self._next)
        self.go(0)
        data_dir = window.ctx.paths.home
        run_in_background(_detect, data_dir, on_done=self._show_hardware, on_error=self._hardware_failed,
                          owner=self)

    # ---- pages ---------------------------------------------------------------------------
    def _build_pages(self) -> None:
        self.hardware_label = _label("Checking this machine…")
        self.stack.addWidget(_page(
            "Welcome to Mynah",
            _label("Mynah clones a voice from a short recording, lets you compare takes side by side, "
                   "and records datasets. Four steps get you from nothing to a first take; skip any "
                   "of them, and find this guide again under Help ▸ Getting started."),
            self.hardware_label))

        self.record_button = QPushButton("Record in Voices")
        self.import_button = QPushButton("Import a recording…")
        self.record_button.clicked.connect(self._record)
        self.import_button.clicked.connect(self._import)
        row = QWidget()
        rl = QHBoxLayout(row)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.record_button)
        rl.addWidget(self.import_button)
        rl.addStretch(1)
        self.stack.addWidget(_page(
            "A reference voice",
            _label("About 10 seconds of natural speech in one voice, in a quiet room, clones best "
                   "(5-15 s works). Record it here, or import one: WAV, FLAC, MP3, a phone memo "
                   "(.m4a), a screen or browser recording (.mp4, .webm)..."),
            row,
            self._status_label("voice"),
            _label("In Voices, trim it to the best 10 s, press Check clip, let Transcribe write "
                   "what is said (correct it if needed), tick the permission box and Save voice. "
                   "R starts and stops a recording.", muted=True)))

        self.model_label = _label("Checking this machine…", rich=True)
        self.models_button = QPushButton("Open the Models workspace")
        self.models_button.clicked.connect(self._open_models)
        self.stack.addWidget(_page("A model for this machine", self.model_label, self.models_button,
                                   self._status_label("model")))

        self.synth_button = QPushButton("Open Synthesize")
        self.synth_button.clicked.connect(lambda: self.window.show_workspace("Synthesize"))
        self.stack.addWidget(_page(
            "Hear a first take",
            _label("In Synthesize, choose the model and your voice, type a sentence and press "
                   "Generate. The take plays while it is being made; keep it, make another with a "
                   "new seed, or compare several in Compare."),
            self._status_label("take"),
            self.synth_button))

    def _status_label(self, key: str) -> QLabel:
        lab = _label()
        self.status_labels = getattr(self, "status_labels", {})
        self.status_labels[key] = lab
        return lab

    def refresh_status(self) -> dict[str, bool]:
        """What is done already (a saved voice, an installed model), shown on each step. A few
        file stats and one SQLite query: cheap enough for the GUI thread."""
        from engine.hub.local import installed_models
        from studio.ui.models.controller import models_root

        ctx = self.window.ctx
        voices = [v.name for v in ctx.voices.list()]
        installed = [m.entry for m in installed_models(models_root(ctx)) if m.complete]
        ok, todo = f"<span style='color:{COLORS['ok']}'>✓</span>", "○"
        lab = self.status_labels
        lab["voice"].setTextFormat(Qt.RichText)
        lab["voice"].setText(f"{ok} Saved: {', '.join(voices[:3])}{'…' if len(voices) > 3 else ''}" if voices
                             else f"{todo} No voice saved yet.")
        lab["model"].setTextFormat(Qt.RichText)
        lab["model"].setText(f"{ok} Installed: {', '.join(e.name for e in installed)}" if installed
                             else f"{todo} No model installed yet.")
        lab["take"].setTextFormat(Qt.RichText)
        ready = bool(voices and installed)
        lab["take"].setText(f"{ok} You have a voice and a model: ready for a first take." if ready else
                            f"{todo} A first take needs a saved voice and an installed model"
                            f" (missing: {' and '.join(w for w, have in (('a voice', voices), ('a model', installed)) if not have)}).")
        return {"voice": bool(voices), "model": bool(installed)}

    def go(self, index: int) -> None:
        index = max(0, min(index, self.stack.count() - 1))
        self.refresh_status()
        self.stack.setCurrentIndex(index)
        self.crumbs.setText("  ›  ".join(f"<b>{s}</b>" if i == index else s for i, s in enumerate(STEPS)))
        self.crumbs.setTextFormat(Qt.RichText)
        self.back_button.setEnabled(index > 0)
        self.next_button.setText("Finish" if index == self.stack.count() - 1 else "Next")

    def _next(self) -> None:
        if self.stack.currentIndex() == self.stack.count() - 1:
            self.close()
        else:
            self.go(self.stack.currentIndex() + 1)

    # ---- actions -------------------------------------------------------------------------
    def _record(self) -> None:
        if self.window.show_workspace("Voices") is not None:
            self.window.toggle_record()

    def _import(self) -> None:
        self.window.import_dialog()

    def _open_models(self) -> None:
        ws = self.window.show_workspace("Models")
        if ws is not None and self.recommendation is not None and hasattr(ws, "select_model"):
            ws.select_model(self.recommendation.entry.model_id)

    # ---- hardware ------------------------------------------------------------------------
    def _show_hardware(self, result) -> None:
        self.hardware, self.recommendation = result
        self.hardware_label.setText("\n".join(self.hardware.summary_lines()))
        r = self.recommendation
        e = r.entry
        steps = "".join(f"<li>{_linked(s)}</li>" for s in r.steps)
        warn = "".join(f"<p style='color:{COLORS['warn']}'>{w}</p>" for w in r.warnings)
        gated = "gated: a free Hugging Face account and token are needed" if e.gated else "open download"
        self.model_label.setText(
            f"<p><b>{e.name}</b> · ~{_size(e.size_bytes)} · licence {e.licence} · {gated}</p>"
            f"<p>{r.why}</p><ol>{steps}</ol>{warn}")
        self.hardwareShown.emit()

    def _hardware_failed(self, exc: BaseException) -> None:
        log.warning("hardware detection failed: %s", exc)
        self.hardware_label.setText(f"Could not check this machine ({exc}). Everything still works.")
        self.model_label.setText("Open the Models workspace to download or import a model.")
        self.hardwareShown.emit()


def _linked(text: str) -> str:
    """Plain text with its https:// addresses as links (a trailing full stop stays text)."""
    import html
    import re

    return re.sub(r"(https://[^\s]+?)(?=[.,)]?(?:\s|$))", r'<a href="\1">\1</a>', html.escape(text, quote=False))


def _size(n: int) -> str:
    from engine.hub.catalog import human_size

    return human_size(n)


def _detect(data_dir):
    """Worker thread: the machine's facts and the recommendation (nvidia-smi may take ~0.1 s)."""
    from studio.core.hardware import detect_hardware, recommend_model

    hw = detect_hardware(data_dir)
    return hw, recommend_model(hw)
