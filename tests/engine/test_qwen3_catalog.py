"""Qwen3-TTS in the catalog beyond the plan tests: "Import local folder" on a Qwen3-TTS folder in the
Hub layout (the tiny model, which lives under ~/.cache like the Hub's own cache) copies one checkpoint,
speech_tokenizer/ included, and the installed folder is read by the qwen3 backend."""
import pytest


def test_a_qwen3_folder_imports_as_its_catalog_model_and_is_read_as_qwen3(tmp_path):
    pytest.importorskip("torch")
    from engine.backends import backend_for_folder
    from engine.hub.catalog import get_entry
    from engine.hub.local import import_local_folder, installed_models
    from tests.engine.qwen3_ref.tiny import cached_full_model

    entry = get_entry("Qwen/Qwen3-TTS-12Hz-0.6B-Base")
    dest = import_local_folder(cached_full_model(), entry, tmp_path / "models", link=True)
    assert (dest / "speech_tokenizer" / "model.safetensors").exists() and not (dest / "build.npz").exists()
    [m] = [m for m in installed_models(tmp_path / "models", kind="tts") if m.complete]
    assert m.complete and m.entry.backend == "qwen3" and backend_for_folder(m.path) == "qwen3"
