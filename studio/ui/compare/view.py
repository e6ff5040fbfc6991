"""Compare workspace layout: lane picker, lanes with one transport, ratings, results."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QListWidget, QPushButton, QSlider, QSplitter, QTableWidget,
                               QVBoxLayout, QWidget)

from studio.ui.compare.objective import OBJECTIVE_COLUMNS

# Listening results, then the objective scores (engine.eval) of the same group's scored takes.
RESULT_COLUMNS = ("Model", "Setting", "Voice", "Naturalness MOS", "Similarity MOS", "CMOS", "Win rate",
                  *OBJECTIVE_COLUMNS)


class CompareView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Listener:"))
        self.listener = QLineEdit()
        self.listener.setPlaceholderText("your name (stored with each rating)")
        top.addWidget(self.listener, 1)
        self.match_loudness = QCheckBox("Loudness-matched")
        self.match_loudness.setChecked(True)
        self.blind_button = QPushButton("Start blind test")
        self.reveal_button = QPushButton("Reveal")
        self.reveal_button.setEnabled(False)
        self.next_round_button = QPushButton("Next sentence")  # a blind test in rounds (Fine-tune's)
        self.next_round_button.setVisible(False)
        for w in (self.match_loudness, self.blind_button, self.reveal_button, self.next_round_button):
            top.addWidget(w)
        outer.addLayout(top)

        self.splitter = QSplitter(Qt.Horizontal)
        outer.addWidget(self.splitter, 1)
        # ---- picker ----
        self.picker_box = QGroupBox("Takes and recordings")
        pl = QVBoxLayout(self.picker_box)
        self.picker = QListWidget()
        self.picker.setSelectionMode(QAbstractItemView.ExtendedSelection)
        pl.addWidget(self.picker, 1)
        prow = QHBoxLayout()
        self.add_button = QPushButton("Add as lanes")
        self.clear_button = QPushButton("Clear lanes")
        prow.addWidget(self.add_button)
        prow.addWidget(self.clear_button)
        pl.addLayout(prow)
        self.splitter.addWidget(self.picker_box)

        # ---- lanes + transport + pair ratings ----
        right = QWidget()
        rl = QVBoxLayout(right)
        self.lanes_box = QVBoxLayout()
        rl.addLayout(self.lanes_box)
        transport = QHBoxLayout()
        self.play_button = QPushButton("Play")
        self.stop_button = QPushButton("Stop")
        self.position = QSlider(Qt.Horizontal)
        self.position.setRange(0, 1000)
        self.time_label = QLabel("0.00 s")
        transport.addWidget(self.play_button)
        transport.addWidget(self.stop_button)
        transport.addWidget(self.position, 1)
        transport.addWidget(self.time_label)
        rl.addLayout(transport)

        cmos = QHBoxLayout()
        cmos.addWidget(QLabel("CMOS:"))
        self.pair_a = QComboBox()
        self.pair_b = QComboBox()
        self.cmos = QSlider(Qt.Horizontal)
        self.cmos.setRange(-3, 3)
        self.cmos.setTickPosition(QSlider.TicksBelow)
        self.cmos.setTickInterval(1)
        self.cmos_label = QLabel("0: about the same")
        self.save_cmos = QPushButton("Save CMOS")
        for w in (self.pair_a, QLabel("vs"), self.pair_b, self.cmos, self.cmos_label, self.save_cmos):
            cmos.addWidget(w)
        rl.addLayout(cmos)
        abx = QHBoxLayout()
        self.abx_start = QPushButton("ABX trial (A vs B)")
        self.abx_play_x = QPushButton("Play X")
        self.abx_is_a = QPushButton("X is A")
        self.abx_is_b = QPushButton("X is B")
        for w in (self.abx_start, self.abx_play_x, self.abx_is_a, self.abx_is_b):
            abx.addWidget(w)
        rl.addLayout(abx)
        self.submit_button = QPushButton("Save MOS ratings")
        rl.addWidget(self.submit_button)
        self.message = QLabel()
        self.message.setWordWrap(True)
        rl.addWidget(self.message)

        self.results_box = QGroupBox("Results")
        resl = QVBoxLayout(self.results_box)
        self.results = QTableWidget(0, len(RESULT_COLUMNS))
        self.results.setHorizontalHeaderLabels(RESULT_COLUMNS)
        self.results.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.results.verticalHeader().hide()
        resl.addWidget(self.results)
        self.export_csv = QPushButton("Export CSV…")
        resl.addWidget(self.export_csv)
        rl.addWidget(self.results_box, 1)
        self.splitter.addWidget(right)
        self.splitter.setSizes([300, 700])
