"""Loading CSM folders: both on-disk layouts, and a clear message for every broken folder."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from engine.backends import get_backend
from engine.backends.csm_loader import load_csm, resolve_device_dtype
from engine.hub.checkpoint import CheckpointError, load_pt_weights, open_checkpoint
from tests.engine.tiny_csm import cached_tiny_csm

pytest.importorskip("transformers")


@pytest.fixture
def hf_copy(tmp_path) -> Path:
    return Path(shutil.copytree(cached_tiny_csm("hf"), tmp_path / "model"))


@pytest.fixture
def sesame_copy(tmp_path) -> Path:
    return Path(shutil.copytree(cached_tiny_csm("sesame"), tmp_path / "model"))


def _edit_config(folder: Path, edit) -> None:
    cfg = json.loads((folder / "config.json").read_text())
    edit(cfg)
    (folder / "config.json").write_text(json.dumps(cfg))


def test_sesame_layout_is_two_shards_and_loads_like_save_pretrained():
    folder = cached_tiny_csm("sesame")
    shards = sorted(p.name for p in folder.glob("*.safetensors"))
    assert shards == ["transformers-00001-of-00002.safetensors", "transformers-00002-of-00002.safetensors"]
    a, b = load_csm(cached_tiny_csm("hf")), load_csm(folder)
    for (name, pa), (_, pb) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert torch.equal(pa, pb), name
    assert a.model.audio_embeddings.weight is a.model.depth_embeddings.weight  # tied: one table


def test_cpu_weights_are_memory_mapped_not_copied():
    loaded = load_csm(cached_tiny_csm("hf"), device="cpu", dtype="fp32")
    w = loaded.model.backbone.layers[0].attention.wo.weight
    mapped = open_checkpoint(cached_tiny_csm("hf")).tensor("backbone_model.layers.0.self_attn.o_proj.weight")
    assert torch.equal(w, mapped)
    assert not w.untyped_storage().resizable()  # a view of the file mapping, not an owned copy


@pytest.mark.parametrize("matmul", ["blas", "torch"])
def test_cpu_weight_layout_follows_the_matmul(monkeypatch, matmul):
    """fp32 CPU steps stream weights through numpy's BLAS, faster over [out, in] storage: every weight
    keeps the checkpoint's rows and the codebook heads become [out, in] too. With torch's matmul
    (MKL streams long rows faster) the wide fused weights (gate|up, q|k|v) are [in, out] tensors.
    Values are the checkpoint's either way (benchmarks/bench_gemv.py measures both layouts)."""
    monkeypatch.setenv("MYNAH_CPU_MATMUL", matmul)
    loaded = load_csm(cached_tiny_csm("hf"), device="cpu", dtype="fp32")
    ckpt = open_checkpoint(cached_tiny_csm("hf"))
    model = loaded.model
    w13 = model.decoder.layers[1].feed_forward.w13.weight  # [2*ffn, dim]
    gate, up = (ckpt.tensor(f"depth_decoder.model.layers.1.mlp.{n}_proj.weight") for n in ("gate", "up"))
    assert torch.equal(w13, torch.cat([gate, up]))
    heads = model.audio_head  # [K-1, Dd, V]
    assert torch.equal(heads, ckpt.tensor("depth_decoder.codebooks_head.weight"))
    wqkv = model.backbone.layers[0].attention.wqkv.weight
    if matmul == "blas":
        assert w13.is_contiguous() and wqkv.is_contiguous()
        assert heads.transpose(1, 2).is_contiguous()
        assert not model._heads_np[0].flags.c_contiguous  # the BLAS reads [out, in] rows
    else:
        assert w13.t().is_contiguous() and not w13.is_contiguous()
        assert wqkv.t().is_contiguous() and heads.is_contiguous()


def test_backend_info_and_registry():
    backend = get_backend("csm")
    info = backend.load(cached_tiny_csm("hf"), device="cpu")
    assert (info.backend, info.n_codebooks, info.max_positions, info.dtype) == ("csm", 32, 2048, "float32")
    assert info.sample_rate == 24000 and info.frame_rate == 12.5 and len(info.weights_sha256) == 64
    with pytest.raises(ValueError, match="unknown backend 'nope'"):
        get_backend("nope")


def test_precision_defaults():
    assert resolve_device_dtype("cpu", "auto") == (torch.device("cpu"), torch.float32)
    assert resolve_device_dtype("cpu", "bf16")[1] is torch.bfloat16
    with pytest.raises(ValueError, match="unknown dtype"):
        resolve_device_dtype("cpu", "int3")


