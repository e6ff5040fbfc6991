"""Bad input gets a clear message; the public API stays as other areas call it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import engine.codecs.mimi as mimi_api
from engine.codecs.base import Codec, CodecInputError
from engine.codecs.mimi import MimiLoadError, load_mimi_dir
from tests.engine.tiny_mimi import cached_tiny_mimi, single_torch_thread  # noqa: F401 (autouse)

pytest.importorskip("transformers")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def mimi():
    folder, _ = cached_tiny_mimi(0)
    return load_mimi_dir(folder)


def test_public_api_is_pinned(mimi):
    assert set(mimi_api.__all__) >= {"Mimi", "MimiDecodeState", "load_mimi", "load_mimi_dir"}
    assert isinstance(mimi, Codec)
    state = mimi.streaming_decoder(batch_size=1)
    assert callable(state.decode_frames) and callable(state.reset)


def test_codec_package_does_not_import_torch():
    """The studio imports engine.codecs at start-up; torch must wait for the worker."""
    code = "import sys, engine.codecs; assert 'torch' not in sys.modules, 'torch imported'"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("audio, sr, says", [
    (np.zeros(0, np.float32), 24_000, "no audio"),
    (np.zeros(1000, np.float32), 0, "sample rate"),
    (np.zeros(1000, np.float32), 22_050.5, "sample rate"),
    (np.zeros((1000, 2), np.float32), 24_000, "mono"),
    (np.array([0.0, np.nan, 0.1], np.float32), 24_000, "NaN"),
    (np.zeros(1000, np.int16), 24_000, "float"),
])
def test_encode_np_rejects_bad_audio_clearly(mimi, audio, sr, says):
    with pytest.raises(CodecInputError, match=says):
        mimi.encode_np(audio, sr)


def test_encode_np_resamples_other_rates(mimi):
    """Two seconds at 16 kHz is two seconds of codes (25 frames at 12.5 Hz), not three."""
    x = (np.random.default_rng(0).standard_normal(32_000) * 0.1).astype(np.float32)
    assert mimi.encode_np(x, 16_000).shape == (32, 25)
    assert mimi.encode_np(x, 16_000, n_codebooks=4).shape == (4, 25)


def test_encode_rejects_wrong_rate_and_shapes(mimi):
    with pytest.raises(CodecInputError, match="24000 Hz.*16000 Hz"):
        mimi.encode(torch.zeros(1, 1, 1600), sample_rate=16_000)
    with pytest.raises(CodecInputError, match="no audio"):
        mimi.encode(torch.zeros(1, 1, 0))
    with pytest.raises(CodecInputError, match=r"\[batch, 1, samples\]"):
        mimi.encode(torch.zeros(1600))
    with pytest.raises(CodecInputError, match="between 1 and 32"):
        mimi.encode(torch.zeros(1, 1, 1600), num_codebooks=33)


@pytest.mark.parametrize("codes, says", [
    (torch.zeros(1, 33, 4, dtype=torch.long), "between 1 and 32"),
    (torch.zeros(1, 0, 4, dtype=torch.long), "between 1 and 32"),
    (torch.full((1, 8, 4), 64), r"\[0, 63\]"),
    (torch.full((1, 8, 4), -1), r"\[0, 63\]"),
    (torch.zeros(1, 8, 4), "integers"),
    (torch.zeros(8, 4, dtype=torch.long), r"\[batch, codebooks, frames\]"),
])
def test_decode_rejects_bad_codes_clearly(mimi, codes, says):
    with pytest.raises(CodecInputError, match=says):
        mimi.decode(codes)


def test_stream_rejects_a_different_batch(mimi):
    state = mimi.streaming_decoder(batch_size=1)
    with pytest.raises(CodecInputError, match="batch of 1"):
        state.decode_frames(torch.zeros(2, 8, 1, dtype=torch.long))


def test_zero_frames_decode_to_zero_samples(mimi):
    assert mimi.decode(torch.zeros(1, 8, 0, dtype=torch.long)).shape == (1, 1, 0)
    assert mimi.decode_np(np.zeros((8, 0), np.int64)).shape == (0,)


def test_bad_checkpoint_folders_say_what_is_wrong(tmp_path):
    with pytest.raises(MimiLoadError, match="config.json is missing"):
        load_mimi_dir(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "mimi"}))
    with pytest.raises(MimiLoadError, match="no model.safetensors"):
        load_mimi_dir(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"not really")
    with pytest.raises(MimiLoadError, match="not a readable safetensors"):
        load_mimi_dir(tmp_path)


def test_checkpoint_that_does_not_fit_its_config_is_refused(tmp_path):
    folder, _ = cached_tiny_mimi(0)
    (tmp_path / "model.safetensors").write_bytes((folder / "model.safetensors").read_bytes())
    cfg = json.loads((folder / "config.json").read_text())
    cfg["num_quantizers"] = 16  # the weights hold 32 levels
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(MimiLoadError, match="does not match its Mimi config"):
        load_mimi_dir(tmp_path)
    cfg["num_quantizers"], cfg["hidden_size"] = 32, 48
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(MimiLoadError, match="does not match"):
        load_mimi_dir(tmp_path)
