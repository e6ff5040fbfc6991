"""Transport bar: play/pause, stop, position readout, output device."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStyle, QToolButton

from studio.ui.widgets.device_picker import DevicePicker


def format_time(seconds: float) -> str:
    seconds = max(0.0, seconds)
    m, s = divmod(seconds, 60.0)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:06.3f}" if h else f"{m:02d}:{s:06.3f}"


class TransportBar(QFrame):
    playPauseClicked = Signal()
    stopClicked = Signal()

    def __init__(self, output_device: str | None = None, parent=None):
        super().__init__(parent)
        self.setObjectName("transportBar")
        st = self.style()
        self.play_button = QToolButton()
        self.play_button.setIcon(st.standardIcon(QStyle.SP_MediaPlay))
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.clicked.connect(self.playPauseClicked)
        self.stop_button = QToolButton()
        self.stop_button.setIcon(st.standardIcon(QStyle.SP_MediaStop))
        self.stop_button.setToolTip("Stop")
        self.stop_button.clicked.connect(self.stopClicked)
        self.time_label = QLabel()
        self.time_label.setObjectName("timeReadout")
        self.source_label = QLabel("")
        self.source_label.setObjectName("hint")
        self.output_picker = DevicePicker("output", output_device)
        out_label = QLabel("Output")
        out_label.setObjectName("hint")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.setSpacing(4)
        lay.addWidget(self.play_button)
        lay.addWidget(self.stop_button)
        lay.addWidget(self.time_label)
        lay.addWidget(self.source_label, 1)
        lay.addWidget(out_label)
        lay.addWidget(self.output_picker)
        self.playing = False
        self.set_position(0.0, 0.0)

    def set_position(self, position_s: float, duration_s: float) -> None:
        self.time_label.setText(f"{format_time(position_s)} / {format_time(duration_s)}")

    def set_playing(self, playing: bool) -> None:
        self.playing = playing
        icon = QStyle.SP_MediaPause if playing else QStyle.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))

    def set_source_name(self, text: str) -> None:
        self.source_label.setText(text)
