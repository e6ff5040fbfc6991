"""Long files import through the streaming peak pass and end with an exact envelope; a long
16-bit file shows its whole waveform before its samples are decoded.

(How fast the waveform appears is a figure: benchmarks/bench_import_gui.py.)"""
import numpy as np
import pytest
import soundfile as sf


def _long_wav(path, sr=8000, seconds=240.0):
    x = np.zeros((int(sr * seconds), 2), np.float32)
    burst = slice(int(sr * 100), int(sr * 102))  # a loud 2 s burst at 100 s, silence elsewhere
    x[burst] = 0.8 * np.sin(np.arange(2 * sr) / 3)[:, None]
    sf.write(path, x, sr, subtype="PCM_16")


@pytest.fixture
def voices(qtbot):
    from studio.ui.app import create_window
    from studio.ui.widgets.background import analysis_pool, shutdown_pools

    w = create_window()
    qtbot.addWidget(w)
    w.show()
    try:
        yield w.workspace("Voices")
    finally:
        w.close()
        shutdown_pools()
        analysis_pool().waitForDone(60000)
        w.ctx.library.close()


def _loud_seconds(centres, maxs, sr):
    return centres[maxs > 0.5] / sr


def test_long_file_envelope_shows_the_burst_and_nothing_else(qtbot, tmp_path, voices):
    path = tmp_path / "long.wav"
    _long_wav(path)
    c, v = voices.controller, voices.view
    with qtbot.waitSignal(c.importFinished, timeout=60000):
        voices.import_files([path])
    assert c.state.duration_s == pytest.approx(240.0)
    assert v.waveform.duration_s == pytest.approx(240.0)
    # The envelope at full view keeps the 2 s burst (peak ~0.8) and nothing elsewhere.
    centres, _mins, maxs = c.state.pyramid.envelope(0, len(c.state.samples), 1000)
    loud = _loud_seconds(centres, maxs, c.state.sample_rate)
    assert loud.size and 99.0 <= loud.min() and loud.max() <= 103.0
    assert not any(w in v.clip_info.text() for w in ("loading", "reading", "decoding"))


def test_whole_waveform_is_drawn_before_the_samples_are_decoded(qtbot, tmp_path, voices, monkeypatch):
    """A long 16-bit file: an overview pass draws the whole file's exact waveform (the burst
    where it is, silence elsewhere, over the full time axis) while the clip is still loading;
    the clip then opens with that same picture."""
    from engine.audio import io
    from studio.ui.voices import clip_state as cs

    monkeypatch.setattr(cs, "OVERVIEW_FIRST_ABOVE", 1 << 20)  # 240 s at 8 kHz counts as long
    monkeypatch.setattr(io, "_PARALLEL_ABOVE", 1 << 20)  # and is scanned by two threads
    path = tmp_path / "long.wav"
    _long_wav(path)
    c, v = voices.controller, voices.view
    seen = {}

    def on_whole():
        x, y = v.waveform.curve.getData()
        seen.update(state=c.state, title=v.clip_title.text(), x=x.copy(), y=y.copy(),
                    info=v.clip_info.text(), range=v.waveform.visible_range())

    c.waveformShown.connect(on_whole)
    with qtbot.waitSignal(c.importFinished, timeout=60000):
        voices.import_files([path])
    assert seen, "the whole waveform was shown"
    assert seen["state"] is None, "...before the clip itself was loaded"
    assert seen["title"] == "long.wav" and "decoding" in seen["info"]
    assert seen["range"] == pytest.approx((0.0, 240.0))
    x, y = seen["x"], seen["y"]
    assert x.min() < 1.0 and x.max() > 239.0, "the whole file, not a part"
    loud = x[np.abs(y) > 0.5]
    assert loud.size and 99.0 <= loud.min() and loud.max() <= 103.0
    assert np.abs(y).max() == pytest.approx(0.8, abs=0.01)
    assert c.state.pyramid.n_valid == c.state.samples.size
    # What was shown early is exactly the envelope of the decoded samples (drawn afresh here).
    v.waveform.set_audio(c.state.samples, c.state.sample_rate)
    x2, y2 = v.waveform.curve.getData()
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)


def test_long_phone_memo_streams_onto_the_screen_while_it_decodes(qtbot, tmp_path, voices, monkeypatch):
    """A 4-minute AAC .m4a (what a phone's voice recorder makes) decodes through FFmpeg block by
    block: the waveform grows on screen before the clip is open, and the burst ends up where it is."""
    from engine.audio import io
    from tests.container_audio import encode

    monkeypatch.setattr(io, "_BLOCK_FRAMES", 1 << 17)  # ~8 s blocks at 16 kHz: many progress reports
    sr = 16000
    x = np.zeros(sr * 240, np.float32)
    x[sr * 100:sr * 102] = 0.8 * np.sin(np.arange(2 * sr) / 3)
    path = encode(tmp_path / "memo.m4a", x, sr, "ipod", "aac")
    c, v = voices.controller, voices.view
    seen = {}
    c.previewShown.connect(lambda: seen.setdefault("state", c.state))
    extents = []
    show = v.waveform.show_progress
    monkeypatch.setattr(v.waveform, "show_progress", lambda peaks, *a: (extents.append(peaks.extent), show(peaks, *a)))
    monkeypatch.setattr("studio.ui.voices.clip_state.PROGRESS_EVERY_S", 0.0)
    with qtbot.waitSignal(c.importFinished, timeout=60000) as done:
        voices.import_files([path])
    assert done.args == [str(path), True]
    assert "state" in seen and seen["state"] is None, "the waveform was on screen before the clip opened"
    assert len({e for e in extents if 0 < e < sr * 240}) >= 3, f"it grew in steps while decoding: {extents}"
    assert c.state.duration_s == pytest.approx(240.0, abs=0.1)
    centres, _mins, maxs = c.state.pyramid.envelope(0, len(c.state.samples), 1000)
    loud = _loud_seconds(centres, maxs, c.state.sample_rate)
    assert loud.size and 99.0 <= loud.min() and loud.max() <= 103.0
