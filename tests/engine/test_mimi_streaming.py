"""Streaming decode: playing codes as they arrive sounds exactly like decoding the take at once."""
from __future__ import annotations

import pytest
import torch

from engine.codecs.mimi import load_mimi_dir
from tests.engine.tiny_mimi import cached_tiny_mimi, single_torch_thread  # noqa: F401 (autouse)

pytest.importorskip("transformers")

N_FRAMES = 40  # 80 transformer steps: ten times the tiny model's sliding window of 8


@pytest.fixture(scope="module")
def mimi():
    folder, _ = cached_tiny_mimi(0)
    return load_mimi_dir(folder)


@pytest.fixture(scope="module")
def codes() -> torch.Tensor:
    g = torch.Generator().manual_seed(7)
    return torch.randint(0, 64, (1, 32, N_FRAMES), generator=g)  # [1, 32, 40]


def _stream(state, codes: torch.Tensor, k: int) -> torch.Tensor:
    chunks = []
    for i in range(0, codes.shape[-1], k):
        piece = state.decode_frames(codes[..., i: i + k])
        assert piece.shape[-1] == codes[..., i: i + k].shape[-1] * 1920  # audio for every frame, at once
        chunks.append(piece)
    return torch.cat(chunks, dim=-1)


@pytest.mark.parametrize("k", [1, 2, 5, 8])
def test_chunked_decode_equals_whole_decode(mimi, codes, k):
    whole = mimi.decode(codes)  # [1, 1, 76800]
    streamed = _stream(mimi.streaming_decoder(), codes, k)
    assert streamed.shape == whole.shape
    assert (streamed - whole).abs().max().item() <= 1e-4


def test_uneven_chunks_and_fewer_codebooks(mimi, codes):
    sub = codes[:, :8]
    whole = mimi.decode(sub)
    state = mimi.streaming_decoder()
    pieces, i = [], 0
    for n in (3, 1, 7, 2, 11, 16):
        pieces.append(state.decode_frames(sub[..., i: i + n]))
        i += n
    assert i == N_FRAMES
    assert (torch.cat(pieces, -1) - whole).abs().max().item() <= 1e-4
    assert state.frames_decoded == N_FRAMES


def test_reset_starts_a_new_utterance(mimi, codes):
    state = mimi.streaming_decoder()
    first = _stream(state, codes[..., :10], 2)
    _stream(state, codes[..., 10:], 5)  # the state now carries this take's history
    state.reset()
    again = _stream(state, codes[..., :10], 2)
    assert torch.equal(first, again)


def test_batched_streams_are_independent(mimi, codes):
    other = torch.flip(codes, dims=[-1])
    both = torch.cat([codes, other])  # [2, 32, 40]
    streamed = _stream(mimi.streaming_decoder(batch_size=2), both, 5)
    assert (streamed[1:] - mimi.decode(other)).abs().max().item() <= 1e-4
    assert (streamed[:1] - mimi.decode(codes)).abs().max().item() <= 1e-4


def test_state_memory_stays_flat_on_long_takes(mimi):
    """A ten-minute take must not grow the cache: only the sliding window is kept."""
    state = mimi.streaming_decoder()
    g = torch.Generator().manual_seed(3)
    for _ in range(30):
        state.decode_frames(torch.randint(0, 64, (1, 32, 1), generator=g))
    assert all(k.shape[2] <= 7 for k in state._kv.keys)  # window 8 - 1


def test_numpy_decode_of_a_long_take_streams_in_pieces(mimi, codes, monkeypatch):
    """decode_np bounds memory by decoding long takes piecewise; the audio must not change."""
    import engine.codecs.mimi_model as mimi_model

    monkeypatch.setattr(mimi_model, "DECODE_NP_CHUNK_FRAMES", 3)
    pieces = mimi.decode_np(codes[0].numpy())
    whole = mimi.decode(codes)[0, 0].numpy()
    assert pieces.shape == whole.shape
    assert abs(pieces - whole).max() <= 1e-4
