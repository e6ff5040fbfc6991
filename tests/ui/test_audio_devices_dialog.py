"""File ▸ Audio devices…: the device lists, a choice that survives a restart, the test tone heard
on the input meter (through the private PulseAudio null sink), Rescan, and devices that cannot be
opened (a clear sentence in the dialog, which stays usable)."""
import pytest
import sounddevice as sd
from PySide6.QtCore import Qt

from studio.core.devices import list_devices

pytestmark = pytest.mark.audio


def _window(qtbot):
    from studio.ui.app import create_window

    w = create_window()
    qtbot.addWidget(w)
    w.show()
    return w


def _close(w):
    from studio.ui.widgets.background import analysis_pool, shutdown_pools

    if getattr(w, "devices_dialog", None) is not None:
        w.devices_dialog.close()
    w.close()
    shutdown_pools()
    analysis_pool().waitForDone(60000)
    w.ctx.library.close()


def _open_dialog(qtbot, w):
    w.devices_action.trigger()  # File ▸ Audio devices…
    dlg = w.devices_dialog
    qtbot.waitUntil(lambda: dlg.outputs.rowCount() > 1 and dlg.inputs.rowCount() > 1, timeout=10000)
    return dlg


def _cells(table, row):
    return [table.item(row, c).text() for c in range(table.columnCount())]


def _row_named(table, name):
    return next(r for r in range(table.rowCount()) if table.item(r, 0).text() == name)


def _listening(dlg):
    return dlg.input_status.text().startswith("Listening")


def test_lists_devices_with_default_marked_and_choice_survives_restart(qtbot, qapp, pulse_sink):
    from studio.core.settings import load_settings, save_settings
    from studio.core.paths import get_paths

    # A settings file from before keys were stored: the bare name still selects the device.
    old = load_settings(get_paths().settings_file)
    old.input_device = "pulse"
    save_settings(old, get_paths().settings_file)

    w = _window(qtbot)
    try:
        dlg = _open_dialog(qtbot, w)
        outs = list_devices("output")
        shown = [_cells(dlg.outputs, r) for r in range(1, dlg.outputs.rowCount())]
        assert [c[0] for c in shown] == [d.name for d in outs] and "pulse" in [c[0] for c in shown]
        assert all(c[1] == d.hostapi and c[2] == str(d.max_output_channels) for c, d in zip(shown, outs))
        assert [c[4] for c in shown] == ["★ default" if d.is_default_output else "" for d in outs]
        assert sum(c[4] == "★ default" for c in shown) == 1
        default = next(d for d in outs if d.is_default_output)
        assert _cells(dlg.outputs, 0)[0] == f"System default ({default.name})"
        assert dlg.inputs.current_value() == "ALSA::pulse", "old bare-name setting found its device"
        assert dlg.outputs.current_value() is None  # nothing chosen yet: the system default

        dlg.outputs.selectRow(_row_named(dlg.outputs, "pulse"))
        assert w.ctx.settings.output_device == "ALSA::pulse"
        assert "Out: pulse" in w.device_label.text()
        assert w.transport.output_picker.currentText() == "pulse"
        qtbot.waitUntil(lambda: _listening(dlg), timeout=10000)  # the monitor opened the chosen input
        assert "'pulse'" in dlg.input_status.text()
    finally:
        _close(w)

    w2 = _window(qtbot)  # a restart: new window, same data folder
    try:
        assert w2.ctx.settings.output_device == "ALSA::pulse"
        dlg = _open_dialog(qtbot, w2)
        assert _cells(dlg.outputs, dlg.outputs.currentRow())[0] == "pulse"
        assert dlg.outputs.current_value() == "ALSA::pulse"
        assert "Out: pulse" in w2.device_label.text()
        qtbot.waitUntil(lambda: w2.transport.output_picker.count() > 1, timeout=10000)
        assert w2.transport.output_picker.currentText() == "pulse"
    finally:
        _close(w2)


