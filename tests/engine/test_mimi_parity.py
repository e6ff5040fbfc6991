"""Our Mimi equals transformers' MimiModel on a tiny random checkpoint saved in the real layout:
same codes from encode, same waveform from decode (any number of codebooks)."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import soxr
import torch

from engine.codecs.mimi import Mimi, load_mimi, load_mimi_dir
from tests.engine.tiny_mimi import cached_tiny_mimi, single_torch_thread  # noqa: F401 (autouse)

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def pair() -> tuple[Mimi, torch.nn.Module]:
    folder, hf = cached_tiny_mimi(0)
    return load_mimi_dir(folder), hf


def _noise(seconds: float, batch: int = 1, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 1, int(seconds * 24_000), generator=g) * 0.1  # [B, 1, T]


def test_reports_the_codec_facts(pair):
    ours, _ = pair
    assert (ours.sample_rate, ours.frame_rate, ours.num_codebooks, ours.frame_samples) == (24_000, 12.5, 32, 1920)


def test_encode_gives_the_reference_codes(pair):
    ours, hf = pair
    wav = _noise(3.3, batch=2)  # odd length: exercises the end padding of the strided convs
    with torch.no_grad():
        ref = hf.encode(wav).audio_codes  # [2, 32, F]
    codes = ours.encode(wav)
    assert codes.shape == ref.shape == (2, 32, 42)
    assert codes.dtype == torch.long
    assert torch.equal(codes, ref)
    assert len(torch.unique(codes[0, 0])) > 5, "degenerate test model: semantic codes do not vary"


@pytest.mark.parametrize("k", [1, 3, 32])
def test_encode_with_fewer_codebooks_gives_the_first_levels(pair, k):
    ours, hf = pair
    wav = _noise(1.0, seed=1)
    with torch.no_grad():
        ref = hf.encode(wav, num_quantizers=k).audio_codes
    codes = ours.encode(wav, num_codebooks=k)
    assert codes.shape[1] == k
    assert torch.equal(codes, ref)
    assert torch.equal(codes, ours.encode(wav)[:, :k])


@pytest.mark.parametrize("k", [1, 8, 32])
def test_decode_matches_the_reference_waveform(pair, k):
    ours, hf = pair
    g = torch.Generator().manual_seed(k)
    codes = torch.randint(0, 64, (2, k, 30), generator=g)  # 30 frames = 60 steps, past the window of 8
    with torch.no_grad():
        ref = hf.decode(codes).audio_values  # [2, 1, 57600]
    wav = ours.decode(codes)
    assert wav.shape == ref.shape == (2, 1, 30 * 1920)
    assert (wav - ref).abs().max().item() <= 1e-4
    assert ref.abs().max().item() > 0.05  # the comparison is on audible signal, not silence


def test_more_codebooks_change_the_sound(pair):
    """What a user hears when stepping through levels: each level adds something."""
    ours, _ = pair
    codes = ours.encode(_noise(1.0, seed=2))
    outs = [ours.decode(codes[:, :k]) for k in (1, 2, 32)]
    assert (outs[0] - outs[1]).abs().max() > 1e-3
    assert (outs[1] - outs[2]).abs().max() > 1e-3


def test_real_speech_encodes_to_the_reference_codes(pair, speech_clips):
    ours, hf = pair
    clips = [c for c in speech_clips if str(c["file"]).endswith((".flac", ".wav"))][:2]
    assert clips
    for clip in clips:
        audio, sr = sf.read(clip["path"], dtype="float32", always_2d=True)
        audio = audio.mean(axis=1)[: sr * 6]  # 6 s is plenty and keeps the test quick
        at_24k = soxr.resample(audio, sr, 24_000).astype(np.float32)
        with torch.no_grad():
            ref = hf.encode(torch.from_numpy(at_24k)[None, None]).audio_codes[0]  # [32, F]
        ours_codes = ours.encode_np(audio, sr)  # resamples inside
        assert ours_codes.dtype == np.int64
        assert ours_codes.shape == tuple(ref.shape)
        np.testing.assert_array_equal(ours_codes, ref.numpy())


def test_loads_from_a_prefixed_state_dict(pair):
    """A CSM checkpoint carries Mimi under `codec_model.` next to its LM weights."""
    folder, hf = cached_tiny_mimi(0)
    state = {f"codec_model.{k}": v for k, v in hf.state_dict().items()}
    state["backbone.layers.0.weight"] = torch.zeros(3)  # someone else's weight: ignored
    # in-memory names of transformers >= 5 (encoder.encoder_seanet...) map onto the flat layout
    ours = load_mimi(state, hf.config.to_dict(), prefix="codec_model.")
    codes = torch.randint(0, 64, (1, 32, 6))
    ref = pair[0].decode(codes)
    assert torch.equal(ours.decode(codes), ref)


def test_numpy_decode_returns_mono_float32(pair):
    ours, hf = pair
    codes = np.random.default_rng(0).integers(0, 64, (32, 10))
    wav = ours.decode_np(codes, n_codebooks=8)
    assert wav.dtype == np.float32 and wav.shape == (10 * 1920,)
    with torch.no_grad():
        ref = hf.decode(torch.from_numpy(codes[:8])[None]).audio_values[0, 0].numpy()
    assert np.abs(wav - ref).max() <= 1e-4
