"""Catalog and "Import local folder": validation before copying, copy/link, manifest, delete."""
import json
import threading

import pytest

from engine.hub.catalog import CATALOG, CSM_1B, get_entry, human_size, missing_files
from engine.hub.download import DownloadCancelled, verify_folder
from engine.hub.local import (ModelFolderError, delete_model, import_local_folder, installed_models,
                              model_dir)


def make_model_folder(root, *, sharded=False, skip=()):
    root.mkdir(parents=True, exist_ok=True)
    for name in CSM_1B.required_files:
        if name not in skip:
            (root / name).write_text(json.dumps({"name": name}))
    if sharded:
        shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
        (root / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"a": shards[0], "b": shards[1]}}))
        for s in shards:
            if s not in skip:
                (root / s).write_bytes(b"w" * 3000)
    elif "model.safetensors" not in skip:
        (root / "model.safetensors").write_bytes(bytes(range(256)) * 40)
    return root


def test_catalog_describes_csm():
    e = get_entry("sesame/csm-1b")
    assert e in CATALOG and e.gated and e.licence == "Apache-2.0" and e.backend == "csm"
    assert human_size(e.size_bytes) == "7.2 GB"
    with pytest.raises(KeyError, match="unknown model"):
        get_entry("nope/nothing")


def test_missing_files_single_and_sharded(tmp_path):
    assert missing_files(CSM_1B, make_model_folder(tmp_path / "a")) == []
    assert missing_files(CSM_1B, make_model_folder(tmp_path / "b", sharded=True)) == []
    assert missing_files(CSM_1B, make_model_folder(tmp_path / "c", skip=("tokenizer.json",))) == ["tokenizer.json"]
    assert missing_files(CSM_1B, make_model_folder(
        tmp_path / "d", sharded=True, skip=("model-00002-of-00002.safetensors",))) == ["model-00002-of-00002.safetensors"]


def test_import_refuses_incomplete_folder_and_changes_nothing(tmp_path):
    src = make_model_folder(tmp_path / "src", skip=("model.safetensors",))
    models = tmp_path / "models"
    with pytest.raises(ModelFolderError, match="missing transformers.safetensors.index.json"):
        import_local_folder(src, CSM_1B, models)
    assert not model_dir(models, CSM_1B).exists()
    assert sorted(p.name for p in src.iterdir()) == sorted(CSM_1B.required_files)  # user's folder untouched


@pytest.mark.parametrize("link", [False, True])
def test_import_copies_or_links_and_records_hashes(tmp_path, link):
    src = make_model_folder(tmp_path / "src")
    models = tmp_path / "models"
    seen = []
    dest = import_local_folder(src, CSM_1B, models, link=link, progress=lambda d, t, f: seen.append((d, t)))
    assert dest == model_dir(models, CSM_1B)
    assert (dest / "model.safetensors").read_bytes() == (src / "model.safetensors").read_bytes()
    assert (dest / "model.safetensors").is_symlink() == link
    assert seen[-1][0] == seen[-1][1] > 10000
    assert verify_folder(dest) == []
    # every TTS model of the catalog is listed (CSM and the Pocket TTS variants); only CSM is installed
    (inst,) = [i for i in installed_models(models, kind="tts") if i.path.exists()]
    assert inst.entry is CSM_1B
    assert inst.complete and inst.size_bytes > 10000
    if not link:
        (dest / "model.safetensors").write_bytes(b"tampered")
        assert verify_folder(dest) == ["model.safetensors (changed)"]
    delete_model(dest)
    assert not dest.exists() and (src / "model.safetensors").exists()  # a link delete keeps the source
    assert not any(i.complete for i in installed_models(models, kind="tts"))


def test_cancelled_import_leaves_the_previous_install(tmp_path):
    models = tmp_path / "models"
    first = import_local_folder(make_model_folder(tmp_path / "one"), CSM_1B, models)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(DownloadCancelled):
        import_local_folder(make_model_folder(tmp_path / "two"), CSM_1B, models, cancel=cancel)
    assert verify_folder(first) == [] and not list(models.glob("*.importing"))
