"""Models workspace: catalog state, import local folder (good and bad), offline message, delete,
download with a cancel/resume through a local stand-in Hub, changing the models folder."""
import pytest

from engine.hub.catalog import CSM_1B
from engine.hub.local import model_dir
from studio.ui.models.controller import models_root
from studio.ui.models.workspace import ModelsWorkspace
from tests.engine.test_hub import make_model_folder
from tests.engine.test_hub_download import FILES, WEIGHTS, FakeHub
from tests.ui.test_synthesize_helpers import make_ctx


@pytest.fixture
def ws(qtbot):
    ctx = make_ctx()
    w = ModelsWorkspace(ctx)
    qtbot.addWidget(w)
    w.controller.confirm = lambda title, text: True
    return w


def _wait_idle(qtbot, w, timeout=10000):
    qtbot.waitUntil(lambda: w.controller.task is None, timeout=timeout)


def test_catalog_shows_csm_not_installed(ws):
    t = ws.view.table
    assert t.item(0, 0).text() == "Sesame CSM-1B"
    assert t.item(0, 2).text() == "Apache-2.0" and "Gated" in t.item(0, 3).text()
    assert ws.controller.status_text() == "Not installed"
    assert not ws.view.delete_button.isEnabled()


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
    assert "Cannot reach" in msg and "model.safetensors" in msg and "Import local folder" in msg
    assert ws.controller.status_text() == "Not installed"  # a failed attempt leaves nothing behind
    ws.grab().save("/tmp/mynah-models-offline.png")


def test_download_cancel_and_resume_in_the_gui(ws, qtbot):
    hub = FakeHub(dict(FILES))
    try:
        ws.controller.endpoint = hub.endpoint
        orig = ws.controller._progress

        def cancel_mid(p):  # the user presses Cancel when the weights are half way
            orig(p)
            if p[2] == "model.safetensors" and p[0] > 1_500_000:
                ws.view.cancel_button.click()
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
        assert (model_dir(models_root(ws.ctx), CSM_1B) / "model.safetensors").read_bytes() == WEIGHTS
        assert hub.range_requests and hub.range_requests[0][1] > 0  # resumed, not restarted
    finally:
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
