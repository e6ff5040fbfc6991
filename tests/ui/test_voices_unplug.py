"""A microphone that dies mid-recording in the Voices workspace: the take ends, what was captured
opens in the editor, and a message names the device and says the audio up to then was kept."""
from pathlib import Path

import numpy as np
import pytest

from studio.core.player import Player
from studio.core.recorder import Recorder
from tests.studio.test_recorder_support import dominant_hz, wait_for

pytestmark = pytest.mark.audio
SR = 48000


def _window(qtbot):
    from studio.ui.app import create_window

    w = create_window()
    qtbot.addWidget(w)
    w.show()
    return w


def _close(w):
    from studio.ui.widgets.background import analysis_pool, shutdown_pools

    w.close()
    shutdown_pools()
    analysis_pool().waitForDone(60000)
    w.ctx.library.close()


def _tone(seconds, hz=440.0):
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_stream_dying_mid_recording_opens_the_audio_and_says_so(qtbot, qapp, pulse_sink):
    w = _window(qtbot)
    ws = w.show_workspace("Voices")
    c = ws.controller
    player = Player()
    try:
        c.toggle_record()  # R
        assert c.is_recording, w.statusBar().currentMessage()
        rec = c._recorder
        assert wait_for(lambda: rec.frames_written > 0, 10)
        player.play(_tone(4.0), SR)
        qtbot.waitUntil(lambda: rec.frames_written > int(1.5 * SR), timeout=10000)
        with qtbot.waitSignal(c.importFinished, timeout=20000) as opened:
            rec._stream.abort()  # what PortAudio does when the device disappears
        player.stop()
        assert opened.args[1] is True
        assert not c.is_recording and not ws.view.record_action.isChecked()
        clip = c.state
        assert Path(clip.original).parent == w.ctx.paths.recordings
        assert clip.duration_s >= 1.5
        assert dominant_hz(clip.samples[-SR // 2:], clip.sample_rate) == pytest.approx(440, abs=5), \
            "the audio up to the failure is in the editor"
        banner = ws.view.banner
        assert banner.isVisible()
        text = banner.text()
        assert "The input device 'default' (the system default input) stopped delivering audio" in text
        assert "unplugged" in text and "was kept and is open in the editor" in text
        assert w.statusBar().currentMessage() == text  # also on the status line, until replaced
    finally:
        player.stop()
        _close(w)


class _StallingRecorder(Recorder):
    """A stream that stays 'open' but stops delivering blocks (e.g. a USB mic that hangs)."""

    stalled = False

    def _callback(self, indata, frames, time_info, status):
        if not self.stalled:
            super()._callback(indata, frames, time_info, status)


def test_stalled_input_names_the_chosen_device(qtbot, qapp, pulse_sink):
    w = _window(qtbot)
    w.ctx.settings.input_device = "ALSA::pulse"
    ws = w.show_workspace("Voices")
    c = ws.controller
    made = []

    def make_recorder(out_dir=None, **kw):
        kw.setdefault("device", w.ctx.settings.input_device)
        made.append(_StallingRecorder(out_dir or w.ctx.paths.recordings, stall_timeout_s=0.5, **kw))
        return made[-1]

    w.ctx.make_recorder = make_recorder
    try:
        c.toggle_record()
        assert c.is_recording, w.statusBar().currentMessage()
        rec = made[0]
        qtbot.waitUntil(lambda: rec.frames_written > SR // 2, timeout=10000)
        with qtbot.waitSignal(c.importFinished, timeout=20000):
            rec.stalled = True
        assert not c.is_recording
        assert c.state.duration_s == pytest.approx(rec.frames_written / SR, abs=0.01)
        text = ws.view.banner.text()
        assert text.startswith("The input device 'pulse' stopped delivering audio") and "was kept" in text
        assert f"({rec.frames_written / SR:.1f} s)" in text
        c.toggle_record()  # the next take starts normally
        assert c.is_recording
        with qtbot.waitSignal(c.importFinished, timeout=20000):
            c.toggle_record()
    finally:
        _close(w)
