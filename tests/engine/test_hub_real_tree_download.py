"""A download from a local stand-in Hub (HTTP on 127.0.0.1) that serves sesame/csm-1b's REAL file
tree: every real name (Sesame's original model.safetensors and ckpt.pt, the prompts, README...),
small stand-in bodies, and a tiny random CSM under the transformers export's names. The download
fetches only the planned files, resumes after a dropped connection, and the folder then loads,
with no second download."""
import pytest

from engine.hub.catalog import CSM_1B, missing_files, plan_files
from engine.hub.download import InterruptedDownload, download_model, verify_folder
from tests.engine.hub_trees import listing
from tests.engine.test_hub_download import FakeHub
from tests.engine.tiny_csm import cached_tiny_csm

SHARD = "transformers-00001-of-00002.safetensors"


@pytest.fixture
def real_tree_hub():
    tiny = cached_tiny_csm("sesame")
    files = {}
    for name in listing("sesame/csm-1b"):
        real = tiny / name
        files[name] = real.read_bytes() if real.is_file() else f"stand-in for {name}".encode()
    hub = FakeHub(files, lfs={n for n in files if n.endswith((".safetensors", ".pt", ".wav"))})
    yield hub
    hub.close()


def test_real_tree_download_fetches_the_plan_resumes_and_loads(real_tree_hub, tmp_path):
    pytest.importorskip("torch")
    from engine.backends.csm_loader import load_csm

    hub = real_tree_hub
    planned = plan_files(CSM_1B, {n: len(b) for n, b in hub.files.items()}, hub=True).names
    assert SHARD in planned and "model.safetensors" not in planned
    dest = tmp_path / "models" / CSM_1B.folder_name
    hub.cut_once[SHARD] = len(hub.files[SHARD]) // 2  # the connection drops half way through the shard
    with pytest.raises(InterruptedDownload, match="resume"):
        download_model(CSM_1B, dest, endpoint=hub.endpoint)
    kept = (dest / (SHARD + ".part")).stat().st_size
    assert kept > 0
    download_model(CSM_1B, dest, endpoint=hub.endpoint)
    assert (SHARD, kept) in hub.range_requests  # resumed where it stopped, not restarted
    # Only planned files were ever requested: never Sesame's original checkpoint, prompts or README.
    assert set(hub.requested) == set(planned)
    assert not {"model.safetensors", "ckpt.pt", "README.md"} & set(hub.requested)
    assert not any(n.startswith("prompts/") for n in hub.requested)
    on_disk = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    assert on_disk == set(planned) | {"mynah-manifest.json"}
    assert missing_files(CSM_1B, dest) == [] and verify_folder(dest) == []
    loaded = load_csm(dest, device="cpu")  # the folder loads: the tiny CSM under the real names
    assert loaded.spec.n_codebooks == 32 and loaded.load_codec() is not None
    # Downloading again fetches nothing: every file is already there.
    before = len(hub.requested)
    download_model(CSM_1B, dest, endpoint=hub.endpoint)
    assert len(hub.requested) == before
