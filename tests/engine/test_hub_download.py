"""Downloads against a local stand-in for the Hub (HTTP on 127.0.0.1): progress, cancel, resume,
SHA-256 verification, gated repos, and the offline message. No internet needed."""
import json
import threading

import pytest

from engine.hub.catalog import CSM_1B, missing_files
from engine.hub.download import (DownloadCancelled, DownloadError, GatedError, OfflineError,
                                 download_model, load_token, save_token, verify_folder)
from tests.engine.fake_hub import OneRepoHub

WEIGHTS = bytes(range(256)) * 12_000  # ~3 MB: several 1 MB chunks, so cancel lands mid-file
WEIGHTS_NAME = "transformers-00001-of-00001.safetensors"
INDEX = json.dumps({"weight_map": {"w": WEIGHTS_NAME}}).encode()
# The sesame/csm-1b shape: the transformers export beside Sesame's original model.safetensors,
# which a download never fetches (tests/engine/test_hub_plans.py checks the real tree).
FILES = {"config.json": b'{"model_type": "csm"}', "tokenizer.json": b"{}", "tokenizer_config.json": b"{}",
         "transformers.safetensors.index.json": INDEX, WEIGHTS_NAME: WEIGHTS,
         "model.safetensors": b"original format", "README.md": b"not needed"}
LFS = {WEIGHTS_NAME, "model.safetensors"}


class FakeHub(OneRepoHub):
    """sesame/csm-1b's shape by default; `lfs`: paths listed with an LFS SHA-256 (tests/engine/fake_hub.py)."""

    def __init__(self, files, *, gated=False, corrupt=False, lfs=None, repo="sesame/csm-1b"):
        super().__init__(files, repo=repo, gated=gated, corrupt=corrupt, lfs=set(LFS if lfs is None else lfs))


@pytest.fixture
def hub():
    servers = []

    def make(**kw):
        s = FakeHub(dict(FILES), **kw)
        servers.append(s)
        return s
    yield make
    for s in servers:
        s.close()


def test_download_reports_progress_and_verifies(hub, tmp_path):
    h = hub()
    seen = []
    dest = download_model(CSM_1B, tmp_path / "m", endpoint=h.endpoint, progress=lambda d, t, f: seen.append((d, t)))
    assert missing_files(CSM_1B, dest) == [] and not (dest / "README.md").exists()
    assert (dest / WEIGHTS_NAME).read_bytes() == WEIGHTS and not (dest / "model.safetensors").exists()
    total = sum(len(FILES[k]) for k in FILES if k not in ("README.md", "model.safetensors"))
    assert seen[-1] == (total, total) and len(seen) > 3
    assert all(b[0] >= a[0] for a, b in zip(seen, seen[1:]))  # progress only goes forward
    assert verify_folder(dest) == []


def test_cancel_then_resume_continues_from_the_partial_file(hub, tmp_path):
    h = hub()
    cancel = threading.Event()

    def stop_mid_weights(done, total, name):
        if name == WEIGHTS_NAME and done > 1_500_000:
            cancel.set()
    with pytest.raises(DownloadCancelled, match="resume"):
        download_model(CSM_1B, tmp_path / "m", endpoint=h.endpoint, progress=stop_mid_weights, cancel=cancel)
    part = tmp_path / "m" / (WEIGHTS_NAME + ".part")
    assert 0 < part.stat().st_size < len(WEIGHTS)
    dest = download_model(CSM_1B, tmp_path / "m", endpoint=h.endpoint)
    assert h.range_requests == [(WEIGHTS_NAME, part_size := h.range_requests[0][1])] and part_size > 0
    assert (dest / WEIGHTS_NAME).read_bytes() == WEIGHTS and not part.exists()


def test_corrupt_download_is_removed_with_a_message(hub, tmp_path):
    h = hub(corrupt=True)
    with pytest.raises(DownloadError, match="corrupt"):
        download_model(CSM_1B, tmp_path / "m", endpoint=h.endpoint)
    assert not (tmp_path / "m" / WEIGHTS_NAME).exists()
    assert not (tmp_path / "m" / (WEIGHTS_NAME + ".part")).exists()


def test_gated_repo_needs_a_token(hub, tmp_path):
    h = hub(gated=True)
    with pytest.raises(GatedError, match="token"):
        download_model(CSM_1B, tmp_path / "m", endpoint=h.endpoint)
    dest = download_model(CSM_1B, tmp_path / "m", endpoint=h.endpoint, token="hf_test_token")
    assert missing_files(CSM_1B, dest) == []


def test_offline_says_what_to_download_and_where(tmp_path):
    with pytest.raises(OfflineError) as e:
        download_model(CSM_1B, tmp_path / "m", endpoint="http://127.0.0.1:9")  # nothing listens there
    msg = str(e.value)
    assert "transformers-00001-of-00002.safetensors" in msg and "config.json" in msg and "Import local folder" in msg
    assert "huggingface.co/sesame/csm-1b" in msg


def test_token_is_kept_without_a_keyring(caplog):
    where = save_token("  hf_secret_value ")
    assert where in ("keyring", "memory")
    assert load_token() == "hf_secret_value"
    assert "hf_secret_value" not in caplog.text
    save_token("")
