"""Mimi configs other than kyutai's defaults still match transformers: replicate padding (streamed
too, since its first-chunk state differs from zeros) and non-causal convolutions (whole only)."""
from __future__ import annotations

import pytest
import torch

from engine.codecs.mimi import load_mimi_dir
from tests.engine.tiny_mimi import save_tiny_mimi, single_torch_thread  # noqa: F401 (autouse)

pytest.importorskip("transformers")


@pytest.mark.parametrize("overrides", [
    dict(pad_mode="replicate"),
    dict(use_causal_conv=False, use_conv_shortcut=True, num_residual_layers=2),
], ids=["replicate", "non-causal"])
def test_variant_matches_the_reference(tmp_path, overrides):
    folder, hf = save_tiny_mimi(tmp_path / "mimi", seed=5, **overrides)
    ours = load_mimi_dir(folder)
    g = torch.Generator().manual_seed(0)
    wav = torch.randn(1, 1, 30_001, generator=g) * 0.1  # [1, 1, T]
    with torch.no_grad():
        ref_codes = hf.encode(wav).audio_codes
    assert torch.equal(ours.encode(wav), ref_codes)

    codes = torch.randint(0, 64, (1, 32, 24), generator=g)  # 48 steps, past the window of 8
    with torch.no_grad():
        ref = hf.decode(codes).audio_values
    whole = ours.decode(codes)
    assert (whole - ref).abs().max().item() <= 1e-4
    assert ref.abs().max().item() > 0.05

    if overrides.get("use_causal_conv", True):
        state = ours.streaming_decoder()
        streamed = torch.cat([state.decode_frames(codes[..., i: i + 5]) for i in range(0, 24, 5)], -1)
        assert (streamed - whole).abs().max().item() <= 1e-4
    else:
        with pytest.raises(NotImplementedError, match="causal"):
            ours.streaming_decoder().decode_frames(codes[..., :2])
