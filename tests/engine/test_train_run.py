"""Fine-tuning a tiny random CSM on a few real clips: it learns, checkpoints survive a stop, a NaN
and a full disk, and bad input is named before any training."""
from __future__ import annotations

import errno

import numpy as np
import pytest
import torch

from engine.train import checkpoints as ck
from engine.train import lora
from engine.train.config import TrainConfig
from engine.train.data import Clip, TrainDataError, clips_from_folder, prepare
from engine.train.events import CheckpointSaved, HeldOutLoss, StepDone, TrainFinished
from tests.engine.tiny_csm import single_thread
from tests.engine.train_helpers import open_tiny_run, speaker_clips

pytest.importorskip("transformers")
_threads = pytest.fixture(scope="module", autouse=True)(single_thread)


@pytest.fixture(scope="module")
def clips(speech_dir):
    return speaker_clips(speech_dir)


@pytest.fixture(scope="module")
def codes_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("codes")


def _adapter_tensors(trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in trainer.adapter.named_tensors().items()}


def test_heldout_loss_falls_by_half(tmp_path, clips, codes_cache):
    # A tiny random model's output heads (std 0.02) cannot express a peaked distribution at all;
    # scaled up, the base is confidently wrong, as a real base model is about a new voice.
    cfg = TrainConfig(lora=lora.LoraSettings(rank=8, alpha=16, targets=lora.ALL_TARGETS), lr=3e-2,
                      max_steps=40, eval_every=20, checkpoint_every=40, heldout_fraction=0.34)
    events = []
    trainer = open_tiny_run(tmp_path / "run", clips, cfg, codes_cache, on_event=events.append)
    assert len(trainer.data.heldout) == 2 and len(trainer.data.train) == 4
    with torch.no_grad():
        trainer.model.codebook0_head.weight.mul_(100)
        trainer.model.audio_head.mul_(100)
    done = trainer.run()
    held = [e.loss for e in events if isinstance(e, HeldOutLoss)]
    assert done.reason == "done" and len(held) == 3
    assert held[-1] <= 0.5 * held[0], held
    steps = [e for e in events if isinstance(e, StepDone)]
    assert len(steps) == 40 and steps[-1].eta_s == 0 and steps[-1].steps_per_s > 0
    assert steps[-1].peak_memory_bytes > 0
    assert [e.step for e in events if isinstance(e, CheckpointSaved)] == [40]
    # the codes were computed once and cached: a second run encodes nothing
    n_cached = len(list(codes_cache.glob("*.npy")))
    assert n_cached == len(clips)


def _cfg(**kw) -> TrainConfig:
    # amortized depth loss and LoRA dropout on: the RNG and the per-epoch subsets must resume too
    base = dict(lora=lora.LoraSettings(rank=4, alpha=8, targets=lora.ALL_TARGETS, dropout=0.1), lr=1e-2,
                max_steps=6, depth_fraction=0.5, checkpoint_every=3, eval_every=0, heldout_fraction=0.34,
                warmup_steps=2)
    base.update(kw)
    return TrainConfig(**base)


def test_stop_and_resume_ends_at_the_same_weights_as_a_straight_run(tmp_path, clips, codes_cache):
    straight = open_tiny_run(tmp_path / "a", clips, _cfg(), codes_cache)
    straight.run()
    steps_seen = []

    def stop_after_4():
        return len(steps_seen) >= 4

    first = open_tiny_run(tmp_path / "b", clips, _cfg(), codes_cache,
                          on_event=lambda e: steps_seen.append(e) if isinstance(e, StepDone) else None)
    paused = first.run(should_stop=stop_after_4)
    assert paused.reason == "paused" and paused.step == 4
    assert ck.latest_checkpoint(tmp_path / "b").name == "step-000004"
    from engine.train.session import resume_run

    again = resume_run(tmp_path / "b", device="cpu")  # a new process would do just this
    assert again.step_i == 4
    again.run()
    a, b = _adapter_tensors(straight), _adapter_tensors(again)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, clips, codes_cache):
    events = []
    trainer = open_tiny_run(tmp_path / "run", clips, _cfg(checkpoint_every=2), codes_cache, on_event=events.append)

    def poison(e):
        events.append(e)
        if isinstance(e, StepDone) and e.step == 3:  # weights go bad after the step-2 checkpoint
            with torch.no_grad():
                trainer.adapter.parameters()[0].fill_(float("nan"))

    trainer.on_event = poison
    done = trainer.run()
    assert done.reason == "nan" and done.step == 3
    assert "step-000002" in done.message and "NaN" in done.message
    good = ck.latest_checkpoint(tmp_path / "run")
    assert good.name == "step-000002"
    from safetensors.torch import load_file

    assert all(torch.isfinite(t).all() for t in load_file(str(good / lora.WEIGHTS_FILE)).values())


