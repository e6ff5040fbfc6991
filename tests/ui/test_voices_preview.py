"""Long files: a sparse preview of the waveform appears while the full decode runs."""
import numpy as np
import pytest
import soundfile as sf

from studio.ui.voices.clip_state import PREVIEW_ABOVE_S, load_preview


def _long_wav(path, subtype="PCM_16", channels=2, sr=8000, seconds=PREVIEW_ABOVE_S + 60):
    x = np.zeros((int(sr * seconds), channels), np.float32)
    burst = slice(int(sr * 100), int(sr * 102))  # a loud 2 s burst at 100 s, silence elsewhere
    x[burst] = 0.8 * np.sin(np.arange(2 * sr) / 3)[:, None]
    sf.write(path, x, sr, subtype=subtype)
    return x


@pytest.mark.parametrize("subtype", ["PCM_16", "FLOAT", "PCM_24"])
def test_preview_shows_where_the_audio_is(tmp_path, subtype):
    path = tmp_path / f"long_{subtype}.wav"
    _long_wav(path, subtype)
    pv = load_preview(path)
    assert pv is not None and pv.duration_s == pytest.approx(PREVIEW_ABOVE_S + 60)
    loud = pv.times_s[np.abs(pv.values) > 0.5]
    assert loud.size and 99.9 <= loud.min() and loud.max() <= 102.1  # the burst, and only there
    assert np.abs(pv.values).max() <= 0.8 + 1e-3


def test_no_preview_for_short_or_compressed_files(tmp_path):
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros(8000, np.float32), 8000)
    assert load_preview(short) is None
    flac = tmp_path / "long.flac"
    sf.write(flac, np.zeros(int(8000 * (PREVIEW_ABOVE_S + 5)), np.float32), 8000, format="FLAC")
    assert load_preview(flac) is None  # seeking in FLAC decodes: the full read is as fast
    assert load_preview(tmp_path / "missing.wav") is None  # the import reports it properly


def test_preview_then_exact_waveform_in_the_editor(qtbot, qapp, tmp_path):
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
        c._loading = path  # as _next_import sets it: show the preview the worker would deliver
        c._preview(path, load_preview(path))
        assert v.waveform.duration_s == pytest.approx(PREVIEW_ABOVE_S + 60)
        assert "preview" in v.clip_info.text()
        with qtbot.waitSignal(c.importFinished, timeout=30000):
            ws.import_files([path])
        assert c.state.duration_s == pytest.approx(PREVIEW_ABOVE_S + 60)
        assert "preview" not in v.clip_info.text()
    finally:
        w.close()
        shutdown_pools()
        analysis_pool().waitForDone(60000)
        w.ctx.library.close()
