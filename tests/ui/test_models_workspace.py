"""Models workspace: catalog state, import local folder (good and bad), offline message, delete,
download with a cancel/resume through a local stand-in Hub, changing the models folder."""
import pytest

from engine.hub.catalog import CSM_1B
from engine.hub.local import model_dir
from studio.ui.models.controller import models_root
from studio.ui.models.view import column
from studio.ui.models.workspace import ModelsWorkspace
from tests.engine.test_hub import make_model_folder
from tests.engine.test_hub_download import FILES, WEIGHTS, WEIGHTS_NAME, FakeHub
from tests.ui.test_synthesize_helpers import make_ctx


@pytest.fixture
def ws(qtbot):
    ctx = make_ctx()
    w = ModelsWorkspace(ctx)
    qtbot.addWidget(w)
    w.controller.confirm = lambda title, text: True
    return w


def _wait_idle(qtbot, w, timeout=30000):  # a ceiling: on a loaded machine the first download imports the hub client
    qtbot.waitUntil(lambda: w.controller.task is None, timeout=timeout)


def cell(t, row, name):
    return t.item(row, column(name)).text()


def test_catalog_shows_csm_not_installed(ws):
    t = ws.view.table
    assert cell(t, 0, "Model") == "Sesame CSM-1B" and cell(t, 0, "Size") == "7.2 GB"
    assert cell(t, 0, "Licence") == "Apache-2.0" and "Gated" in cell(t, 0, "Access")
    assert "GPU" in cell(t, 0, "Runs well on") and cell(t, 0, "Languages") == "English"
    assert ws.controller.status_text() == "Not installed"
    assert not ws.view.delete_button.isEnabled()


def test_catalog_lists_the_whisper_models_with_what_a_user_weighs(ws):
    t = ws.view.table
    rows = {cell(t, r, "Model"): r for r in range(t.rowCount())}
    for name in ("Whisper tiny.en", "Whisper small", "Whisper medium", "Whisper large-v3", "Whisper large-v3-turbo"):
        assert name in rows
    r = rows["Whisper large-v3"]
    assert cell(t, r, "Size") == "3.1 GB" and cell(t, r, "Licence") == "MIT" and cell(t, r, "Access") == "Open"
    assert "Speech recognition" in cell(t, r, "Kind") and "slowest" in cell(t, r, "Kind")
    assert cell(t, r, "Languages") == "100 languages" and cell(t, rows["Whisper small.en"], "Languages") == "English"


def test_an_estimated_size_says_so(ws):
    """The gated Pocket TTS repo publishes no file sizes: its rows show an estimate, marked as one."""
    t = ws.view.table
    rows = {cell(t, r, "Model"): r for r in range(t.rowCount())}
    assert cell(t, rows["Pocket TTS English"], "Size").startswith("≈ ")
    assert cell(t, rows["Pocket TTS German (preset voices)"], "Size") == "384.3 MB"  # every byte published


def _fills_width(t):
    return abs(sum(t.columnWidth(i) for i in range(t.columnCount())) - t.viewport().width()) <= 2


def test_the_table_still_fills_its_width_after_a_download_starts_and_ends(ws, qtbot):
    ws.resize(1400, 700)
    ws.show()
    qtbot.waitUntil(lambda: ws.view.table.viewport().width() > 1000)
    t = ws.view.table
    assert _fills_width(t)
    model_col = t.columnWidth(column("Model"))
    ws.controller.endpoint = "http://127.0.0.1:9"  # fails fast: the download starts and ends
    ws.controller.download_selected()
    assert _fills_width(t)
    _wait_idle(qtbot, ws)
    qtbot.wait(50)
    assert _fills_width(t) and t.columnWidth(column("Model")) == model_col  # not shrunk to its text
    ws.grab().save("/tmp/mynah-models-after-download.png")


def test_speech_recognition_choice_defaults_to_the_bundled_whisper_and_is_saved(ws):
    combo = ws.view.asr_combo
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert "bundled" in labels[0] and labels[-1].startswith("pocketsphinx") and "low accuracy" in labels[-1]
    assert ws.controller.asr_in_use().label == "Whisper tiny.en (bundled)"
    combo.activated.emit(combo.count() - 1)
    assert ws.ctx.settings.asr_model == "pocketsphinx" and ws.controller.asr_in_use().low_accuracy
    assert "pocketsphinx" in ws.view.asr_detail.text()


def test_import_folder_missing_a_file_says_which(ws, qtbot, tmp_path):
    src = make_model_folder(tmp_path / "incomplete", skip=("tokenizer.json",))
    ws.controller.import_folder(src)
    _wait_idle(qtbot, ws)
    assert "missing tokenizer.json" in ws.view.message.text()
    assert ws.controller.status_text() == "Not installed"
    assert (src / "model.safetensors").exists()  # the user's folder is untouched