def test_missing_config_names_the_file(hf_copy):
    (hf_copy / "config.json").unlink()
    with pytest.raises(CheckpointError, match="config.json is missing"):
        load_csm(hf_copy)


def test_missing_tokenizer_names_the_file(hf_copy):
    (hf_copy / "tokenizer.json").unlink()
    with pytest.raises(CheckpointError, match="tokenizer.json is missing"):
        load_csm(hf_copy)


def test_missing_shard_names_the_shard_and_index(sesame_copy):
    (sesame_copy / "transformers-00002-of-00002.safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"transformers-00002-of-00002\.safetensors .*transformers\.safetensors\.index\.json"):
        load_csm(sesame_copy)


def test_config_that_does_not_match_the_weights_names_file_and_key(hf_copy):
    _edit_config(hf_copy, lambda c: c.update(intermediate_size=96))
    with pytest.raises(CheckpointError, match=r"model\.safetensors: tensor 'backbone_model\.layers\.0\.mlp\.gate_proj\.weight' has shape \[128, 64\].*\[96, 64\]"):
        load_csm(hf_copy)


def test_inconsistent_config_is_reported(hf_copy):
    _edit_config(hf_copy, lambda c: c["depth_decoder_config"].update(vocab_size=99))
    with pytest.raises(CheckpointError, match="config.json.*depth_decoder_config.vocab_size"):
        load_csm(hf_copy)
    _edit_config(hf_copy, lambda c: c.update(model_type="llama"))
    with pytest.raises(CheckpointError, match="'llama' model, not CSM"):
        load_csm(hf_copy)


def test_truncated_weights_are_reported(hf_copy):
    f = hf_copy / "model.safetensors"
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="model.safetensors is truncated"):
        load_csm(hf_copy)


def test_pickle_only_folder_is_refused_without_unpickling(tmp_path):
    folder = tmp_path / "pickled"
    folder.mkdir()
    (folder / "pytorch_model.bin").write_bytes(b"not read")
    with pytest.raises(CheckpointError, match="safetensors"):
        open_checkpoint(folder)


class _Evil:
    def __reduce__(self):
        return (print, ("unpickled!",))


def test_pt_files_are_read_weights_only(tmp_path, capsys):
    good, evil = tmp_path / "good.pt", tmp_path / "evil.pt"
    torch.save({"w": torch.ones(2)}, good)
    torch.save({"w": _Evil()}, evil)
    assert torch.equal(load_pt_weights(good)["w"], torch.ones(2))
    with pytest.raises(CheckpointError, match="evil.pt could not be read as plain weights"):
        load_pt_weights(evil)
    assert "unpickled!" not in capsys.readouterr().out


def _strip_codec(src: Path, dst: Path) -> Path:
    from safetensors.torch import save_file

    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.safetensors"))
    ckpt = open_checkpoint(src)
    save_file({k: ckpt.tensor(k).clone() for k in ckpt.keys() if not k.startswith("codec_model.")},
              str(dst / "model.safetensors"))
    return dst


def test_mimi_from_a_separate_folder(tmp_path):
    from transformers import MimiConfig, MimiModel

    cfg = json.loads((cached_tiny_csm("hf") / "config.json").read_text())["codec_config"]
    torch.manual_seed(123)
    MimiModel(MimiConfig(**cfg)).save_pretrained(tmp_path / "mimi")
    no_codec = _strip_codec(cached_tiny_csm("hf"), tmp_path / "csm-no-codec")

    bare = get_backend("csm")
    bare.load(no_codec, device="cpu")
    with pytest.raises(CheckpointError, match="holds no Mimi codec weights.*separate Mimi folder"):
        bare.decode_codes(torch.zeros(32, 3, dtype=torch.long).numpy())

    inside, separate = get_backend("csm"), get_backend("csm")
    inside.load(cached_tiny_csm("hf"), device="cpu")
    separate.load(no_codec, device="cpu", codec_dir=tmp_path / "mimi")
    codes = torch.randint(0, 64, (32, 6), generator=torch.Generator().manual_seed(0)).numpy()
    a, b = inside.decode_codes(codes), separate.decode_codes(codes)
    assert a.shape == b.shape == (6 * 1920,)
    assert not torch.allclose(torch.from_numpy(a), torch.from_numpy(b))  # really the other codec
