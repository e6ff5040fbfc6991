"""The bad-file corpus imported through the GUI: each file gets a clear message, the app lives,
and the clip the user had open stays open."""
from pathlib import Path

import numpy as np
import pytest

from tests.bad_audio import make_corpus


@pytest.fixture
def window(qtbot, qapp):
    from studio.ui.app import create_window

    w = create_window()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()
    from studio.ui.widgets.background import shutdown_pools

    from studio.ui.widgets.background import analysis_pool

    shutdown_pools()
    analysis_pool().waitForDone(120000)  # no worker thread left running when pytest exits
    w.ctx.library.close()


def _import(qtbot, ws, path: Path, timeout=60000):
    with qtbot.waitSignal(ws.controller.importFinished, timeout=timeout) as b:
        ws.import_files([path])
    return b.args[1]


def test_bad_files_get_a_message_and_lose_nothing(qtbot, window, tmp_path, speech_clips):
    ws = window.workspace("Voices")
    c, v = ws.controller, ws.view
    assert _import(qtbot, ws, speech_clips[0]["path"])
    good = c.state
    v.transcript_edit.setPlainText("typed by the user")
    cases = [k for k in make_corpus(tmp_path / "corpus", include_long=False) if not k.loads]
    cases.append(type(cases[0])("missing file", tmp_path / "nope.wav", False, error_contains="not found"))
    assert len(cases) >= 3
    for case in cases:
        assert _import(qtbot, ws, case.path) is False, case.name
        assert v.banner.isVisible()
        assert case.path.name in v.banner.text(), case.name
        assert case.error_contains in v.banner.text().lower(), (case.name, v.banner.text())
        assert "Traceback" not in v.banner.text()
        assert c.state is good  # what the user had open is still open
        assert v.transcript_edit.toPlainText() == "typed by the user"
    assert window.isVisible()


def test_odd_but_readable_files_open_with_their_warning(qtbot, window, tmp_path):
    ws = window.workspace("Voices")
    c, v = ws.controller, ws.view
    for case in [k for k in make_corpus(tmp_path / "corpus", include_long=False) if k.loads]:
        assert _import(qtbot, ws, case.path), case.name
        assert c.state.name == case.path.name
        assert c.state.samples.ndim == 1 and c.state.samples.dtype == np.float32  # mono float working copy
        assert np.isfinite(c.state.samples).all(), case.name
        if case.warning_contains:
            assert case.warning_contains in v.banner.text().lower(), (case.name, v.banner.text())


@pytest.mark.slow
def test_two_hour_file_warns_and_stays_usable(qtbot, window, tmp_path):
    long_case = [k for k in make_corpus(tmp_path / "corpus") if k.duration_s and k.duration_s > 3600][0]
    ws = window.workspace("Voices")
    c, v = ws.controller, ws.view
    assert _import(qtbot, ws, long_case.path, timeout=120000)
    assert "long" in v.banner.text().lower()
    assert v.waveform.duration_s == pytest.approx(7200, abs=1)
    assert v.mel._placeholder.toPlainText()  # "computing spectrogram…" meanwhile, not a frozen window
    # Zooming in and out redraws quickly at every scale: never more than a few thousand points.
    for lo, hi in ((0, 7200), (3600, 3610), (100.0, 100.05)):
        v.waveform.zoom_to(lo, hi)
        v.waveform._draw_visible()
        assert len(v.waveform.curve.getData()[0]) <= 4 * 4 * max(400, v.waveform.width()) + 8
    # Editing does not queue behind the long file's spectrogram: trimming to 10 s is prompt.
    v.waveform.set_selection(10.0, 20.0)
    with qtbot.waitSignal(c.clipChanged, timeout=20000):
        v.trim_action.trigger()
    assert c.state.duration_s == pytest.approx(10.0, abs=1e-3)
    qtbot.waitUntil(lambda: v.mel.has_image() and c.report is not None, timeout=60000)
    assert c.report.duration_s == pytest.approx(10.0, abs=1e-3)  # readouts are for the trimmed clip
