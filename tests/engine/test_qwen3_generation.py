"""Qwen3-TTS generation on our own: seeded takes reproduce, NaN stops with a clear error, loading
refuses a broken folder with a message that names the problem. (Parity with the reference is
test_qwen3_parity.py.)"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engine.backends.csm_model import NonFiniteLogitsError
from engine.backends.qwen3_generate import generate_frames, make_generator
from engine.backends.qwen3_loader import load_qwen3
from engine.backends.qwen3_prompt import PromptError, build_prompt
from engine.hub.checkpoint import CheckpointError
from tests.engine.qwen3_ref import tiny
from tests.engine.tiny_csm import single_thread

_threads = pytest.fixture(scope="module", autouse=True)(single_thread)
TEXT = [151644, 77091, 198, 1000, 2000, 3000, 4000, 5000, 151645, 198, 151644, 77091, 198]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    f = tiny.write_model_dir(tmp_path_factory.mktemp("qwen3"), "1.7b")
    return tiny.write_random_weights(f, seed=3)


@pytest.fixture
def loaded(folder):
    return load_qwen3(folder, device="cpu", max_positions=256)


def _take(loaded, seed, n=12):
    with torch.inference_mode():
        prompt = build_prompt(loaded.model, torch.tensor([TEXT]), language="english",
                              speaker_embedding=torch.ones(loaded.spec.talker.dim))
    gen = make_generator(torch.device("cpu"), seed)
    return [f.codes for f in generate_frames(loaded.model, prompt, loaded.sampling, n, gen)]


def test_loader_reads_the_real_layout_and_sampling_defaults(loaded):
    assert loaded.dtype == torch.float32 and loaded.spec.n_codebooks == 16
    assert loaded.model.projection is not None  # the 1.7B shape: talker wider than the predictor
    assert loaded.sampling.talker.repetition_penalty == 1.05 and loaded.sampling.predictor.top_k == 50
    assert loaded.max_frames == 8192


def test_a_seeded_take_reproduces_itself_and_another_seed_differs(loaded):
    a, b, c = _take(loaded, 7), _take(loaded, 7), _take(loaded, 8)
    assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))
    assert len(a) != len(c) or any(not np.array_equal(x, y) for x, y in zip(a, c))
    codes = np.stack([f for f in a if len(f)])
    assert codes.shape[1] == 16 and codes.max() < 2048  # never a control id


def test_nan_in_weights_stops_with_a_clear_error(loaded):
    with torch.no_grad():
        loaded.model.predictor.layers[1].feed_forward.w2.weight[0, 0] = float("nan")
    with pytest.raises(NonFiniteLogitsError, match="NaN/inf"):
        _take(loaded, 1, 3)


def test_unknown_language_and_speaker_are_named(loaded):
    with pytest.raises(PromptError, match="klingon.*english"):
        build_prompt(loaded.model, torch.tensor([TEXT]), language="klingon")
    with pytest.raises(PromptError, match="no preset speaker 'bob'.*eric"):
        build_prompt(loaded.model, torch.tensor([TEXT]), speaker="bob")


def test_a_missing_tensor_is_named_before_anything_loads(folder, tmp_path):
    from safetensors.torch import load_file, save_file

    sd = load_file(str(folder / "model.safetensors"))
    del sd["talker.code_predictor.lm_head.3.weight"]
    save_file(sd, str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text((folder / "config.json").read_text())
    with pytest.raises(CheckpointError, match="lm_head.3.weight"):
        load_qwen3(tmp_path, device="cpu")
    cfg = json.loads((folder / "config.json").read_text())
    cfg["tts_model_type"] = "karaoke"
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="karaoke"):
        load_qwen3(tmp_path, device="cpu")


def test_bf16_weights_generate_finite_frames(folder):
    """The low-precision paths (bf16 norms, QK-norm, softmax in fp32) run; CUDA uses them."""
    low = load_qwen3(folder, device="cpu", dtype="bf16", max_positions=128)
    assert low.dtype == torch.bfloat16 and low.model.codec_head.weight.dtype == torch.bfloat16
    frames = [f.codes for f in generate_frames(low.model, build_prompt(low.model, torch.tensor([TEXT])),
                                               low.sampling, 4, make_generator(torch.device("cpu"), 1))]
    assert frames and all(len(f) in (0, 16) for f in frames)


def test_the_large_model_predictor_start_gives_the_same_frames(loaded):
    """Real-size predictors (weights beyond the cache) run positions 0 and 1 as one 2-row pass;
    the tiny models take two steps. Both must give the same greedy frames."""
    from engine.backends.qwen3_generate import Qwen3Sampling

    def greedy():
        with torch.inference_mode():
            prompt = build_prompt(loaded.model, torch.tensor([TEXT]), language="english",
                                  speaker_embedding=torch.ones(loaded.spec.talker.dim))
        return [f.codes for f in generate_frames(loaded.model, prompt, Qwen3Sampling.greedy(), 8)]

    model = loaded.model
    assert not model.predictor_two_row_start
    blas, model.blas = model.blas, False  # torch's matmuls, as on a GPU (numpy's BLAS: always two steps)
    try:
        steps = greedy()
        model.predictor_two_row_start = True
        two_row = greedy()
    finally:
        model.predictor_two_row_start, model.blas = False, blas
    assert len(steps) == len(two_row) and all(np.array_equal(a, b) for a, b in zip(steps, two_row))


@pytest.mark.parametrize("matmul", ["blas", "torch"])
def test_cpu_weight_layout_follows_the_matmul(folder, monkeypatch, matmul):
    """numpy's BLAS (fp32 CPU steps) streams [out, in] rows faster: the fused projections and the 15
    code heads keep the checkpoint's [out, in] storage; torch's matmul gets the [in, out] layout MKL
    prefers. The values are the checkpoint's either way."""
    from engine.hub.checkpoint import open_checkpoint

    monkeypatch.setenv("MYNAH_CPU_MATMUL", matmul)
    model = load_qwen3(folder, device="cpu", max_positions=64).model
    ckpt = open_checkpoint(folder)
    heads = model.code_heads  # [15, Dd, V]
    for i in (0, 14):
        assert torch.equal(heads[i], ckpt.tensor(f"talker.code_predictor.lm_head.{i}.weight").t())
    wqkv = model.talker.layers[0].attention.wqkv.weight
    if matmul == "blas":
        assert model.blas and wqkv.is_contiguous() and heads.transpose(1, 2).is_contiguous()
    else:
        assert not model.blas and wqkv.t().is_contiguous() and heads.is_contiguous()
