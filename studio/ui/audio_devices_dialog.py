"""File ▸ Audio devices…: choose the input and output, test them, rescan after plugging one in.

Choosing a row takes effect at once (settings.input_device / output_device hold `AudioDevice.key`;
the device combo boxes elsewhere follow). Everything that opens a device runs off the GUI thread
(PortAudio through PulseAudio can take a noticeable time to open a stream): the input level monitor
(`InputMonitor`, read by the `LevelMeter` widget's 30 Hz timer) and the test tone. A device that
cannot be opened shows its `DeviceError` sentence in the dialog; nothing is raised at the user.
"""
from __future__ import annotations

import gc
import logging
import threading

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import (QApplication, QDialog, QDialogButtonBox, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout)

from studio.ui.theme import COLORS
from studio.ui.widgets.background import run_in_background
from studio.ui.widgets.device_picker import DevicePicker
from studio.ui.widgets.device_table import DeviceTable
from studio.ui.widgets.meter import LevelMeter

log = logging.getLogger(__name__)

TONE_SECONDS = 1.5
LEFT_COLUMN_PX = 130  # "Input level" and the tone button line up under each other


def _list_devices():
    from studio.core.devices import list_devices

    return list_devices("input"), list_devices("output")


class _MonitorSlot:
    """The one InputMonitor the dialog may hold, shared with the worker that opens it.

    A monitor that finishes opening after the user moved on (another input chosen, dialog hidden or
    destroyed) is closed by whichever side comes second, so no microphone stream is ever leaked.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.gen = 0
        self.monitor = None

    def close(self, *_args) -> None:
        with self.lock:
            self.gen += 1
            mon, self.monitor = self.monitor, None
        if mon is not None:
            mon.stop()


def _open_monitor(slot: _MonitorSlot, gen: int, device: str | None, samplerate: int):
    from studio.core.recorder_levels import InputMonitor

    mon = InputMonitor(device, samplerate=samplerate)
    mon.start()  # DeviceError with the user's sentence when it cannot be opened
    with slot.lock:
        if slot.gen == gen:
            slot.monitor = mon
            return mon
    mon.stop()  # no longer wanted
    return None


def _play_tone(device: str | None) -> None:
    from studio.core.devices import play_test_tone

    player = play_test_tone(device, TONE_SECONDS, wait=True)
    player.close()


def open_portaudio_streams() -> int:
    """How many sounddevice streams exist unclosed anywhere in the process.

    Re-initializing PortAudio invalidates every open stream (a later close() on one would touch
    freed memory), so Rescan refuses while this is not zero. A gc walk is the only complete census
    (workspaces own their streams); it costs a few ms and runs only when Rescan is pressed.
    """
    import sounddevice as sd

    gc.collect()  # a dropped stream caught in a reference cycle is not "open"

    def is_open(o) -> bool:
        try:
            # type(), not isinstance(): isinstance reads __class__, which some module proxies
            # (torch's deprecated aliases) answer with a warning.
            return issubclass(type(o), sd._StreamBase) and not o.closed
        except AttributeError:  # constructor failed before the PortAudio pointer existed
            return False

    return sum(1 for o in gc.get_objects() if is_open(o))


class AudioDevicesDialog(QDialog):
    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Audio devices")
        self.resize(820, 640)
        self._slot = _MonitorSlot()
        self._tone_playing = False

        self.inputs = DeviceTable("input")
        self.outputs = DeviceTable("output")
        self.meter = LevelMeter()
        self.input_status = QLabel("")
        self.input_status.setObjectName("hint")
        self.tone_button = QPushButton("Play test tone")
        self.tone_button.setToolTip(f"Plays a {TONE_SECONDS:g} s 440 Hz tone at -12 dBFS on the chosen output")
        self.output_status = QLabel("")
        self.output_status.setObjectName("hint")
        self.message = QLabel("")  # device errors, in the dialog itself: the user is looking here
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.message.setVisible(False)
        self.rescan_button = QPushButton("Rescan")
        self.rescan_button.setToolTip("Look for devices plugged in or removed since Mynah started")

        intro = QLabel("Choose where Mynah records from and plays to. The choice is remembered by device "
                       "name and host API, so it survives restarts and re-plugging.")
        intro.setObjectName("hint")
        intro.setWordWrap(True)
        in_box = QGroupBox("Input (microphone)")
        iv = QVBoxLayout(in_box)
        iv.addWidget(self.inputs, 1)
        meter_row = QHBoxLayout()
        meter_label = QLabel("Input level")
        meter_label.setFixedWidth(LEFT_COLUMN_PX)
        meter_row.addWidget(meter_label)
        meter_row.addWidget(self.meter, 1)
        iv.addLayout(meter_row)
        iv.addWidget(self.input_status)
        out_box = QGroupBox("Output (playback)")
        ov = QVBoxLayout(out_box)
        ov.addWidget(self.outputs, 1)
        tone_row = QHBoxLayout()
        self.tone_button.setFixedWidth(LEFT_COLUMN_PX)
        tone_row.addWidget(self.tone_button)
        tone_row.addWidget(self.output_status, 1)
        ov.addLayout(tone_row)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(self.rescan_button)
        bottom.addStretch(1)
        bottom.addWidget(buttons)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addWidget(in_box, 1)
        lay.addWidget(out_box, 1)
        lay.addWidget(self.message)
        lay.addLayout(bottom)

        self.inputs.chosen.connect(self._input_chosen)
        self.outputs.chosen.connect(self._output_chosen)
        self.tone_button.clicked.connect(self.play_test_tone)
        self.rescan_button.clicked.connect(self.rescan)
        # The monitor's stream can die (unplugged) while the dialog is open: check a few times a second.
        self._watch = QTimer(self, interval=250)
        self._watch.timeout.connect(self._check_monitor)
        self.destroyed.connect(self._slot.close)  # a plain object's method: safe after the dialog is gone
        app = QApplication.instance()
        if app is not None:  # quitting with the dialog open: release the microphone first
            app.aboutToQuit.connect(self._stop_monitor)

    # ---- showing / listing ----------------------------------------------------------------
    def showEvent(self, ev) -> None:
        super().showEvent(ev)
        self.refresh()

    def hideEvent(self, ev) -> None:
        self._stop_monitor()  # a hidden dialog must not keep the microphone open
        super().hideEvent(ev)

    def refresh(self) -> None:
        self.input_status.setText("Listing devices…")
        run_in_background(_list_devices, on_done=self._listed, on_error=self._list_failed, owner=self)

    def _listed(self, lists) -> None:
        ins, outs = lists
        s = self.ctx.settings
        self.inputs.fill(ins, s.input_device)
        self.outputs.fill(outs, s.output_device)
        self.output_status.setText("")
        if self.isVisible():
            self._start_monitor()

    def _list_failed(self, exc: BaseException) -> None:
        self.input_status.setText("")
        self.show_message(f"Could not list audio devices: {exc}")

    def show_message(self, text: str, warn: bool = False) -> None:
        color = COLORS["warn"] if warn else COLORS["bad"]
        self.message.setStyleSheet(f"background:#2a2320; border:1px solid {color}; color:{color}; "
                                   "padding:6px; border-radius:3px;")
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # ---- choosing -------------------------------------------------------------------------
    def _sync_pickers(self, kind: str, value: str | None) -> None:
        """The combo boxes in the window (transport, Voices) follow, and their owners react as if
        the user had picked there (the transport stops playback on the old output)."""
        window = self.parentWidget()
        if window is None:
            return
        for picker in window.findChildren(DevicePicker):
            if picker.kind == kind:
                picker.set_current(value)
                picker.deviceChanged.emit(value)

    def _input_chosen(self, value: str | None) -> None:
        self.ctx.settings.input_device = value
        self._sync_pickers("input", value)
        self._saved()
        self._start_monitor()

    def _output_chosen(self, value: str | None) -> None:
        self.ctx.set_output_device(value)
        self._sync_pickers("output", value)
        self._saved()
        self.output_status.setText(f"Playback goes to '{self.outputs.current_name()}'.")

    def _saved(self) -> None:
        self.show_message("")
        self.ctx.status.devices_changed.emit()
        try:
            self.ctx.save_settings()
        except OSError as exc:  # the choice still holds for this session
            log.warning("saving settings: %s", exc)

    # ---- input monitor --------------------------------------------------------------------
    def _start_monitor(self) -> None:
        self._stop_monitor()
        gen = self._slot.gen
        name = self.inputs.current_name()
        self.input_status.setText(f"Opening '{name}'…")
        run_in_background(_open_monitor, self._slot, gen, self.inputs.current_value(),
                          self.ctx.settings.record_samplerate,
                          on_done=lambda mon: self._monitor_open(gen, name, mon),
                          on_error=lambda exc: self._monitor_failed(gen, exc), owner=self)

    def _monitor_open(self, gen: int, name: str, mon) -> None:
        if mon is None or gen != self._slot.gen:
            return  # superseded; the worker or _stop_monitor closed it
        self.meter.set_source(mon.level, lambda: mon.overflows)
        self.input_status.setText(f"Listening to '{name}': speak, or play the test tone into it.")
        self._watch.start()

    def _monitor_failed(self, gen: int, exc: BaseException) -> None:
        if gen != self._slot.gen:
            return
        self.input_status.setText("No input level: the device could not be opened.")
        self.show_message(str(exc))

    def _check_monitor(self) -> None:
        mon = self._slot.monitor
        if mon is not None and mon.error:
            name = self.inputs.current_name()
            self._stop_monitor()
            self.input_status.setText("No input level.")
            self.show_message(f"'{name}': {mon.error} Plug it back in and press Rescan, or choose another input.")

    def _stop_monitor(self) -> None:
        self._watch.stop()
        self.meter.set_source(None)
        self._slot.close()

    # ---- test tone ------------------------------------------------------------------------
    def play_test_tone(self) -> None:
        if self._tone_playing:
            return
        name = self.outputs.current_name()
        self._tone_playing = True
        self.tone_button.setEnabled(False)
        self.output_status.setText(f"Playing a 440 Hz tone on '{name}'…")
        self.show_message("")
        run_in_background(_play_tone, self.outputs.current_value(), lower_priority=False,
                          on_done=lambda _r: self._tone_done(f"Played a 440 Hz tone on '{name}'."),
                          on_error=self._tone_failed, owner=self)

    def _tone_done(self, text: str) -> None:
        self._tone_playing = False
        self.tone_button.setEnabled(True)
        self.output_status.setText(text)

    def _tone_failed(self, exc: BaseException) -> None:
        self._tone_done("The test tone could not be played.")
        self.show_message(str(exc))

    # ---- rescan ---------------------------------------------------------------------------
    def _busy_reason(self) -> str | None:
        if self._tone_playing:
            return "the test tone is playing"
        window = self.parentWidget()
        for obj in (window.findChildren(QObject) if window is not None else []):
            try:
                if getattr(obj, "is_recording", False) is True:
                    return "a recording is in progress"
            except Exception:  # a half-built widget's property: not a recorder
                continue
        player = self.ctx._player
        if player is not None and (player.is_playing or player.is_paused):
            return "audio is playing (stop playback first)"
        return None

    def rescan(self) -> None:
        """Re-initialize PortAudio so new devices show. Only with no stream open: see open_portaudio_streams."""
        reason = self._busy_reason()
        if reason is None:
            self._stop_monitor()  # ours: reopened after the rescan
            if self.ctx._player is not None:  # idle shared player: drop it, the next play opens a new one
                self.ctx.set_output_device(self.ctx.settings.output_device)
            if open_portaudio_streams():
                reason = "another part of Mynah still has an audio device open (a level meter or playback)"
                self._start_monitor()
        if reason is not None:
            self.show_message(f"Cannot rescan while {reason}: rescanning resets every open audio stream. "
                              "Try again when it has finished.", warn=True)
            return
        from studio.core.devices import DeviceError, rescan_devices

        try:
            rescan_devices()  # ~0.1 s; on the GUI thread so nothing can open a stream meanwhile
        except DeviceError as exc:
            self.show_message(str(exc))
            return
        self.show_message("")
        window = self.parentWidget()
        for picker in (window.findChildren(DevicePicker) if window is not None else []):
            picker.refresh()
        self.refresh()
