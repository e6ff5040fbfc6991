"""Design a voice from a written description (Qwen3-TTS VoiceDesign), audition a few seeds, keep one.

The kept audition becomes a Voice whose clip is that audio and whose transcript is the sample text,
marked as designed (`Voice.designed` holds the description): no person was recorded, so the consent
tick does not apply. Generation runs on the engine thread through the shared bridge, never here.
"""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout)

SAMPLE_TEXT = "Hello! This is the voice you described, reading a short sentence so you can hear it."


def design_models(ctx) -> list[tuple[str, Path]]:
    """(name, folder) of every installed Qwen3-TTS VoiceDesign model."""
    from engine.hub.local import installed_models
    from studio.core.asr_choice import models_root
    from studio.ui.synthesize.model_choice import qwen3_kind

    out = []
    for m in installed_models(models_root(ctx.settings, ctx.paths), kind="tts"):
        if m.complete and m.entry.backend == "qwen3" and qwen3_kind(m.path)[0] == "voice_design":
            out.append((m.entry.name, Path(m.path)))
    return out


class DesignVoiceDialog(QDialog):
    kept = Signal(int)  # the new voice's id
    auditioned = Signal()  # every audition of a click is back (or failed)
    extra_models: list[tuple[str, Path]] = []  # (name, folder) beside the installed ones (tests, imports)

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Design a voice")
        self.model_combo = QComboBox()
        for name, folder in [*design_models(ctx), *self.extra_models]:
            self.model_combo.addItem(name, (name, Path(folder)))
        self.description = QPlainTextEdit()
        self.description.setPlaceholderText("A warm, low female voice, slow, with a slight rasp")
        self.description.setMaximumHeight(80)
        self.sample_text = QLineEdit(SAMPLE_TEXT)
        self.sample_text.setToolTip("What the auditions say; kept as the new voice's transcript")
        self.seeds = QSpinBox()
        self.seeds.setRange(1, 8)
        self.seeds.setValue(3)
        self.audition_button = QPushButton("Audition")
        self.auditions = QListWidget()
        self.play_button = QPushButton("Play")
        self.name = QLineEdit()
        self.name.setPlaceholderText("Name of the new voice")
        self.keep_button = QPushButton("Keep as voice")
        self.message = QLabel()
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Model", self.model_combo)
        form.addRow("Description", self.description)
        form.addRow("Sample text", self.sample_text)
        form.addRow("Auditions", self.seeds)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.audition_button)
        lay.addWidget(self.auditions, 1)
        row = QHBoxLayout()
        row.addWidget(self.play_button)
        row.addWidget(self.name, 1)
        row.addWidget(self.keep_button)
        lay.addLayout(row)
        lay.addWidget(self.message)
        if self.model_combo.count() == 0:
            self._say("No VoiceDesign model is installed: download Qwen3-TTS 1.7B VoiceDesign in Models.")
            self.audition_button.setEnabled(False)
        self._jobs: dict[str, int] = {}  # synth job id -> seed
        self._load_job: str | None = None
        self._loaded: set[str] = set()
        self._results: dict[int, tuple[np.ndarray, int]] = {}  # seed -> (audio, sr)
        self._bridge = None
        self.audition_button.clicked.connect(lambda: self.audition())
        self.play_button.clicked.connect(self.play_selected)
        self.auditions.itemDoubleClicked.connect(lambda _: self.play_selected())
        self.keep_button.clicked.connect(self.keep_selected)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #d9534f;" if error else "")

    @property
    def bridge(self):
        from studio.ui.eval_client import ensure_bridge

        b = ensure_bridge(self.ctx)
        if b is not self._bridge:
            b.done.connect(self._on_done)
            b.failed.connect(self._on_failed)
            self._bridge = b
        return b

    # ---- audition ----------------------------------------------------------------------------
    def audition(self, seeds: list[int] | None = None) -> bool:
        """Generate one take per seed from the description; False (with a message) when it cannot."""
        from engine.backends.base import SamplingParams
        from engine.jobs import LoadModel, Synthesize
        from engine.text.detect_language import NAMES, detect_language

        if self._jobs:
            return False
        description = self.description.toPlainText().strip()
        text = self.sample_text.text().strip()
        model = self.model_combo.currentData()
        if model is None:
            return False
        if not description:
            self._say("Describe the voice first (who speaks, how: “a warm, low female voice, slow”).", error=True)
            return False
        if not text:
            self._say("Give the auditions a sentence to say.", error=True)
            return False
        name, folder = model
        if name not in self._loaded:
            load = LoadModel(model_dir=folder, backend="qwen3", model_id=name)
            self._load_job = load.job_id
            self.bridge.submit(load)
            self._loaded.add(name)
        seeds = seeds or [random.randrange(1, 2**31 - 9) for _ in range(self.seeds.value())]
        code = detect_language(text)
        options = {"language": NAMES.get(code, "auto") if code else "auto", "instruct": description}
        for seed in seeds:
            req = Synthesize(text=text, voice=None, model_id=name,
                             params=SamplingParams(temperature=0.9, top_k=50, top_p=1.0, seed=seed,
                                                   max_audio_seconds=self.max_audio_seconds, options=dict(options)))
            self._jobs[req.job_id] = seed
            self.bridge.submit(req)
        self.audition_button.setEnabled(False)
        self._say(f"Auditioning {len(seeds)} voice{'s' if len(seeds) > 1 else ''}…")
        return True

    max_audio_seconds: float | None = None  # None: the engine's budget from the text

    def _on_done(self, ev) -> None:
        seed = self._jobs.pop(ev.job_id, None)
        if ev.job_id == self._load_job:
            self._load_job = None
        if seed is None:
            return
        res = ev.result
        self._results[seed] = (np.asarray(res.audio, np.float32), int(res.sample_rate))
        item = QListWidgetItem(f"Seed {seed} · {len(res.audio) / res.sample_rate:.1f} s")
        item.setData(Qt.UserRole, seed)
        self.auditions.addItem(item)
        if self.auditions.currentItem() is None:
            self.auditions.setCurrentItem(item)
        self._finished_one()

    def _on_failed(self, ev) -> None:
        if ev.job_id == self._load_job:
            self._load_job = None
            self._loaded.clear()
            self._say(f"Could not load the model: {ev.message}", error=True)
            return
        if self._jobs.pop(ev.job_id, None) is not None:
            self._say(f"An audition failed: {ev.message}", error=True)
            self._finished_one()

    def _finished_one(self) -> None:
        if not self._jobs:
            self.audition_button.setEnabled(True)
            if not self.message.styleSheet():
                self._say("Play the auditions, name the one you like and keep it.")
            self.auditioned.emit()

    # ---- play / keep -------------------------------------------------------------------------
    def _selected(self):
        item = self.auditions.currentItem()
        return (item.data(Qt.UserRole), *self._results[item.data(Qt.UserRole)]) if item else None

    def play_selected(self) -> None:
        sel = self._selected()
        if sel is not None:
            self.ctx.player.play(sel[1], sel[2])

    def keep_selected(self) -> int | None:
        """Save the selected audition as a designed voice; its id, or None (with a message)."""
        sel = self._selected()
        if sel is None:
            self._say("Audition first, then pick the one to keep.", error=True)
            return None
        name = self.name.text().strip()
        if not name:
            self._say("Name the voice to keep it.", error=True)
            return None
        seed, audio, sr = sel
        try:
            voice = self.ctx.voices.create_designed(
                name, description=self.description.toPlainText(), samples=audio, sample_rate=sr,
                transcript=self.sample_text.text().strip(),
                notes=f"Designed with {self.model_combo.currentData()[0]}, seed {seed}")
        except (ValueError, OSError) as e:
            self._say(f"Could not keep the voice: {e}", error=True)
            return None
        self._say(f"Kept “{voice.name}”: a designed voice (no person recorded), ready in Synthesize.")
        self.kept.emit(voice.id)
        return voice.id
