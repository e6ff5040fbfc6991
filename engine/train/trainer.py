"""The fine-tuning loop: one `step` = one (global) batch, forward + backward + AdamW.

Readable on purpose: config at the top (engine/train/config.py), data order derived from the step
number (so the step *is* the data position), and every side effect (events, checkpoints) in `run`.

Several processes (`torchrun --nproc_per_node N mynah finetune ...`; gloo on CPU, nccl on CUDA):
each takes its slice of the global batch, losses are normalised by the global token counts, and
the LoRA gradients are summed across processes (one all_reduce). The sum equals one process's
gradient over the whole global batch, so N processes x batch b == 1 process x batch N*b.
"""
from __future__ import annotations

import json
import math
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from engine.train import checkpoints as ck
from engine.train import lora
from engine.train.config import TrainConfig
from engine.train.data import Prepared
from engine.train.events import CheckpointSaved, HeldOutLoss, StepDone, TrainFinished, TrainStarted
from engine.train.objective import collate, csm_loss, depth_subset


class NonFiniteLoss(RuntimeError):
    """The loss became NaN/inf: training stops, the last good checkpoint is kept."""


@dataclass
class StepResult:
    loss: float
    backbone_loss: float
    depth_loss: float


def dist_rank_world() -> tuple[int, int]:
    """(rank, world size) of this process; (0, 1) outside a process group."""
    d = torch.distributed
    if d.is_available() and d.is_initialized():
        return d.get_rank(), d.get_world_size()
    return 0, 1


def _all_reduce(t: torch.Tensor) -> torch.Tensor:
    if dist_rank_world()[1] > 1:
        torch.distributed.all_reduce(t)
    return t


def peak_memory_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # Linux: KiB


