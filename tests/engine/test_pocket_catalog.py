"""Pocket TTS in the Models catalog: the entries say what the pocket-tts package's configs say, and the
ordinary download plan, on the two repos' recorded trees (tests/engine/hub_trees/kyutai--*.json), picks
exactly one variant's files, each from the repo and revision it is pinned at."""
from __future__ import annotations

import re

import pytest
import yaml

from engine.backends.pocket_load import package_config_dir
from engine.hub.catalog import CATALOG, get_entry, missing_files, plan_files
from engine.hub.catalog_pocket import CLONING_REPO, GERMAN_PRESET_REV, POCKET_ENTRIES, PUBLIC_REPO
from engine.hub.download import offline_message
from engine.hub.local import import_local_folder
from tests.engine.hub_trees import entry_listing, listing

VOICES = 27  # pocket_tts.utils knows 27 preset voices; each variant's embeddings/ holds one state each


def _config(variant: str) -> dict:
    return yaml.safe_load((package_config_dir() / f"{variant}.yaml").read_text())


def _package_preset_revision() -> str:
    """The revision pocket_tts.utils.get_predefined_voice pins (read from its source: importing the
    package would import torch)."""
    text = (package_config_dir().parent / "utils" / "utils.py").read_text()
    return re.search(r"embeddings/\{name\}\.safetensors@(\w+)", text).group(1)


def test_the_catalog_offers_every_language_size_and_both_ways_to_get_them():
    variants = {e.variant for e in POCKET_ENTRIES}
    langs = ("french", "german", "portuguese", "italian", "spanish", "dutch")
    assert {"english", *langs, *(f"{l}_24l" for l in langs),
            "english_18m_2026-10", "english_7m_2026-10", "english_2m_2026-10"} == variants
    assert {e.language for e in POCKET_ENTRIES} == {"en", "fr", "de", "pt", "it", "es", "nl"}
    for e in POCKET_ENTRIES:
        assert e in CATALOG and get_entry(e.model_id) is e and e.backend == "pocket"
        assert "CC-BY-4.0" in e.licence and "MIT" in e.licence
        assert e.gated == e.cloning == (e.repo == CLONING_REPO)
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
    if not entry.cloning:  # presets: the package's pin; German's: the revision German's weights are pinned at
        rev = entry.source_of(f"languages/{entry.variant}/embeddings/alba.safetensors")[1]
        if entry.variant.startswith("german"):
            assert rev == GERMAN_PRESET_REV == _config("german")["weights_path_without_voice_cloning"].rsplit("@")[1]
        else:
            assert rev == _package_preset_revision()


@pytest.mark.parametrize("entry", POCKET_ENTRIES, ids=lambda e: e.model_id)
def test_the_plan_fetches_exactly_one_variant_each_file_from_its_repo(entry):
    plan = plan_files(entry, entry_listing(entry), hub=True)
    here = f"languages/{entry.variant}/"
    tok = entry.required_files[0]
    presets = {n for n in plan.names if n.startswith(here + "embeddings/")}
    assert set(plan.names) == {here + "model.safetensors", tok} | presets
    assert len(presets) == (0 if entry.cloning else VOICES)  # a preset-only model brings its voices
    assert all(n.startswith(here) for n in plan.names)  # never the root's old checkpoint or another variant
    assert entry.source_of(here + "model.safetensors") == (entry.repo, entry.revision)
    assert {entry.source_of(n)[0] for n in [tok, *presets]} == {PUBLIC_REPO}
    # the weights repo's own tree holds the planned weights under the same name
    assert here + "model.safetensors" in listing(entry.repo)


def test_a_gated_plan_reads_two_repos():
    e = get_entry("kyutai/pocket-tts/english")
    plan = plan_files(e, entry_listing(e), hub=True)
    assert {e.source_of(n)[0] for n in plan.names} == {CLONING_REPO, PUBLIC_REPO}
    assert {repo for repo, _ in e.hub_trees()} == {CLONING_REPO, PUBLIC_REPO}
    # the public repo's copy of the same path is never the one planned for the gated entry
    assert e.source_of("languages/english/model.safetensors")[0] == CLONING_REPO


def test_exact_sizes_where_published():
    """German's public files all have published sizes: its catalog size is exact to the byte. The gated
    repo publishes none, so every cloning entry's size is an estimate, and says so."""
    german = get_entry("kyutai/pocket-tts-without-voice-cloning/german")
    assert german.size_exact and german.size_bytes == 219_029_196 + 245_966 + 165_003_984
    assert not any(e.size_exact for e in POCKET_ENTRIES if e.cloning)


@pytest.mark.parametrize("model_id", ["kyutai/pocket-tts/english", "kyutai/pocket-tts-without-voice-cloning/german"])
def test_offline_message_names_each_file_with_its_repo(tmp_path, model_id):
    e = get_entry(model_id)
    msg = offline_message(e, tmp_path)
    here = f"languages/{e.variant}/"
    assert f"{here}model.safetensors" in msg and f"https://huggingface.co/{e.repo}" in msg
    if e.cloning:  # two repos: each file is named with the repo it comes from
        assert f"{here}model.safetensors from https://huggingface.co/{CLONING_REPO}" in msg
        assert f"{here}tokenizer.json from https://huggingface.co/{PUBLIC_REPO}" in msg
    assert f"{here}tokenizer.json" in msg and f"https://huggingface.co/{PUBLIC_REPO}" in msg
    assert ("gated" in msg) == e.cloning
    assert (f"{here}embeddings/*.safetensors" in msg) != e.cloning
    assert "tts_b6369a24" not in msg and "tokenizer.model" not in msg


def test_import_of_a_folder_holding_both_repos_copies_one_variant(tmp_path):
    """A folder with everything (both repos' trees merged: old root files, every variant): Import
    local folder copies exactly the plan's files."""
    src = tmp_path / "everything"
    for repo in (CLONING_REPO, PUBLIC_REPO):
        for name in listing(repo):
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_bytes(b"x")
    e = get_entry("kyutai/pocket-tts-without-voice-cloning/english_2m_2026-10")
    dest = import_local_folder(src, e, tmp_path / "models")
    got = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()} - {"mynah-manifest.json"}
    assert got == set(plan_files(e, entry_listing(e), hub=True).names)
    assert len(got) == 2 + VOICES and missing_files(e, dest) == []


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
