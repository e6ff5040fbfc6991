"""Real audio through the private PulseAudio null sink: play a clip with Space while recording
with R; the meter moves, the playhead moves, and the recording opens in the editor."""
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt


@pytest.mark.audio
def test_record_what_is_played(qtbot, qapp, pulse_sink, speech_clips):
    from studio.ui.app import create_window
    from studio.ui.widgets.background import analysis_pool, shutdown_pools

    w = create_window()
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    ws = w.workspace("Voices")
    c = ws.controller
    try:
        with qtbot.waitSignal(c.importFinished, timeout=20000):
            ws.import_files([speech_clips[0]["path"]])
        source = c.state
        # Device pickers fill in from PortAudio (off the GUI thread); choosing one shows in the status bar.
        picker = ws.view.input_picker
        qtbot.waitUntil(lambda: picker.count() > 1, timeout=10000)
        names = [picker.itemText(i) for i in range(picker.count())]
        choice = next((n for n in names if "pulse" in n.lower()), None) or next((n for n in names if "default" in n.lower() and n != "System default"), None)
        if choice:
            picker.setCurrentIndex(names.index(choice))
            # Stored as the stable "<host API>::<name>" key; the status bar shows the name.
            from studio.core.devices import find_device

            assert find_device(w.ctx.settings.input_device, "input").name == choice
            assert f"In: {choice}" in w.device_label.text()
        qtbot.keyClick(w, Qt.Key_R)
        assert c.is_recording, w.statusBar().currentMessage()
        peaks = []
        orig = ws.view.meter.set_level
        ws.view.meter.set_level = lambda r, p, clip: (peaks.append(p), orig(r, p, clip))
        qtbot.keyClick(w, Qt.Key_Space)
        assert w.transport.playing, w.statusBar().currentMessage()
        # The playhead follows playback (PulseAudio may start late on a loaded machine).
        qtbot.waitUntil(lambda: ws.view.waveform.playhead.value() > 2.0, timeout=15000)
        with qtbot.waitSignal(c.importFinished, timeout=20000):
            qtbot.keyClick(w, Qt.Key_R)
        w.playback.stop()
        assert max(peaks) > -40.0  # the meter showed the played speech
        rec = c.state
        assert rec is not source and Path(rec.original).parent == w.ctx.paths.recordings
        assert 1.0 < rec.duration_s < 6.0  # ~2.5 s asked; PulseAudio start-up eats some under load
        assert float(np.sqrt(np.mean(rec.samples ** 2))) > 1e-3  # not silence
    finally:
        w.close()
        shutdown_pools()
        analysis_pool().waitForDone(60000)
        w.ctx.library.close()
