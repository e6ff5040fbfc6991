"""Our training loss and LoRA gradients equal the reference's (transformers CsmForConditionalGeneration
with labels; peft's LoRA on it), on a tiny random CSM, fp32, CPU."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.backends.csm_loader import load_csm
from engine.train import lora
from engine.train.objective import IGNORE, build_example, collate, csm_loss, depth_subset
from tests.engine.tiny_csm import cached_tiny_csm, load_reference, single_thread

pytest.importorskip("transformers")
K = 32
_threads = pytest.fixture(scope="module", autouse=True)(single_thread)


def _examples(seed: int = 0):
    """Two takes of different lengths: text ids + random codes (ids below the codec's 64 codes)."""
    g = np.random.default_rng(seed)
    out = []
    for n_text, n_frames in ((6, 9), (4, 5)):
        ids = g.integers(4, 300, n_text).tolist()
        out.append(build_example(ids, g.integers(0, 64, (K, n_frames))))
    return out


def _reference_inputs(ref, batch):
    """inputs_embeds + [B, S, K] labels the way transformers' forward takes them."""
    tokens, mask = batch.tokens, batch.mask
    text = ref.embed_text_tokens(tokens[..., -1])
    audio = ref.backbone_model.embed_tokens(tokens[..., :K])
    is_text = mask[..., -1:].to(text.dtype)
    is_audio = mask[..., :1].to(text.dtype)
    return text * is_text + audio * is_audio, batch.labels


@pytest.fixture(scope="module")
def pair():
    folder = cached_tiny_csm("hf")
    return load_csm(folder, device="cpu"), load_reference(folder)


@pytest.mark.parametrize("fraction", [1.0, 0.5])
def test_loss_equals_transformers_with_labels(pair, fraction):
    loaded, ref = pair
    examples = _examples()
    rng = np.random.default_rng(3)
    keep = [depth_subset(e, fraction, rng) for e in examples]
    batch = collate(examples, keep)
    # padding rows of the shorter take carry no label; text rows neither
    assert (batch.labels[1, len(examples[1]):] == IGNORE).all()
    assert (batch.labels[0, : examples[0].first_audio] == IGNORE).all()
    ours = csm_loss(loaded.model, batch)
    embeds, labels = _reference_inputs(ref, batch)
    with torch.no_grad():
        out = ref(inputs_embeds=embeds, labels=labels)
    assert abs(ours.backbone_sum.item() / ours.backbone_n - out.backbone_loss.item()) <= 1e-5
    assert abs(ours.depth_sum.item() / ours.depth_n - out.depth_decoder_loss.item()) <= 1e-5
    assert abs(ours.mean().item() - out.loss.item()) <= 1e-5
    n_frames = sum(int(k.sum()) for k in keep)
    assert ours.depth_n == n_frames * (K - 1)


def test_lora_gradients_equal_peft(pair):
    peft = pytest.importorskip("peft")
    folder = cached_tiny_csm("hf")
    loaded = load_csm(folder, device="cpu")
    ref = load_reference(folder)
    settings = lora.LoraSettings(rank=4, alpha=8, targets=lora.ALL_TARGETS)
    adapter = lora.attach(loaded.model, settings, seed=1)
    # B is zero at init (no gradient reaches A): give both random values, copied to peft's model.
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for p in adapter.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    cfg = peft.LoraConfig(r=4, lora_alpha=8, target_modules=settings.target_regex(), lora_dropout=0.0)
    pm = peft.get_peft_model(ref, cfg)
    theirs = {k.replace(".default.weight", ".weight"): p for k, p in pm.named_parameters() if "lora_" in k}
    ours = adapter.named_tensors()
    assert set(ours) == set(theirs)  # same keys: an adapter we save is one peft loads
    with torch.no_grad():
        for k, p in ours.items():
            theirs[k].copy_(p)
    batch = collate(_examples())
    csm_loss(loaded.model, batch).mean().backward()
    embeds, labels = _reference_inputs(pm.base_model.model, batch)
    pm(inputs_embeds=embeds, labels=labels).loss.backward()
    worst = max((ours[k].grad - theirs[k].grad).abs().max().item() for k in ours)
    assert worst <= 1e-4
    assert min(ours[k].grad.abs().max().item() for k in ours) > 0  # every adapter matrix learns
