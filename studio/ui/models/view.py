"""Models workspace layout: catalog table, token, cache location, download/import actions."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QProgressBar, QPushButton, QTableWidget, QVBoxLayout, QWidget)

COLUMNS = ("Model", "Kind", "Size", "Languages", "Licence", "Access", "Runs well on", "Status", "On disk")
STRETCH = ("Model", "Runs well on")  # these share the spare width; the others fit their contents


def column(name: str) -> int:
    return COLUMNS.index(name)


class ModelsView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        # Resize modes, not resizeColumnsToContents(): that call shrinks a Stretch section to its
        # contents until the next resize event, so the table stopped filling its width after every
        # refresh (e.g. when a download started or ended).
        header = self.table.horizontalHeader()
        for i, name in enumerate(COLUMNS):
            header.setSectionResizeMode(i, QHeaderView.Stretch if name in STRETCH else QHeaderView.ResizeToContents)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        lay.addWidget(self.table, 1)
        self.description = QLabel()
        self.description.setWordWrap(True)
        lay.addWidget(self.description)

        actions = QHBoxLayout()
        self.download_button = QPushButton("Download")
        self.cancel_button = QPushButton("Cancel")
        self.import_button = QPushButton("Import local folder…")
        self.import_button.setToolTip("Use model files you already have (copied into the models folder)")
        self.verify_button = QPushButton("Verify files")
        self.delete_button = QPushButton("Delete")
        for b in (self.download_button, self.cancel_button, self.import_button, self.verify_button,
                  self.delete_button):
            actions.addWidget(b)
        actions.addStretch(1)
        lay.addLayout(actions)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.hide()
        lay.addWidget(self.progress)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("modelsMessage")
        lay.addWidget(self.message)

        asr_row = QHBoxLayout()
        asr_row.addWidget(QLabel("Speech recognition:"))
        self.asr_combo = QComboBox()
        self.asr_combo.setObjectName("asrChoice")
        self.asr_combo.setToolTip("Used for take scoring, reference transcripts, dataset QC and segmenting "
                                  "long recordings. Download a larger Whisper above for better accuracy.")
        self.asr_detail = QLabel()
        asr_row.addWidget(self.asr_combo, 1)
        asr_row.addWidget(self.asr_detail, 1)
        lay.addLayout(asr_row)

        token_row = QHBoxLayout()
        token_row.addWidget(QLabel("Hugging Face token:"))
        self.token_edit = QLineEdit()
        self.token_edit.setEchoMode(QLineEdit.Password)
        self.token_edit.setPlaceholderText("hf_… (needed for gated models; stored in the system keyring)")
        self.save_token_button = QPushButton("Save token")
        self.token_state = QLabel()
        token_row.addWidget(self.token_edit, 1)
        token_row.addWidget(self.save_token_button)
        token_row.addWidget(self.token_state)
        lay.addLayout(token_row)

        cache_row = QHBoxLayout()
        cache_row.addWidget(QLabel("Models folder:"))
        self.cache_label = QLabel()
        self.cache_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.change_cache_button = QPushButton("Change…")
        self.disk_usage = QLabel()
        cache_row.addWidget(self.cache_label, 1)
        cache_row.addWidget(self.disk_usage)
        cache_row.addWidget(self.change_cache_button)
        lay.addLayout(cache_row)