class Trainer:
    def __init__(self, model, data: Prepared, cfg: TrainConfig, out_dir: Path, *,
                 on_event: Callable[[object], None] | None = None, base_model: str = "") -> None:
        self.model, self.data, self.cfg = model, data, cfg
        self.out_dir = Path(out_dir)
        self.on_event = on_event or (lambda e: None)
        self.base_model = base_model
        self.rank, self.world = dist_rank_world()
        self.device = model.codebook0_head.weight.device
        self.adapter = model.adapter if getattr(model, "adapter", None) else lora.attach(model, cfg.lora, seed=cfg.seed)
        self.params = self.adapter.parameters()
        self.global_batch = cfg.batch_size * self.world
        n = len(data.train)
        if n < self.global_batch:
            raise ValueError(f"{n} training takes cannot fill one batch of {self.global_batch} "
                             f"({cfg.batch_size} per process x {self.world}); lower the batch size")
        self.steps_per_epoch = n // self.global_batch
        self.total_steps = cfg.max_steps or max(1, math.ceil(cfg.epochs * self.steps_per_epoch))
        self.opt = torch.optim.AdamW(self.params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, self._lr_factor)
        torch.manual_seed(cfg.seed)  # dropout draws; a resumed run restores the saved state instead
        self.step_i = 0
        self.history: list[dict] = []  # {"step", "loss"} and {"step", "heldout"} rows, for curves
        self.last_checkpoint: Path | None = None

    def _lr_factor(self, step: int) -> float:
        """Linear warm-up, then cosine decay to 10% of the peak."""
        w = self.cfg.warmup_steps
        if step < w:
            return (step + 1) / w
        t = (step - w) / max(1, self.total_steps - w)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))

    # -- one step ---------------------------------------------------------------------------------
    def batch_indices(self, step: int) -> tuple[int, list[int]]:
        """(epoch, this process's example indices) for `step`: each epoch a new permutation."""
        epoch, pos = divmod(step, self.steps_per_epoch)
        perm = np.random.default_rng([self.cfg.seed, epoch]).permutation(len(self.data.train))
        glob = perm[pos * self.global_batch:(pos + 1) * self.global_batch]
        return epoch, glob[self.rank * self.cfg.batch_size:(self.rank + 1) * self.cfg.batch_size].tolist()

    def depth_keep(self, epoch: int, i: int) -> np.ndarray:
        """Rows of example i whose depth loss counts this epoch: a new subset each epoch, the same in
        every process and after a resume (drawn from seed, epoch, example)."""
        rng = np.random.default_rng([self.cfg.seed, epoch, i, 1])
        return depth_subset(self.data.train[i], self.cfg.depth_fraction, rng)

    def step(self) -> StepResult:
        cfg = self.cfg
        epoch, idx = self.batch_indices(self.step_i)
        examples = [self.data.train[i] for i in idx]
        keep = [self.depth_keep(epoch, i) for i in idx] if cfg.depth_fraction < 1.0 else None
        batch = collate(examples, keep).to(self.device)
        self.model.train()
        sums = csm_loss(self.model, batch)
        # on the model's device: nccl reduces CUDA tensors only
        counts = _all_reduce(torch.tensor([sums.backbone_n, sums.depth_n], dtype=torch.float64, device=self.device))
        bn, dn = max(1.0, counts[0].item()), max(1.0, counts[1].item())
        loss = sums.backbone_sum / bn + sums.depth_sum / dn
        loss.backward()
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]
        if self.world > 1:  # sum across processes (see module doc)
            flat = torch.cat([g.reshape(-1) for g in grads])
            _all_reduce(flat)
            for p, g in zip(self.params, torch.split(flat, [g.numel() for g in grads])):
                p.grad = g.view_as(p).clone()
        parts = _all_reduce(torch.stack([sums.backbone_sum.detach(), sums.depth_sum.detach()]).double())
        b_loss, d_loss = parts[0].item() / bn, parts[1].item() / dn
        if not (math.isfinite(b_loss) and math.isfinite(d_loss)):
            self.opt.zero_grad(set_to_none=True)
            raise NonFiniteLoss(f"the loss became NaN/inf at step {self.step_i + 1}")
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.params, cfg.grad_clip)
        self.opt.step()
        self.sched.step()
        self.opt.zero_grad(set_to_none=True)
        self.step_i += 1
        return StepResult(b_loss + d_loss, b_loss, d_loss)

    @torch.no_grad()
    def heldout_loss(self) -> HeldOutLoss | None:
        if not self.data.heldout:
            return None
        self.model.eval()
        bs = bn = ds = dn = 0.0
        for e in self.data.heldout:  # full depth loss, one take at a time (no padding waste)
            s = csm_loss(self.model, collate([e]).to(self.device))
            bs, bn = bs + s.backbone_sum.item(), bn + s.backbone_n
            ds, dn = ds + s.depth_sum.item(), dn + s.depth_n
        return HeldOutLoss(self.step_i, bs / bn + ds / dn, bs / bn, ds / dn)

    # -- checkpoints ------------------------------------------------------------------------------
    def save_checkpoint(self) -> Path | None:
        if self.rank != 0:
            self._barrier()
            return self.last_checkpoint

        def files(tmp: Path) -> None:
            lora.save_adapter(self.adapter, tmp, self.base_model,
                              extra={"base_model_dir": self.base_model} if self.base_model else None)
            torch.save({"step": self.step_i, "optimizer": self.opt.state_dict(),
                        "scheduler": self.sched.state_dict(), "torch_rng": torch.get_rng_state(),
                        "history": self.history, "world": self.world}, tmp / ck.STATE_FILE)
            (tmp / ck.CONFIG_FILE).write_text(json.dumps(self.cfg.to_dict(), indent=2))

        try:
            self.last_checkpoint = ck.write_checkpoint(self.out_dir, self.step_i, files, self.cfg.keep_checkpoints)
        finally:
            self._barrier()
        return self.last_checkpoint

    def load_checkpoint(self, folder: Path) -> None:
        """Continue from `folder` (adapter, optimizer, scheduler, RNG, step = data position)."""
        state = ck.load_state(folder)
        saved = ck.read_config(folder)
        if saved.get("lora") != self.cfg.to_dict()["lora"]:
            raise ValueError(f"{folder.name} was trained with other LoRA settings; start a new run")
        from safetensors.torch import load_file

        tensors = load_file(str(Path(folder) / lora.WEIGHTS_FILE))
        with torch.no_grad():
            for k, p in self.adapter.named_tensors().items():
                p.copy_(tensors[k])
        self.opt.load_state_dict(state["optimizer"])
        self.sched.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        self.step_i = int(state["step"])
        self.history = list(state.get("history", []))
        self.last_checkpoint = Path(folder)

    def _barrier(self) -> None:
        if self.world > 1:
            torch.distributed.barrier()

    # -- the run ----------------------------------------------------------------------------------
    def run(self, should_stop: Callable[[], bool] | None = None) -> TrainFinished:
        cfg, emit = self.cfg, self.on_event
        emit(TrainStarted(self.total_steps, self.step_i, len(self.data.train), len(self.data.heldout),
                          self.data.train_seconds, tuple(self.data.left_out)))
        if self.step_i == 0 and self.data.heldout:
            h = self.heldout_loss()
            self.history.append({"step": 0, "heldout": h.loss})
            emit(h)
        times: list[float] = []
        start_step = self.step_i
        while self.step_i < self.total_steps:
            if should_stop is not None and should_stop():
                return self._finish("paused", "paused; resume continues from the last checkpoint",
                                    save=self.step_i > start_step)
            t0 = time.perf_counter()
            try:
                r = self.step()
            except NonFiniteLoss as e:
                where = (f"the last good checkpoint ({self.last_checkpoint.name}) is kept"
                         if self.last_checkpoint else "no checkpoint was written yet")
                return self._finish("nan", f"{e}: training stopped, {where}. Try a lower learning "
                                           "rate, or fp32 instead of fp16/bf16.", save=False)
            times.append(time.perf_counter() - t0)
            timed = times[1:] if len(times) > 1 else []  # the first step pays one-off set-up
            rate = len(timed) / sum(timed) if timed and sum(timed) > 0 else 0.0
            eta = (self.total_steps - self.step_i) / rate if rate > 0 else None
            self.history.append({"step": self.step_i, "loss": r.loss})
            emit(StepDone(self.step_i, self.total_steps, self.step_i // self.steps_per_epoch, r.loss,
                          r.backbone_loss, r.depth_loss, self.sched.get_last_lr()[0], rate, eta,
                          peak_memory_bytes(self.device)))
            at_ckpt = self.step_i % cfg.checkpoint_every == 0 or self.step_i == self.total_steps
            if self.data.heldout and (at_ckpt or (cfg.eval_every and self.step_i % cfg.eval_every == 0)):
                h = self.heldout_loss()
                self.history.append({"step": self.step_i, "heldout": h.loss})
                emit(h)
            if at_ckpt:
                try:
                    self._save_and_report()
                except ck.CheckpointWriteError as e:
                    return self._finish("error", str(e), save=False)
        return self._finish("done", f"finished {self.total_steps} steps", save=False)

    def _save_and_report(self) -> None:
        path = self.save_checkpoint()
        if self.rank == 0 and path is not None:
            self.on_event(CheckpointSaved(self.step_i, str(path), lora.adapter_hash(path)))

    def _finish(self, reason: str, message: str, save: bool) -> TrainFinished:
        if save:
            try:
                self._save_and_report()
            except ck.CheckpointWriteError as e:
                reason, message = "error", str(e)
        done = TrainFinished(self.step_i, reason, message,
                             str(self.last_checkpoint) if self.last_checkpoint else None)
        self.on_event(done)
        return done
