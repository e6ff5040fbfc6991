"""Pocket TTS in the Models catalog: the entries say what the pocket-tts package's configs say, and a
download plan picks exactly one variant's files from the repos' real file trees."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from engine.backends.pocket_load import package_config_dir
from engine.hub.catalog import CATALOG, get_entry, missing_files
from engine.hub.catalog_pocket import CLONING_REPO, POCKET_ENTRIES, PUBLIC_REPO, plan_files

TREES = json.loads((Path(__file__).parent / "data" / "pocket_hub_trees.json").read_text())
LISTINGS = {repo: [f["path"] for f in files] for repo, files in TREES.items() if not repo.startswith("_")}
SIZES = {(repo, f["path"]): f["size"] for repo, files in TREES.items() if not repo.startswith("_") for f in files}


def _config(variant: str) -> dict:
    return yaml.safe_load((package_config_dir() / f"{variant}.yaml").read_text())


def test_the_catalog_offers_every_language_size_and_both_ways_to_get_them():
    variants = {e.variant for e in POCKET_ENTRIES}
    langs = ("french", "german", "portuguese", "italian", "spanish", "dutch")
    assert {"english", *langs, *(f"{l}_24l" for l in langs),
            "english_18m_2026-10", "english_7m_2026-10", "english_2m_2026-10"} == variants
    assert {e.language for e in POCKET_ENTRIES} == {"en", "fr", "de", "pt", "it", "es", "nl"}
    for e in POCKET_ENTRIES:
        assert e in CATALOG and get_entry(e.model_id) is e and e.backend == "pocket"
        assert "CC-BY-4.0" in e.licence and "MIT" in e.licence
        assert e.gated == e.cloning == (e.repo_id == CLONING_REPO)
        if not e.cloning:
            assert "preset voices" in e.name and "no voice cloning" in e.description
    assert len({e.folder_name for e in CATALOG}) == len(CATALOG)  # each variant has its own folder


@pytest.mark.parametrize("entry", POCKET_ENTRIES, ids=lambda e: e.model_id)
def test_entries_name_the_files_the_packages_config_names(entry):
    cfg = _config(entry.variant)
    weights = cfg["weights_path" if entry.cloning else "weights_path_without_voice_cloning"]
    tokenizer = cfg["flow_lm"]["lookup_table"]["tokenizer_path"]
    pinned = {f"hf://{s.repo}/{s.path}@{s.revision}" for s in entry.sources}
    assert weights in pinned and tokenizer in pinned


@pytest.mark.parametrize("entry", POCKET_ENTRIES, ids=lambda e: e.model_id)
def test_the_plan_fetches_exactly_one_variant(entry):
    plan = plan_files(entry, LISTINGS)
    got = {(f.repo, f.path) for f in plan}
    here = f"languages/{entry.variant}/"
    tok = next(s.path for s in entry.sources if "tokenizer" in s.path)
    want = {(entry.repo_id, here + "model.safetensors"), (PUBLIC_REPO, tok)}
    if not entry.cloning:
        want |= {(PUBLIC_REPO, p) for p in LISTINGS[PUBLIC_REPO] if p.startswith(here + "embeddings/")}
        assert len(want) > 2  # its preset voices come along
    assert got == want
    assert all(f.path.startswith(here) for f in plan)  # never the root's old checkpoint or another variant
    weights = SIZES[(entry.repo_id, here + "model.safetensors")]
    assert 0.9 < weights / entry.size_bytes < 1.1 or not entry.cloning  # the Models table's size is the download
    assert sum(SIZES[(f.repo, f.path)] for f in plan) >= weights


def test_a_gated_plan_reads_two_repos_and_the_patterns_cover_only_the_weights_repo():
    e = get_entry("kyutai/pocket-tts/english")
    assert {f.repo for f in plan_files(e, LISTINGS)} == {CLONING_REPO, PUBLIC_REPO}
    assert e.download_patterns(LISTINGS[CLONING_REPO]) == ["languages/english/model.safetensors"]


def test_missing_files_in_the_hub_layout(tmp_path):
    e = get_entry("kyutai/pocket-tts/english_2m_2026-10")
    assert set(missing_files(e, tmp_path)) == {"languages/english_2m_2026-10/model.safetensors",
                                               "languages/english_2m_2026-10/tokenizer.model"}
    here = tmp_path / "languages" / "english_2m_2026-10"
    here.mkdir(parents=True)
    (here / "model.safetensors").write_bytes(b"x")
    assert missing_files(e, tmp_path) == ["languages/english_2m_2026-10/tokenizer.model"]
    (here / "tokenizer.model").write_bytes(b"x")
    assert missing_files(e, tmp_path) == []
