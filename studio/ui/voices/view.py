"""Voices workspace layout (no behaviour: the controller wires it)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QFrame, QGridLayout,
                               QHBoxLayout, QLabel, QLineEdit, QListWidget, QPlainTextEdit, QPushButton, QScrollArea,
                               QSizePolicy, QSplitter, QToolBar, QToolButton, QVBoxLayout, QWidget)

from studio.ui.widgets.device_picker import DevicePicker
from studio.ui.widgets.mel_view import MelView
from studio.ui.widgets.meter import LevelMeter
from studio.ui.widgets.waveform import WaveformView

READOUTS = [  # (key, label, tooltip)
    ("duration", "Duration", "5–15 s of natural speech clones best"),
    ("peak", "Peak", "Sample peak (dBFS)"),
    ("clipped", "Clipped", "Samples at full scale: distortion the model will copy"),
    ("lufs", "Loudness", "Integrated loudness (LUFS, BS.1770)"),
    ("noise", "Noise floor", "Level of the quietest frames (room tone between words)"),
    ("snr", "SNR", "Speech level above the noise floor"),
    ("dc", "DC offset", "Mean of the signal; should be ~0"),
]


def _panel(title: str) -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame()
    frame.setObjectName("panel")
    lay = QVBoxLayout(frame)
    lay.setContentsMargins(10, 8, 10, 10)
    lay.setSpacing(6)
    t = QLabel(title.upper())
    t.setObjectName("panelTitle")
    lay.addWidget(t)
    return frame, lay


class VoicesView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        # ---- toolbar ----
        self.toolbar = QToolBar()
        self.toolbar.setToolButtonStyle(Qt.ToolButtonTextOnly)
        self.import_action = QAction("Import…", self)
        self.import_action.setToolTip("Import an audio file (Ctrl+I); you can also drop files on the window")
        self.record_action = QAction("● Record", self)
        self.record_action.setCheckable(True)
        self.record_action.setToolTip("Record from the input device (R)")
        self.trim_action = QAction("Trim to selection", self)
        self.cut_action = QAction("Cut", self)
        self.cut_action.setShortcut(QKeySequence.Delete)
        self.cut_action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
        self.autotrim_action = QAction("Auto-trim silence", self)
        self.normalize_action = QAction("Normalize", self)
        self.normalize_mode = QComboBox()
        self.normalize_mode.addItem("LUFS", "lufs")
        self.normalize_mode.addItem("Peak dBFS", "peak")
        self.normalize_target = QDoubleSpinBox()
        self.normalize_target.setRange(-60.0, 0.0)
        self.normalize_target.setDecimals(1)
        self.normalize_target.setSingleStep(0.5)
        self.normalize_target.setFixedWidth(70)
        self.toolbar.addAction(self.import_action)
        self.toolbar.addAction(self.record_action)
        self.toolbar.widgetForAction(self.record_action).setObjectName("recordButton")
        self.input_picker = DevicePicker("input")
        self.toolbar.addWidget(self.input_picker)
        self.meter = LevelMeter()
        self.meter.setFixedWidth(250)
        self.toolbar.addWidget(self.meter)
        self.toolbar.addSeparator()
        for a in (self.trim_action, self.cut_action, self.autotrim_action):
            self.toolbar.addAction(a)
        self.toolbar.addSeparator()
        self.toolbar.addAction(self.normalize_action)
        self.toolbar.addWidget(self.normalize_mode)
        self.toolbar.addWidget(self.normalize_target)

        # ---- library (left) ----
        lib, lib_lay = _panel("Voice library")
        self.voice_list = QListWidget()
        self.voice_list.setEditTriggers(QListWidget.EditKeyPressed | QListWidget.SelectedClicked)
        lib_lay.addWidget(self.voice_list, 1)
        self.open_voice_button = QPushButton("Open")
        self.rename_voice_button = QPushButton("Rename")
        self.duplicate_voice_button = QPushButton("Duplicate")
        self.delete_voice_button = QPushButton("Delete")
        grid = QGridLayout()
        grid.setSpacing(4)
        for i, b in enumerate((self.open_voice_button, self.rename_voice_button,
                               self.duplicate_voice_button, self.delete_voice_button)):
            grid.addWidget(b, i // 2, i % 2)
        self.design_voice_button = QPushButton("Design a voice…")
        self.design_voice_button.setToolTip("Describe a voice in words (Qwen3-TTS VoiceDesign), audition a few, "
                                            "keep one: no recording, no consent needed")
        lib_lay.addWidget(self.design_voice_button)
        self.voice_details = QLabel("")
        self.voice_details.setObjectName("hint")
        self.voice_details.setWordWrap(True)
        lib_lay.addWidget(self.voice_details)
        lib_lay.addLayout(grid)
        self.library_panel = lib

        # ---- editor (centre) ----
        editor = QWidget()
        ed_lay = QVBoxLayout(editor)
        ed_lay.setContentsMargins(0, 0, 0, 0)
        ed_lay.setSpacing(4)
        head = QHBoxLayout()
        self.clip_title = QLabel("No clip open")
        self.clip_title.setObjectName("clipTitle")
        self.clip_info = QLabel("Import (Ctrl+I), drop a file here, or record (R)")
        self.clip_info.setObjectName("hint")
        self.selection_label = QLabel("")
        self.selection_label.setObjectName("hint")
        # Long file names must not widen the window: the labels may shrink (Qt clips them).
        self.clip_title.setSizePolicy(QSizePolicy.Maximum, QSizePolicy.Preferred)
        self.clip_title.setMinimumWidth(80)
        self.selection_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        head.addWidget(self.clip_title)
        head.addSpacing(12)
        head.addWidget(self.clip_info)
        head.addWidget(self.selection_label, 1)
        self.selection_label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        ed_lay.addLayout(head)
        self.waveform = WaveformView()
        self.mel = MelView()
        self.mel.link_to(self.waveform)
        self.plots = QSplitter(Qt.Vertical)
        self.plots.addWidget(self.waveform)
        self.plots.addWidget(self.mel)
        self.plots.setStretchFactor(0, 3)
        self.plots.setStretchFactor(1, 2)
        ed_lay.addWidget(self.plots, 1)

        # ---- reference check + save (right) ----
        right = QWidget()
        r_lay = QVBoxLayout(right)
        r_lay.setContentsMargins(0, 0, 0, 0)
        r_lay.setSpacing(8)
        # Import errors and warnings about the open clip, above its readouts. Not above the plots:
        # showing it there re-laid out both plots mid-import (their axes regenerate: ~40 ms).
        self.banner = QLabel("")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.banner.setTextInteractionFlags(Qt.TextSelectableByMouse)
        r_lay.addWidget(self.banner)
        check, check_lay = _panel("Reference check")
        form = QGridLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(3)
        self.readouts: dict[str, QLabel] = {}
        for i, (key, label, tip) in enumerate(READOUTS):
            name = QLabel(label)
            name.setObjectName("readoutName")
            name.setToolTip(tip)
            value = QLabel("—")
            value.setObjectName("readoutValue")
            value.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            value.setToolTip(tip)
            form.addWidget(name, i, 0)
            form.addWidget(value, i, 1)
            self.readouts[key] = value
        check_lay.addLayout(form)
        self.report_notes = QLabel("")
        self.report_notes.setWordWrap(True)
        self.report_notes.setObjectName("hint")
        check_lay.addWidget(self.report_notes)
        r_lay.addWidget(check)

        save, save_lay = _panel("Save as voice")
        sform = QFormLayout()
        sform.setLabelAlignment(Qt.AlignRight)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. Narrator, calm")
        self.transcript_edit = QPlainTextEdit()
        self.transcript_edit.setPlaceholderText("Exactly what is said in the clip")
        self.transcript_edit.setTabChangesFocus(True)
        self.transcript_edit.setMinimumHeight(70)
        self.notes_edit = QLineEdit()
        self.notes_edit.setPlaceholderText("Mic, room, mood…")
        sform.addRow("Name", self.name_edit)
        sform.addRow("Transcript", self.transcript_edit)
        sform.addRow("Notes", self.notes_edit)
        save_lay.addLayout(sform)
        self.consent_check = QCheckBox("This is my own voice, or I have\npermission to clone it")
        save_lay.addWidget(self.consent_check)
        self.save_error = QLabel("")
        self.save_error.setWordWrap(True)
        self.save_error.setObjectName("saveError")
        save_lay.addWidget(self.save_error)
        brow = QHBoxLayout()
        self.add_clip_button = QPushButton("Add to selected")
        self.add_clip_button.setToolTip("Add this clip to the voice selected in the library")
        self.save_button = QPushButton("Save voice")
        self.save_button.setObjectName("primary")
        brow.addWidget(self.add_clip_button)
        brow.addStretch(1)
        brow.addWidget(self.save_button)
        save_lay.addLayout(brow)
        r_lay.addWidget(save, 1)

        # ---- assemble ----
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.addWidget(lib)
        self.splitter.addWidget(editor)
        # The right column scrolls when its panels (readouts, provenance, scores, save form) do not
        # fit the window's height, instead of squeezing the save form's fields over each other.
        self.right_scroll = QScrollArea()
        self.right_scroll.setWidgetResizable(True)
        self.right_scroll.setFrameShape(QFrame.NoFrame)
        self.right_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.right_scroll.setWidget(right)
        self.splitter.addWidget(self.right_scroll)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([210, 860, 290])
        self.splitter.setChildrenCollapsible(False)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.toolbar)
        body = QWidget()
        b_lay = QVBoxLayout(body)
        b_lay.setContentsMargins(8, 8, 8, 8)
        b_lay.addWidget(self.splitter)
        outer.addWidget(body, 1)
        self.edit_actions = [self.trim_action, self.cut_action, self.autotrim_action, self.normalize_action]
        self.record_button: QToolButton = self.toolbar.widgetForAction(self.record_action)
