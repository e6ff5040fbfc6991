"""A Pocket TTS download from a local stand-in Hub (HTTP on 127.0.0.1) serving BOTH repos' real file
trees (every recorded name: the first release's root files, every variant, the presets; small stand-in
bodies). A cloning variant reads the gated repo for its weights and the public one for its tokenizer,
each at the revision the package pins: only the planned files are fetched, a dropped connection
resumes, and the folder is then complete without a second download."""
from __future__ import annotations

import pytest

from engine.hub.catalog import get_entry, plan_files
from engine.hub.catalog_pocket import CLONING_REPO, PUBLIC_REPO
from engine.hub.download import GatedError, InterruptedDownload, download_model, verify_folder
from engine.hub.local import installed_models, model_dir
from tests.engine.fake_hub import LocalHub
from tests.engine.hub_trees import entry_listing, listing

TOKEN = "hf_stand_in_token"


def _body(repo: str, path: str) -> bytes:
    stand_in = f"{repo}/{path}\n".encode()
    return stand_in * (256 if path.endswith("model.safetensors") else 1)  # weights: a few KB, to cut


@pytest.fixture
def hub():
    h = LocalHub({r: {p: _body(r, p) for p in listing(r)} for r in (CLONING_REPO, PUBLIC_REPO)},
                 gated={CLONING_REPO}, token=TOKEN)
    yield h
    h.close()


def test_a_cloning_variant_fetches_its_plan_from_both_repos_and_is_complete(hub, tmp_path):
    entry = get_entry("kyutai/pocket-tts/english")
    models = tmp_path / "models"
    dest = model_dir(models, entry)
    weights, tokenizer = "languages/english/model.safetensors", "languages/english/tokenizer.json"
    with pytest.raises(GatedError, match="token"):  # no token: the gated repo refuses, and says why
        download_model(entry, dest, endpoint=hub.endpoint)
    hub.cut_once[f"{CLONING_REPO}/{weights}"] = 1000
    with pytest.raises(InterruptedDownload, match="resume"):
        download_model(entry, dest, token=TOKEN, endpoint=hub.endpoint)
    download_model(entry, dest, token=TOKEN, endpoint=hub.endpoint)
    assert (weights, 1000) in hub.ranges  # resumed where the connection dropped
    planned = set(plan_files(entry, entry_listing(entry), hub=True).names)
    assert planned == {weights, tokenizer}
    # Each planned file from its own repo at the revision the package pins, and nothing else
    assert set(hub.fetched) == {(CLONING_REPO, entry.source_of(weights)[1], weights),
                                  (PUBLIC_REPO, entry.source_of(tokenizer)[1], tokenizer)}
    assert set(hub.listed) == set(entry.hub_trees())
    assert (dest / weights).read_bytes() == _body(CLONING_REPO, weights)  # the gated copy, not the public one
    on_disk = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    assert on_disk == planned | {"mynah-manifest.json"}
    assert verify_folder(dest) == []
    (inst,) = [i for i in installed_models(models, kind="tts") if i.path.exists()]
    assert inst.entry is entry and inst.complete and not inst.missing
    before = len(hub.fetched)
    download_model(entry, dest, token=TOKEN, endpoint=hub.endpoint)  # again: nothing to fetch
    assert len(hub.fetched) == before


def test_a_preset_variant_fetches_its_voices_never_the_root_ones(hub, tmp_path):
    entry = get_entry("kyutai/pocket-tts-without-voice-cloning/german")
    dest = model_dir(tmp_path / "models", entry)
    download_model(entry, dest, endpoint=hub.endpoint)  # public: no token needed
    got = {name for _, _, name in hub.fetched}
    assert got == set(plan_files(entry, entry_listing(entry), hub=True).names)
    assert len([n for n in got if n.startswith("languages/german/embeddings/")]) == 27
    assert all(n.startswith("languages/german/") for n in got)  # never embeddings/ or tokenizer.model at the root
    assert {repo for repo, _, _ in hub.fetched} == {PUBLIC_REPO}
    (inst,) = [i for i in installed_models(tmp_path / "models", kind="tts") if i.path.exists()]
    assert inst.complete
