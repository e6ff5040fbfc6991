"""Long files import through the streaming peak pass and end with an exact envelope.

(How fast the waveform appears is a figure: benchmarks/bench_import_gui.py.)"""
import numpy as np
import pytest
import soundfile as sf


def _long_wav(path, sr=8000, seconds=240.0):
    x = np.zeros((int(sr * seconds), 2), np.float32)
    burst = slice(int(sr * 100), int(sr * 102))  # a loud 2 s burst at 100 s, silence elsewhere
    x[burst] = 0.8 * np.sin(np.arange(2 * sr) / 3)[:, None]
    sf.write(path, x, sr, subtype="PCM_16")


def test_long_file_envelope_shows_the_burst_and_nothing_else(qtbot, tmp_path):
    from studio.ui.app import create_window
    from studio.ui.widgets.background import analysis_pool, shutdown_pools

    path = tmp_path / "long.wav"
    _long_wav(path)
    w = create_window()
    qtbot.addWidget(w)
    w.show()
    ws = w.workspace("Voices")
    c, v = ws.controller, ws.view
    try:
        with qtbot.waitSignal(c.importFinished, timeout=60000):
            ws.import_files([path])
        assert c.state.duration_s == pytest.approx(240.0)
        assert v.waveform.duration_s == pytest.approx(240.0)
        # The envelope at full view keeps the 2 s burst (peak ~0.8) and nothing elsewhere.
        centres, _mins, maxs = c.state.pyramid.envelope(0, len(c.state.samples), 1000)
        loud = centres[maxs > 0.5] / c.state.sample_rate
        assert loud.size and 99.0 <= loud.min() and loud.max() <= 103.0
        assert "loading" not in v.clip_info.text()
    finally:
        w.close()
        shutdown_pools()
        analysis_pool().waitForDone(60000)
        w.ctx.library.close()
