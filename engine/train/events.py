"""What a training run reports, as plain dataclasses (the CLI prints them, the GUI plots them)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainStarted:
    total_steps: int
    start_step: int  # > 0 when resumed
    train_takes: int
    heldout_takes: int
    train_seconds: float  # audio seconds in the training set
    left_out: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepDone:
    step: int
    total_steps: int
    epoch: int
    loss: float  # backbone + depth, this step's batch (all processes)
    backbone_loss: float
    depth_loss: float
    lr: float
    steps_per_s: float  # measured over this session's steps after the first
    eta_s: float | None  # None until two steps have been timed
    peak_memory_bytes: int


@dataclass(frozen=True)
class HeldOutLoss:
    step: int
    loss: float
    backbone_loss: float
    depth_loss: float


@dataclass(frozen=True)
class CheckpointSaved:
    step: int
    path: str
    adapter_hash: str


@dataclass(frozen=True)
class TrainFinished:
    step: int
    reason: str  # "done" | "paused" | "nan" | "error"
    message: str
    last_checkpoint: str | None