def test_import_then_verify_then_delete(ws, qtbot, tmp_path):
    src = make_model_folder(tmp_path / "good")
    ws.controller.import_folder(src)
    _wait_idle(qtbot, ws)
    assert ws.controller.status_text() == "Installed"
    assert ws.view.delete_button.isEnabled() and "KB used" in ws.view.disk_usage.text()
    ws.controller.verify_selected()
    _wait_idle(qtbot, ws)
    assert "all files match" in ws.view.message.text()
    ws.controller.delete_selected()
    assert ws.controller.status_text() == "Not installed" and "freed" in ws.view.message.text()


def test_offline_download_says_what_to_fetch_and_where(ws, qtbot):
    ws.controller.endpoint = "http://127.0.0.1:9"
    ws.controller.download_selected()
    _wait_idle(qtbot, ws)
    msg = ws.view.message.text()
    assert "Cannot reach" in msg and "transformers-00001-of-00002.safetensors" in msg and "Import local folder" in msg
    assert ws.controller.status_text() == "Not installed"  # a failed attempt leaves nothing behind
    ws.grab().save("/tmp/mynah-models-offline.png")


def test_download_cancel_and_resume_in_the_gui(ws, qtbot):
    import threading

    hub = FakeHub(dict(FILES))
    # The Hub sends 2.5 MB of the weights, then waits until the user has pressed Cancel, as a slow
    # network would. Without the hold, the worker can receive the rest of the file before the GUI
    # thread handles the progress event that presses Cancel (a loaded machine), and the download
    # then ends "Ready" with Cancel pressed too late: the race this test used to lose.
    pressed = threading.Event()
    hub.hold_once[WEIGHTS_NAME] = (2_500_000, pressed)
    try:
        ws.controller.endpoint = hub.endpoint
        orig = ws.controller._progress

        def cancel_mid(p):  # the user presses Cancel when the weights are half way
            orig(p)
            if p[2] == WEIGHTS_NAME and p[0] > 1_500_000 and not pressed.is_set():
                ws.view.cancel_button.click()
                pressed.set()
        ws.controller.task = None
        ws.controller._progress = cancel_mid
        ws.controller.download_selected()
        _wait_idle(qtbot, ws)
        assert "cancelled" in ws.view.message.text()
        assert "Incomplete" in ws.controller.status_text()
        ws.controller._progress = orig
        ws.controller.download_selected()
        _wait_idle(qtbot, ws)
        assert ws.controller.status_text() == "Installed"
        assert (model_dir(models_root(ws.ctx), CSM_1B) / WEIGHTS_NAME).read_bytes() == WEIGHTS
        assert hub.range_requests and hub.range_requests[0][1] > 0  # resumed, not restarted
    finally:
        pressed.set()
        hub.close()


def test_change_models_folder(ws, tmp_path):
    ws.controller.change_models_dir(tmp_path / "elsewhere")
    assert ws.ctx.settings.models_dir == str(tmp_path / "elsewhere")
    assert ws.view.cache_label.text() == str(tmp_path / "elsewhere")
    assert ws.ctx.paths.settings_file.exists()


def test_token_is_never_left_on_screen(ws):
    ws.view.token_edit.setText("hf_abc123")
    ws.view.save_token_button.click()
    assert ws.view.token_edit.text() == "" and "token" in ws.view.token_state.text()
    from engine.hub.download import save_token
    save_token("")


def test_workspaces_import_without_torch_or_the_hub_client():
    """The window must appear before torch loads: these modules are imported at start-up."""
    import os
    import subprocess
    import sys

    code = ("import sys; import studio.ui.synthesize.workspace, studio.ui.compare.workspace, "
            "studio.ui.models.workspace, studio.ui.finetune.workspace; print(sorted(m for m in ('torch', 'huggingface_hub', 'transformers') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_downloading_a_whisper_in_the_gui_makes_it_the_recognizer(ws, qtbot):
    from engine.eval.asr import bundled_whisper_dir
    from tests.engine.hub_trees import listing

    bundled = bundled_whisper_dir()
    files = {n: (bundled / n).read_bytes() if (bundled / n).is_file() else b"stand-in"
             for n in listing("Systran/faster-whisper-tiny.en")}
    hub = FakeHub(files, lfs={"model.bin"}, repo="Systran/faster-whisper-tiny.en")
    try:
        t = ws.view.table
        row = next(r for r in range(t.rowCount()) if cell(t, r, "Model") == "Whisper tiny.en")
        t.selectRow(row)
        ws.controller.endpoint = hub.endpoint
        ws.controller.download_selected()
        _wait_idle(qtbot, ws)
        assert ws.controller.status_text(row) == "Installed", ws.view.message.text()
        assert ws.controller.asr_in_use().label == "Whisper tiny.en"  # the download, not the bundled copy
        assert "Whisper tiny.en" in ws.view.asr_combo.itemText(0) and "In use: Whisper tiny.en" in ws.view.asr_detail.text()
    finally:
        hub.close()