def test_rescan_then_test_tone_is_heard_on_the_input_meter(qtbot, qapp, pulse_sink):
    w = _window(qtbot)
    try:
        dlg = _open_dialog(qtbot, w)
        qtbot.waitUntil(lambda: _listening(dlg), timeout=10000)
        qtbot.mouseClick(dlg.rescan_button, Qt.LeftButton)
        assert not dlg.message.isVisible(), dlg.message.text()
        qtbot.waitUntil(lambda: _listening(dlg), timeout=10000)  # devices listed again, monitor reopened
        assert dlg.outputs.rowCount() == len(list_devices("output")) + 1
        qtbot.wait(400)
        assert dlg.meter.bar.peak_db < -50, "silence on the sink before the tone"
        levels = []
        orig = dlg.meter.set_level
        dlg.meter.set_level = lambda r, p, c: (levels.append(r), orig(r, p, c))
        qtbot.mouseClick(dlg.tone_button, Qt.LeftButton)
        assert not dlg.tone_button.isEnabled() and "Playing" in dlg.output_status.text()
        qtbot.waitUntil(lambda: max(levels, default=-120) > -30, timeout=10000)  # -12 dBFS peak: ~-15 rms
        qtbot.waitUntil(dlg.tone_button.isEnabled, timeout=10000)
        assert dlg.output_status.text().startswith("Played a 440 Hz tone")
        assert not dlg.message.isVisible()
    finally:
        _close(w)


def test_device_that_cannot_be_opened_is_explained_and_dialog_lives(qtbot, qapp, pulse_sink, monkeypatch):
    w = _window(qtbot)
    w.ctx.settings.input_device = "ALSA::USB Podcast Mic"  # chosen last week, unplugged now
    try:
        dlg = _open_dialog(qtbot, w)
        row = dlg.inputs.currentRow()
        assert _cells(dlg.inputs, row)[0] == "USB Podcast Mic — not connected"
        qtbot.waitUntil(dlg.message.isVisible, timeout=10000)
        assert "'USB Podcast Mic' is not connected" in dlg.message.text()
        assert "could not be opened" in dlg.input_status.text()
        assert w.ctx.settings.input_device == "ALSA::USB Podcast Mic", "not silently replaced"

        dlg.inputs.selectRow(0)  # back to the system default: works, the message goes
        qtbot.waitUntil(lambda: _listening(dlg), timeout=10000)
        assert not dlg.message.isVisible() and w.ctx.settings.input_device is None

        dlg._slot.monitor._stream.abort()  # the input vanishes while the meter is running
        qtbot.waitUntil(dlg.message.isVisible, timeout=5000)
        assert "stopped delivering audio" in dlg.message.text() and "Rescan" in dlg.message.text()
        assert dlg.input_status.text() == "No input level."
        qtbot.mouseClick(dlg.rescan_button, Qt.LeftButton)  # "plugged back in": Rescan reopens it
        qtbot.waitUntil(lambda: _listening(dlg), timeout=10000)
        assert not dlg.message.isVisible()

        # An output another program holds: PortAudio refuses to open it.
        def busy(*a, **k):
            raise sd.PortAudioError("Device unavailable", -9985)

        monkeypatch.setattr(sd, "OutputStream", busy)
        qtbot.mouseClick(dlg.tone_button, Qt.LeftButton)
        qtbot.waitUntil(dlg.tone_button.isEnabled, timeout=10000)
        assert dlg.isVisible() and dlg.message.isVisible()
        assert "Cannot use the output" in dlg.message.text() and "Device unavailable" in dlg.message.text()
        assert dlg.output_status.text() == "The test tone could not be played."
        monkeypatch.undo()
        qtbot.mouseClick(dlg.tone_button, Qt.LeftButton)  # the next try works again
        qtbot.waitUntil(dlg.tone_button.isEnabled, timeout=10000)
        assert dlg.output_status.text().startswith("Played"), dlg.message.text()
    finally:
        _close(w)


def test_rescan_waits_for_a_recording_to_finish(qtbot, qapp, pulse_sink):
    w = _window(qtbot)
    try:
        ws = w.show_workspace("Voices")
        c = ws.controller
        c.toggle_record()  # R
        assert c.is_recording, w.statusBar().currentMessage()
        dlg = _open_dialog(qtbot, w)
        qtbot.mouseClick(dlg.rescan_button, Qt.LeftButton)
        assert dlg.message.isVisible() and "Cannot rescan while a recording is in progress" in dlg.message.text()
        assert c.is_recording, "the recording goes on"
        with qtbot.waitSignal(c.importFinished, timeout=20000):
            c.toggle_record()
        from studio.core.recorder_levels import InputMonitor

        elsewhere = InputMonitor(None)  # e.g. the Dataset teleprompter's noise-floor meter
        elsewhere.start()
        try:
            qtbot.mouseClick(dlg.rescan_button, Qt.LeftButton)
            assert "still has an audio device open" in dlg.message.text()
            qtbot.waitUntil(lambda: _listening(dlg), timeout=10000)  # its own meter came back
        finally:
            elsewhere.stop()
        qtbot.mouseClick(dlg.rescan_button, Qt.LeftButton)
        assert not dlg.message.isVisible(), dlg.message.text()
        qtbot.waitUntil(lambda: _listening(dlg), timeout=10000)
    finally:
        _close(w)
