"""New dataset: name, speaker, language, sample rate, target size, input and gain notes, consent."""
from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel,
                               QLineEdit, QPlainTextEdit, QVBoxLayout)

from studio.core.datasets import SAMPLE_RATES, DatasetError
from studio.ui.widgets.device_picker import device_display_name


class NewDatasetDialog(QDialog):
    def __init__(self, store, input_device: str | None, parent=None):
        super().__init__(parent)
        self.setObjectName("newDatasetDialog")
        self.setWindowTitle("New dataset")
        self.store = store
        self.dataset = None
        self.name = QLineEdit()
        self.speaker = QLineEdit()
        self.language = QLineEdit("en")
        self.rate = QComboBox()
        for sr in SAMPLE_RATES:
            self.rate.addItem(f"{sr / 1000:g} kHz", sr)
        self.rate.setCurrentIndex(SAMPLE_RATES.index(48000))
        self.target = QDoubleSpinBox(minimum=1, maximum=6000, value=60, suffix=" min")
        self.device = QLineEdit(device_display_name(input_device) if input_device else "default input")
        self.gain = QLineEdit()
        self.gain.setPlaceholderText("e.g. interface gain at 2 o'clock, pop filter, 20 cm")
        self.consent = QPlainTextEdit()
        self.consent.setPlaceholderText("Who is recorded, and what they agreed the recordings may be used for")
        self.consent.setMaximumHeight(70)
        self.error = QLabel("")
        self.error.setObjectName("errorText")
        form = QFormLayout()
        for label, w in (("Name", self.name), ("Speaker", self.speaker), ("Language", self.language),
                         ("Sample rate", self.rate), ("Target size", self.target), ("Input device", self.device),
                         ("Gain notes", self.gain), ("Consent", self.consent)):
            form.addRow(label, w)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.create)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(buttons)

    def create(self) -> None:
        try:
            self.dataset = self.store.create(
                self.name.text(), speaker=self.speaker.text().strip(), language=self.language.text().strip() or "en",
                sample_rate=self.rate.currentData(), target_minutes=self.target.value(),
                gain_notes=self.gain.text().strip(), consent=self.consent.toPlainText().strip())
        except DatasetError as exc:
            self.error.setText(str(exc))  # the dialog stays open with everything typed kept
            return
        self.accept()
