"""Our Qwen3-TTS-Tokenizer-12Hz decoder equals the reference's, for the first 1, 4 and 16 codebooks,
on codes longer than its 72-frame attention window."""
from __future__ import annotations

import numpy as np
import pytest

from engine.codecs.qwen3_codec import load_qwen3_codec
from tests.engine.qwen3_ref import tiny
from tests.engine.tiny_csm import single_thread

pytestmark = pytest.mark.slow  # runs the reference environment
_threads = pytest.fixture(scope="module", autouse=True)(single_thread)
FRAMES = 90


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("speech_tokenizer")


@pytest.fixture(scope="module")
def pair(folder):
    codes = np.random.default_rng(4).integers(0, 2048, (16, FRAMES))
    ref = tiny.reference_codec(folder, codes, folder / "ref.npz")
    return load_qwen3_codec(folder), codes, ref


@pytest.mark.parametrize("k", [1, 4, 16])
def test_decode_equals_the_reference(pair, k):
    codec, codes, ref = pair
    audio = codec.decode_np(codes, k)
    assert audio.shape == (FRAMES * 1920,) and codec.frame_rate == 12.5
    assert np.abs(ref[f"audio{k}"]).max() > 0.05  # audible, not a silent model
    assert np.mean(np.abs(ref[f"audio{k}"]) >= 1.0) < 0.01  # and not clipped flat
    np.testing.assert_allclose(audio, ref[f"audio{k}"], atol=1e-4, rtol=0)


def test_fewer_codebooks_sound_different(pair):
    codec, codes, ref = pair
    np.testing.assert_allclose(ref["forward16"], ref["audio16"], atol=1e-6)  # the runner's path is forward's
    assert np.abs(codec.decode_np(codes, 1) - codec.decode_np(codes, 16)).max() > 1e-3


@pytest.mark.parametrize("chunks", [[1] * 12 + [78], [5, 7, 30, 1, 47]])
def test_streamed_decode_equals_whole_decode(pair, chunks):
    import torch

    codec, codes, _ = pair
    whole = codec.decode_np(codes)
    stream = codec.streaming_decoder(max_frames=FRAMES)
    parts, at = [], 0
    for n in chunks:
        parts.append(stream.decode_frames(torch.from_numpy(codes[:, at:at + n]).unsqueeze(0)).reshape(-1).numpy())
        at += n
    assert at == FRAMES  # past the 72-frame attention window
    assert [len(p) for p in parts] == [n * 1920 for n in chunks]  # each chunk's audio, no more, no less
    # Equal but for summation order (one-frame attention steps, overhangs added separately): the
    # same bar as against the reference.
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-4, rtol=0)


def test_encode_gives_the_reference_codes_on_real_speech(pair, folder, speech_clips, tmp_path):
    import soundfile as sf

    from engine.audio.resample import resample

    codec, _, _ = pair
    x, sr = sf.read(str(speech_clips[0]["path"]), dtype="float32")
    clip = resample(x, sr, 24000)[: int(24000 * 2.5)]
    expected = tiny.reference_encode(folder, clip, tmp_path / "enc.npz")  # [T, 16]
    ours = codec.encode_np(clip, 24000)  # [16, T]
    assert ours.shape == (16, int(np.ceil(len(clip) / 1920)))
    np.testing.assert_array_equal(ours.T, expected)
    assert len(np.unique(ours[0])) > 3  # real speech moves through the semantic codebook
