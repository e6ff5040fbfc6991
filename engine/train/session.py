"""A training run from a model folder and a list of clips: the one set-up the CLI and GUI share.

    trainer = open_run(model_dir, clips, out_dir, cfg, resume=True, on_event=print)
    trainer.run(should_stop)

`out_dir/run.json` records the model, the clips (train / held out) and the config, so a run can be
resumed after a crash or a restart with nothing but its folder (`resume_run(out_dir)`).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from engine.train import checkpoints as ck
from engine.train.config import TrainConfig
from engine.train.data import Clip, TrainDataError, encode_clips, prepare, split_heldout
from engine.train.trainer import Trainer, dist_rank_world

RUN_FILE = "run.json"


class Progress:
    """Set-up progress (encoding clips), as an event."""

    def __init__(self, done: int, total: int, what: str) -> None:
        self.done, self.total, self.what = done, total, what

    def __repr__(self) -> str:
        return f"Progress({self.what} {self.done}/{self.total})"


def init_distributed() -> tuple[int, int]:
    """Join the process group when launched by torchrun (WORLD_SIZE > 1): gloo on CPU, nccl on
    CUDA (each process on its LOCAL_RANK GPU). Returns (rank, world size)."""
    import os

    import torch

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    dist = torch.distributed
    if not dist.is_initialized():
        cuda = torch.cuda.is_available()
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if cuda else "gloo")
    return dist.get_rank(), dist.get_world_size()


def open_run(model_dir: Path, clips: list[Clip], out_dir: Path, cfg: TrainConfig, *,
             heldout: list[Clip] | None = None, device: str = "auto", resume: bool = True,
             codes_cache: Path | None = None, codec_dir: Path | None = None,
             on_event: Callable[[object], None] | None = None) -> Trainer:
    """Load the base model, encode every clip once (cached), split, and build the trainer; with
    `resume`, continue from the newest complete checkpoint in out_dir when there is one."""
    from engine.backends.csm_loader import load_csm

    out_dir = Path(out_dir)
    emit = on_event or (lambda e: None)
    if not clips:
        raise TrainDataError("0 usable takes to train on")
    if heldout is None:
        train, heldout = split_heldout(clips, cfg.heldout_fraction, cfg.seed)
    else:
        train = clips
    loaded = load_csm(Path(model_dir), device=device, dtype=cfg.dtype, codec_dir=codec_dir)
    codec = loaded.load_codec()
    k = loaded.spec.n_codebooks
    cache = Path(codes_cache) if codes_cache else out_dir / "codes"
    everything = train + heldout
    codes = encode_clips(everything, codec.encode_np, cache, loaded.weights_sha256, k,
                         progress=lambda d, n: emit(Progress(d, n, "encoding clips")))
    data = prepare(train, heldout, codes[:len(train)], codes[len(train):], loaded.tokenizer.encode_turn,
                   loaded.spec.max_positions, cfg.max_clip_seconds)
    out_dir.mkdir(parents=True, exist_ok=True)
    record = {"model_dir": str(Path(model_dir).resolve()), "config": cfg.to_dict(),
              "codec_dir": str(Path(codec_dir).resolve()) if codec_dir else None,
              "train": [[str(c.path), c.text, c.key] for c in train],
              "heldout": [[str(c.path), c.text, c.key] for c in heldout]}
    if dist_rank_world()[0] == 0:  # one writer: every rank holds the same record (a seeded split)
        tmp = out_dir / (RUN_FILE + ".tmp")
        tmp.write_text(json.dumps(record, indent=2))
        tmp.replace(out_dir / RUN_FILE)
    trainer = Trainer(loaded.model, data, cfg, out_dir, on_event=on_event,
                      base_model=str(Path(model_dir).resolve()))
    trainer.loaded = loaded  # the caller may want the tokenizer/codec (auditions)
    last = ck.latest_checkpoint(out_dir) if resume else None
    if last is not None:
        trainer.load_checkpoint(last)
    return trainer


def resume_run(out_dir: Path, *, device: str = "auto",
               on_event: Callable[[object], None] | None = None) -> Trainer:
    """Re-open a run from its folder alone (after a crash, a restart or a pause)."""
    out_dir = Path(out_dir)
    try:
        record = json.loads((out_dir / RUN_FILE).read_text())
    except (OSError, ValueError) as e:
        raise TrainDataError(f"{out_dir} is not a fine-tuning run ({RUN_FILE}: {e})") from None
    clips = lambda rows: [Clip(Path(p), t, k) for p, t, k in rows]  # noqa: E731
    return open_run(Path(record["model_dir"]), clips(record["train"]), out_dir,
                    TrainConfig.from_dict(record["config"]), heldout=clips(record["heldout"]),
                    device=device, resume=True, on_event=on_event,
                    codec_dir=Path(record["codec_dir"]) if record.get("codec_dir") else None)
