"""Export dialog: format and options, progress with cancel; asks before replacing a folder."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QLabel, QLineEdit, QMessageBox, QProgressBar,
                               QPushButton, QVBoxLayout, QWidget)

from studio.core import dataset_export as E
from studio.ui.widgets.background import run_in_background

RATES = [("keep", None), ("16 kHz", 16000), ("22.05 kHz", 22050), ("24 kHz", 24000), ("44.1 kHz", 44100),
         ("48 kHz", 48000)]


def _do_export(items, dest, opts, overwrite, card_info, report=None):
    cancelled = {"v": False}

    def progress(done, total):
        try:
            report((done, total))
        except Exception:  # the task was cancelled: stop between clips
            cancelled["v"] = True
    return E.export_dataset(items, dest, opts, overwrite=overwrite, progress=progress,
                            cancel=lambda: cancelled["v"], card_info=card_info)


class ExportDialog(QDialog):
    exported = Signal(object)  # ExportResult

    def __init__(self, store, dataset, qc_summary: dict | None = None, parent=None):
        super().__init__(parent)
        self.setObjectName("datasetExportDialog")
        self.setWindowTitle(f"Export {dataset.name}")
        self.store, self.dataset, self.qc_summary = store, dataset, qc_summary or {}
        self.task = None
        self.result = None
        self.format = QComboBox()
        for key, label in E.FORMATS.items():
            self.format.addItem(label, key)
        self.dest = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.dest, 1)
        row.addWidget(browse)
        dest_w = QWidget()
        dest_w.setLayout(row)
        self.eval_fraction = QDoubleSpinBox(minimum=0.0, maximum=0.5, singleStep=0.05, value=0.0)
        self.best_only = QCheckBox("Best takes only")
        self.best_only.setChecked(True)
        self.trim = QCheckBox("Trim silence, keeping")
        self.trim.setChecked(True)
        self.pad = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.05, value=0.15, suffix=" s")
        self.normalize = QCheckBox("Normalize loudness to")
        self.normalize.setChecked(True)
        self.lufs = QDoubleSpinBox(minimum=-40.0, maximum=-10.0, value=-23.0, suffix=" LUFS")
        self.rate = QComboBox()
        for label, v in RATES:
            self.rate.addItem(label, v)
        self.bits = QComboBox()
        self.bits.addItem("16-bit", 16)
        self.bits.addItem("24-bit", 24)
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Folder", dest_w)
        form.addRow("Held out for eval", self.eval_fraction)
        form.addRow("", self.best_only)
        trim_row = QHBoxLayout()
        trim_row.addWidget(self.trim)
        trim_row.addWidget(self.pad)
        form.addRow("", _wrap(trim_row))
        norm_row = QHBoxLayout()
        norm_row.addWidget(self.normalize)
        norm_row.addWidget(self.lufs)
        form.addRow("", _wrap(norm_row))
        form.addRow("Sample rate", self.rate)
        form.addRow("Mono PCM", self.bits)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.export_btn = self.buttons.addButton("Export", QDialogButtonBox.AcceptRole)
        self.cancel_btn = self.buttons.addButton(QDialogButtonBox.Cancel)
        self.export_btn.clicked.connect(self.start)
        self.cancel_btn.clicked.connect(self._cancel)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.buttons)

    def _browse(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Export into folder")
        if d:
            self.dest.setText(d)

    def options(self) -> E.ExportOptions:
        return E.ExportOptions(format=self.format.currentData(), eval_fraction=self.eval_fraction.value(),
                               best_only=self.best_only.isChecked(), trim=self.trim.isChecked(),
                               pad_s=self.pad.value(),
                               target_lufs=self.lufs.value() if self.normalize.isChecked() else None,
                               sample_rate=self.rate.currentData(), bit_depth=self.bits.currentData())

    def start(self, *, confirm_overwrite=None) -> None:
        """`confirm_overwrite(path) -> bool` replaces the question box (tests)."""
        text = self.dest.text().strip()
        if not text:
            self.status.setText("Choose a folder to export into.")
            return
        dest = Path(text).expanduser()
        overwrite = False
        if dest.is_dir() and any(dest.iterdir()):
            ask = confirm_overwrite or (lambda p: QMessageBox.question(
                self, "Replace folder?", f"{p} is not empty. Replace it? (Its contents go to the trash.)")
                == QMessageBox.Yes)
            if not ask(dest):
                self.status.setText("Not exported: the folder is not empty.")
                return
            overwrite = True
        opts = self.options()
        items = E.collect_items(self.store, self.dataset.id, best_only=opts.best_only)
        card = {"name": self.dataset.name, "speaker": self.dataset.speaker, "language": self.dataset.language,
                "consent": self.dataset.consent, "qc_summary": self.qc_summary}
        self.progress.setVisible(True)
        self.progress.setRange(0, max(1, len(items)))
        self.progress.setValue(0)
        self.export_btn.setEnabled(False)
        self.status.setText(f"Exporting {len(items)} clips…")
        self.task = run_in_background(_do_export, items, dest, opts, overwrite, card, on_done=self._done,
                                      on_error=self._failed, on_progress=self._progress, owner=self)

    def _progress(self, p) -> None:
        self.progress.setValue(p[0])

    def _done(self, result) -> None:
        self.task, self.result = None, result
        self.export_btn.setEnabled(True)
        self.status.setText(f"Exported {len(result.clips)} clips ({result.hours * 60:.1f} min) to {result.folder}")
        self.exported.emit(result)

    def _failed(self, exc) -> None:
        self.task = None
        self.export_btn.setEnabled(True)
        self.progress.setVisible(False)
        self.status.setText("Export cancelled; nothing was written." if isinstance(exc, E.ExportCancelled)
                            else f"Export failed: {exc}")
        self.exported.emit(None)

    def _cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None
            self.export_btn.setEnabled(True)
            self.status.setText("Export cancelled; nothing was written.")
            return
        self.reject()


def _wrap(layout) -> QWidget:
    w = QWidget()
    layout.setContentsMargins(0, 0, 0, 0)
    w.setLayout(layout)
    return w
