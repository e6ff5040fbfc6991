"""LoRA adapters: merged == unmerged, base <-> tuned switching without reloading, save -> load gives
the same takes, and what we save is what transformers + peft load."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.backends import get_backend
from engine.backends.base import SamplingParams
from engine.train import lora
from engine.train.objective import build_example, collate, embed_rows
from tests.engine.tiny_csm import cached_tiny_csm, load_reference, single_thread

pytest.importorskip("transformers")
_threads = pytest.fixture(scope="module", autouse=True)(single_thread)
K = 32
SETTINGS = lora.LoraSettings(rank=4, alpha=8, targets=lora.ALL_TARGETS)
PARAMS = SamplingParams(temperature=0.9, top_k=20, seed=7, max_audio_seconds=1.0, options={"codes_only": True})


def _randomize(adapter, seed: int = 5, scale: float = 0.3) -> None:
    """A trained-looking adapter (B is zero at init, which would change nothing)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in adapter.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * scale)


def _batch():
    g = np.random.default_rng(0)
    return collate([build_example(g.integers(4, 300, 6).tolist(), g.integers(0, 64, (K, 8)))])


def _logits(model, batch):
    with torch.no_grad():
        h = model.backbone.forward_train(embed_rows(model, batch.tokens, batch.mask))
        return model.codebook0_head(h)


def _take(backend) -> np.ndarray:
    return np.stack([s.codes for s in backend.synthesize("Hello there.", None, PARAMS)])


@pytest.fixture()
def backend():
    b = get_backend("csm")
    b.load(cached_tiny_csm("hf"), device="cpu")
    return b


def test_merged_weights_give_the_same_logits_and_unmerge_restores_the_base(backend):
    model = backend._loaded.model
    batch = _batch()
    base = _logits(model, batch)
    adapter = lora.attach(model, SETTINGS, seed=0)
    _randomize(adapter)
    unmerged = _logits(model, batch)
    assert (unmerged - base).abs().max() > 1e-2  # the adapter changes the model
    with pytest.raises(RuntimeError, match="merge it before generating"):
        _take(backend)  # the fast path would silently ignore an unmerged adapter
    adapter.merge()
    assert (_logits(model, batch) - unmerged).abs().max() <= 1e-5
    adapter.unmerge()  # back on the low-rank path: still tuned
    assert (_logits(model, batch) - unmerged).abs().max() <= 1e-5
    lora.detach(model)  # the base again, from the same (merged, then unmerged) weight tensors
    assert (_logits(model, batch) - base).abs().max() <= 1e-5


def test_save_then_load_gives_identical_takes_and_switching_needs_no_reload(tmp_path, backend):
    base_take = _take(backend)
    adapter = lora.attach(backend._loaded.model, SETTINGS, seed=0)
    _randomize(adapter)
    adapter.merge()
    trained_take = _take(backend)
    assert not np.array_equal(trained_take, base_take)
    folder = tmp_path / "my-voice"
    h = lora.save_adapter(adapter, folder, str(cached_tiny_csm("hf")),
                          extra={"base_model_dir": str(cached_tiny_csm("hf"))})
    lora.detach(backend._loaded.model)

    tuned = get_backend("csm")
    info = tuned.load(folder, device="cpu")  # a tuned voice's folder works as a model folder
    assert info.adapter_sha256 == h and info.weights_sha256.endswith(f"+lora:{h}")
    assert tuned._loaded is backend._loaded  # its base was loaded already: one copy of the weights
    assert np.array_equal(_take(tuned), trained_take)
    assert np.array_equal(_take(backend), base_take)  # each backend generates with its own adapter
    assert np.array_equal(_take(tuned), trained_take)
    weights = tuned._loaded.model.backbone.layers[0].attention.wqkv.weight
    assert tuned.set_adapter(None) == "" and tuned.info.adapter_sha256 == ""  # base again, no reload
    assert tuned._loaded.model.backbone.layers[0].attention.wqkv.weight is weights
    assert np.array_equal(_take(tuned), base_take)
    tuned.set_adapter(folder)
    assert np.array_equal(_take(tuned), trained_take)
    alone = get_backend("csm")
    del backend, tuned
    import gc

    gc.collect()
    alone.load(folder, device="cpu")  # loaded on its own (nothing to share): the same take
    assert np.array_equal(_take(alone), trained_take)


def test_transformers_and_peft_load_our_adapter(tmp_path, backend):
    peft = pytest.importorskip("peft")
    model = backend._loaded.model
    adapter = lora.attach(model, lora.LoraSettings(rank=4, alpha=8, targets=("q_proj", "v_proj", "down_proj")), seed=0)
    _randomize(adapter, scale=0.1)
    lora.save_adapter(adapter, tmp_path / "a")
    adapter.merge()
    batch = _batch()
    ours = _logits(model, batch)
    ref = peft.PeftModel.from_pretrained(load_reference(cached_tiny_csm("hf")), str(tmp_path / "a")).eval()
    tokens, mask = batch.tokens, batch.mask
    inner = ref.base_model.model
    embeds = (inner.embed_text_tokens(tokens[..., -1]) * mask[..., -1:].float()
              + inner.backbone_model.embed_tokens(tokens[..., :K]) * mask[..., :1].float())
    with torch.no_grad():
        theirs = ref(inputs_embeds=embeds).logits
    assert (ours - theirs).abs().max() <= 1e-4
    # the codec was left alone: peft wrapped only the two decoders' projections
    wrapped = [n for n, m in ref.named_modules() if hasattr(m, "lora_A") and "codec_model" in n]
    assert wrapped == []
