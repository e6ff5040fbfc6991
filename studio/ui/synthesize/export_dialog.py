"""Export dialog: format, sample rate, loudness, file names; batch export off the GUI thread with
progress and cancel (files already written stay; none is half-written)."""
from __future__ import annotations

import json
import threading
from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton,
                               QVBoxLayout)

from studio.core.export import (DEFAULT_TEMPLATE, LOUDNESS_PRESETS, ExportItem, ExportOptions,
                                available_formats, export_batch)
from studio.core.takes import TakeStore
from studio.ui.widgets.background import run_in_background

RATES = (None, 16000, 22050, 24000, 44100, 48000)


def export_items(ctx, takes: TakeStore, take_ids: list[str]) -> list[ExportItem]:
    """Takes as export items (audio read here: call off the GUI thread for big batches)."""
    items = []
    for tid in take_ids:
        t = takes.get(tid)
        audio, sr = takes.load_audio(t)
        voice, consent = "", None
        if t.recipe.voice_id is not None:
            try:
                v = ctx.voices.get(t.recipe.voice_id)
                voice, consent = v.name, (None if v.designed else bool(v.consent))  # designed: no person
            except KeyError:
                voice = f"voice{t.recipe.voice_id}"
        items.append(ExportItem(audio=audio, sample_rate=sr, take_id=t.id, model_id=t.recipe.model_id,
                                voice_name=voice, text=t.recipe.text, seed=t.recipe.seed,
                                recipe={**json.loads(t.recipe.to_json()), "status": t.status,
                                        "timings": t.timings}, created=t.created,
                                watermark=t.recipe.watermark, voice_consent=consent))
    return items


class ExportDialog(QDialog):
    def __init__(self, ctx, takes: TakeStore, take_ids: list[str], parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Export {len(take_ids)} take{'s' if len(take_ids) > 1 else ''}")
        self.ctx, self.takes, self.take_ids = ctx, takes, take_ids
        self.cancel_event: threading.Event | None = None
        self.result = None
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.format = QComboBox()
        for f in available_formats():
            self.format.addItem(f.label, f.key)
        self.rate = QComboBox()
        for r in RATES:
            self.rate.addItem("as generated" if r is None else f"{r} Hz", r)
        self.loudness = QComboBox()
        self.loudness.addItem("leave as is", None)
        for label, lufs in LOUDNESS_PRESETS.items():
            self.loudness.addItem(label, lufs)
        self.loudness.setCurrentIndex(1)
        self.peak = QDoubleSpinBox()
        self.peak.setRange(-9.0, 0.0)
        self.peak.setValue(-1.0)
        self.peak.setSuffix(" dBTP")
        self.template = QLineEdit(DEFAULT_TEMPLATE)
        self.template.setToolTip("{voice} {model} {seed} {take} {date} {text}")
        folder_row = QHBoxLayout()
        self.folder = QLineEdit(str(Path.home() / "Mynah exports"))
        browse = QPushButton("…")
        browse.clicked.connect(self._browse)
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        form.addRow("Format", self.format)
        form.addRow("Sample rate", self.rate)
        form.addRow("Loudness", self.loudness)
        form.addRow("True-peak ceiling", self.peak)
        form.addRow("File names", self.template)
        form.addRow("Folder", folder_row)
        self.credentials = QCheckBox("Sign content credentials (C2PA): generator, model, voice consent, time")
        self.credentials.setChecked(bool(getattr(ctx.settings, "content_credentials", True)))
        self.credentials.setToolTip("WAV, FLAC and MP3 carry the signed manifest inside the file; Ogg files get "
                                    "it beside them (.c2pa). The signing key is made for you on first use.")
        self.credentials.toggled.connect(lambda on: setattr(ctx.settings, "content_credentials", bool(on)))
        form.addRow("", self.credentials)
        lay.addLayout(form)
        self.progress = QProgressBar()
        self.progress.setRange(0, max(1, len(take_ids)))
        lay.addWidget(self.progress)
        self.message = QLabel("Files are tagged as synthetic speech and say whether they carry the AI "
                              "watermark; a .json sidecar keeps the recipe.")
        self.message.setWordWrap(True)
        lay.addWidget(self.message)
        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.Cancel)
        self.export_button.clicked.connect(lambda: self.start())
        self.cancel_button.clicked.connect(self._cancel)
        lay.addWidget(self.buttons)

    def _browse(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Export folder", self.folder.text())
        if d:
            self.folder.setText(d)

    def options(self) -> ExportOptions:
        return ExportOptions(format_key=self.format.currentData(), sample_rate=self.rate.currentData(),
                             loudness_lufs=self.loudness.currentData(), true_peak_db=self.peak.value(),
                             template=self.template.text().strip() or DEFAULT_TEMPLATE,
                             credentials_dir=self.ctx.paths.credentials if self.credentials.isChecked() else None)

    def start(self, folder: Path | None = None) -> None:
        dest = Path(folder or self.folder.text()).expanduser()
        opts = self.options()
        self.cancel_event = threading.Event()
        cancel = self.cancel_event
        self.export_button.setEnabled(False)

        def work(report):
            items = export_items(self.ctx, self.takes, self.take_ids)
            return export_batch(items, dest, opts, progress=lambda i, n, t: report(i), cancel=cancel)
        self.task = run_in_background(work, on_done=self._done, on_error=self._failed,
                                      on_progress=self.progress.setValue)

    def _cancel(self) -> None:
        if self.cancel_event is not None and not self.cancel_event.is_set():
            self.cancel_event.set()
        else:
            self.reject()

    def _done(self, res) -> None:
        self.result = res
        self.cancel_event = None
        self.export_button.setEnabled(True)
        lines = [f"Exported {len(res.results)} file{'s' if len(res.results) != 1 else ''}"
                 + (f" to {res.results[0].path.parent}" if res.results else "")
                 + (" (cancelled)" if res.cancelled else ".")]
        lines += res.errors
        lines += [w for r in res.results for w in r.warnings][:3]
        self.message.setText("\n".join(lines))

    def _failed(self, exc: BaseException) -> None:
        self.cancel_event = None
        self.export_button.setEnabled(True)
        self.message.setText(f"Export failed: {exc}")