def test_a_full_disk_mid_checkpoint_keeps_the_previous_one(tmp_path, clips, codes_cache, monkeypatch):
    trainer = open_tiny_run(tmp_path / "run", clips, _cfg(checkpoint_every=2, max_steps=4), codes_cache)
    real_save = torch.save
    calls = []

    def full_disk(obj, path, *a, **kw):
        calls.append(path)
        if len(calls) == 2:  # the second checkpoint's state file: write half of it, then fail
            with open(path, "wb") as f:
                f.write(b"\0" * 100)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(obj, path, *a, **kw)

    monkeypatch.setattr(torch, "save", full_disk)
    done = trainer.run()
    assert done.reason == "error" and "No space left" in done.message and "step-000002" in done.message
    latest = ck.latest_checkpoint(tmp_path / "run")
    assert latest.name == "step-000002" and ck.is_complete(latest)
    assert not list((tmp_path / "run" / "checkpoints").glob(".tmp-*"))  # no half-written folder left
    assert ck.load_state(latest)["step"] == 2


def test_bad_input_is_named_before_training(tmp_path, clips):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "a.wav").write_bytes(b"")
    with pytest.raises(TrainDataError, match="no audio file with a transcript"):
        clips_from_folder(empty)
    ids = lambda text: list(range(len(text)))  # noqa: E731
    long_codes = np.zeros((32, 300), dtype=np.int64)
    short = np.zeros((32, 50), dtype=np.int64)
    with pytest.raises(TrainDataError, match=r"longer than the model's budget.*clip_a"):
        prepare([Clip(clips[0].path, "hello", "clip_a"), Clip(clips[1].path, "hi", "clip_b")], [],
                [long_codes, short], [], ids, max_positions=256)
    with pytest.raises(TrainDataError, match="0 usable takes.*over this preset's 2 s clip limit"):
        prepare([Clip(clips[0].path, "hello", "clip_a")], [], [short], [], ids, max_positions=256,
                max_clip_seconds=2.0)


def test_a_folder_with_sidecar_transcripts_is_read(tmp_path, clips):
    import shutil

    for c in clips[:2]:
        shutil.copy(c.path, tmp_path / c.path.name)
        (tmp_path / c.path.name).with_suffix(".txt").write_text(c.text)
    got = clips_from_folder(tmp_path)
    assert [c.text for c in got] == [c.text for c in sorted(clips[:2], key=lambda c: c.path.name)]


def test_finished_event_names_the_last_checkpoint(tmp_path, clips, codes_cache):
    events = []
    trainer = open_tiny_run(tmp_path / "run", clips, _cfg(max_steps=2, checkpoint_every=5), codes_cache,
                            on_event=events.append)
    done = trainer.run()
    assert isinstance(events[-1], TrainFinished) and done.last_checkpoint.endswith("step-000002")


def test_a_bf16_base_trains_fp32_adapters(tmp_path, clips, codes_cache):
    """The GPU preset's dtype, here on CPU: the base in bf16, the adapter kept in fp32."""
    events = []
    trainer = open_tiny_run(tmp_path / "run", clips, _cfg(max_steps=3, dtype="bf16", checkpoint_every=3),
                            codes_cache, on_event=events.append)
    assert trainer.model.codebook0_head.weight.dtype == torch.bfloat16
    done = trainer.run()
    assert done.reason == "done"
    assert all(p.dtype == torch.float32 for p in trainer.adapter.parameters())
    losses = [e.loss for e in events if isinstance(e, StepDone)]
    assert len(losses) == 3 and all(np.isfinite(losses))
    trainer.adapter.merge()  # onto bf16 weights, for generation
    assert trainer.model.backbone.layers[0].attention.wqkv.weight.dtype == torch.bfloat16


def test_amortized_depth_frames_are_a_new_subset_each_epoch(tmp_path, clips, codes_cache):
    trainer = open_tiny_run(tmp_path / "run", clips, _cfg(depth_fraction=1 / 16), codes_cache)
    e = trainer.data.train[0]
    frames = len(e) - e.first_audio - 1
    a, b = trainer.depth_keep(0, 0), trainer.depth_keep(1, 0)
    assert a[-1] and b[-1]  # the EOS frame always trains the depth decoder
    assert a.sum() - 1 == frames - int(frames * (1 - 1 / 16))  # the reference's count
    assert not np.array_equal(a, b)  # another epoch, another subset
    assert np.array_equal(a, trainer.depth_keep(0, 0))  # drawn again (resume, other processes): the same
    assert not a[: e.first_audio].any()  # never a text row
