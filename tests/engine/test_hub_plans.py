"""Download plans on the Hub's REAL file trees (tests/engine/hub_trees): each catalog model fetches
exactly the files it needs, never a second checkpoint, and the catalog's size is the plan's total.
"Import local folder" on a full snapshot follows the same plan."""
import fnmatch
import json

import pytest

from engine.hub.catalog import ASR_MODELS, CATALOG, CSM_1B, human_size, missing_files, plan_files
from engine.hub.download import offline_message
from engine.hub.local import ModelFolderError, check_folder, import_local_folder, model_dir
from tests.engine.hub_trees import entry_exact, entry_listing, listing, tree_file

CSM_PLAN = {"config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json",
            "preprocessor_config.json", "special_tokens_map.json", "chat_template.jinja",
            "transformers.safetensors.index.json", "transformers-00001-of-00002.safetensors",
            "transformers-00002-of-00002.safetensors"}


@pytest.mark.parametrize("entry", CATALOG, ids=lambda e: e.model_id)
def test_every_catalog_model_has_its_real_tree(entry):
    for repo, _ in entry.hub_trees():
        assert tree_file(repo).is_file(), f"record {repo}'s file tree in tests/engine/hub_trees"


@pytest.mark.parametrize("entry", CATALOG, ids=lambda e: e.model_id)
def test_plan_on_the_real_tree_is_one_complete_checkpoint_and_the_catalog_size(entry):
    plan = plan_files(entry, entry_listing(entry), hub=True)
    assert plan.layout is not None and not plan.missing
    assert plan.total == entry.size_bytes, f"catalog says {entry.size_bytes}, the plan fetches {plan.total}"
    # The catalog calls its size exact exactly when every byte counted is a known byte.
    assert entry.size_exact == (set(plan.names) <= entry_exact(entry)), plan.names
    assert not {n for n in plan.names if n.startswith(("README", ".git", "prompts/"))}
    # One checkpoint: weights are either the layout's single files or its index + shards (a model's
    # preset voices, its `extra_patterns`, are not weights).
    weights = [n for n in plan.names if n.endswith((".safetensors", ".bin", ".pt"))
               and not any(fnmatch.fnmatch(n, p) for p in entry.extra_patterns)]
    if plan.layout.sharded:
        assert plan.layout.index in plan.names and all(w.startswith(plan.layout.shards.split("*")[0]) for w in weights)
    else:
        assert weights == list(plan.layout.files)


def test_csm_plan_fetches_the_transformers_export_never_the_original():
    plan = plan_files(CSM_1B, listing("sesame/csm-1b"), hub=True)
    assert set(plan.names) == CSM_PLAN
    assert plan.total == 4_944_026_784 + 2_189_474_180 + 59_730 + 3280 + 17_209_980 + 50_563 + 264 + 271 + 449 + 2002
    assert human_size(CSM_1B.size_bytes) == "7.2 GB"
    # Even a tree without the transformers export never falls back to Sesame's original files.
    only_original = {k: v for k, v in listing("sesame/csm-1b").items() if not k.startswith("transformers")}
    assert plan_files(CSM_1B, only_original, hub=True).layout is None


def test_offline_message_names_the_files_the_plan_needs(tmp_path):
    msg = offline_message(CSM_1B, tmp_path)
    for name in ("config.json", "tokenizer.json", "transformers.safetensors.index.json",
                 "transformers-00001-of-00002.safetensors", "transformers-00002-of-00002.safetensors"):
        assert name in msg
    assert "model.safetensors" not in msg.replace("transformers.safetensors", "") and "ckpt.pt" not in msg


@pytest.mark.parametrize("entry", ASR_MODELS, ids=lambda e: e.model_id)
def test_whisper_entries_say_what_a_user_needs(entry):
    assert entry.kind == "asr" and not entry.gated and entry.licence == "MIT"
    assert entry.speed_class and entry.runs_well_on and entry.languages
    assert ("en",) == entry.languages if entry.model_id.endswith(".en") else len(entry.languages) >= 99
    plan = plan_files(entry, listing(entry.model_id), hub=True)
    assert "model.bin" in plan.names and "config.json" in plan.names and "tokenizer.json" in plan.names


def _snapshot(folder, repo, body=lambda name, size: b"x" * min(size, 64)):
    """A folder with every file of the real tree (small stand-in bodies, real names)."""
    for name, size in listing(repo).items():
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(body(name, size))
    return folder


def _csm_body(name, size):
    if name == "transformers.safetensors.index.json":
        return json.dumps({"weight_map": {"a": "transformers-00001-of-00002.safetensors",
                                          "b": "transformers-00002-of-00002.safetensors"}}).encode()
    if name == "model.safetensors":  # Sesame's original: torchtune names
        header = json.dumps({"backbone.layers.0.attn.q_proj.weight": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
        return len(header).to_bytes(8, "little") + header + b"\0" * 4
    return b"x" * min(size, 64)


def test_import_of_a_full_snapshot_copies_only_the_transformers_export(tmp_path):
    src = _snapshot(tmp_path / "snapshot", "sesame/csm-1b", _csm_body)
    dest = import_local_folder(src, CSM_1B, tmp_path / "models")
    got = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()} - {"mynah-manifest.json"}
    assert got == CSM_PLAN and missing_files(CSM_1B, dest) == []


def test_sesame_original_alone_is_refused_before_copying_naming_the_needed_files(tmp_path):
    src = _snapshot(tmp_path / "original", "sesame/csm-1b", _csm_body)
    for name in list(listing("sesame/csm-1b")):
        if name.startswith("transformers"):
            (src / name).unlink()
    with pytest.raises(ModelFolderError) as e:
        check_folder(src, CSM_1B)
    msg = str(e.value)
    assert "original" in msg and "transformers-00001-of-00002.safetensors" in msg and "transformers.safetensors.index.json" in msg
    with pytest.raises(ModelFolderError):
        import_local_folder(src, CSM_1B, tmp_path / "models")
    assert not model_dir(tmp_path / "models", CSM_1B).exists()
    (src / "model.safetensors").unlink()  # ckpt.pt alone: the same answer
    with pytest.raises(ModelFolderError, match="original"):
        check_folder(src, CSM_1B)


def test_the_loader_refuses_the_original_before_reading_weights(tmp_path):
    pytest.importorskip("torch")
    from engine.backends.csm_loader import load_csm
    from engine.hub.checkpoint import CheckpointError

    src = _snapshot(tmp_path / "original", "sesame/csm-1b", _csm_body)
    for name in list(listing("sesame/csm-1b")):
        if name.startswith("transformers"):
            (src / name).unlink()
    (src / "config.json").write_text("not even JSON")  # never read: the refusal comes first
    with pytest.raises(CheckpointError, match="transformers-00002-of-00002.safetensors"):
        load_csm(src, device="cpu")


@pytest.mark.parametrize("entry", [e for e in CATALOG if e.kind == "tts"], ids=lambda e: e.model_id)
def test_the_models_table_names_each_voice_models_languages_in_words(entry):
    words = entry.languages_text.replace(",", " ").split()
    assert words and not any(len(w) <= 3 and w.islower() for w in words), entry.languages_text
