"""Every hyperparameter of a fine-tuning run, and the presets by hardware."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from engine.train.settings import ALL_TARGETS, ATTENTION, LoraSettings


@dataclass(frozen=True)
class TrainConfig:
    lora: LoraSettings = field(default_factory=LoraSettings)
    lr: float = 2e-4
    weight_decay: float = 0.0
    warmup_steps: int = 0
    epochs: float = 2.0  # whole passes over the training takes
    max_steps: int | None = None  # overrides epochs when set
    batch_size: int = 1  # per process
    depth_fraction: float = 1.0  # share of audio frames the depth decoder trains on (amortization)
    grad_clip: float = 1.0  # max gradient norm; 0 = off
    checkpoint_every: int = 50  # steps
    eval_every: int = 25  # steps between held-out losses; 0 = only at checkpoints
    keep_checkpoints: int = 3  # the newest N are kept (older ones deleted)
    heldout_fraction: float = 0.1  # of distinct sentences
    max_clip_seconds: float | None = None  # longer clips are left out (with a notice)
    dtype: str = "auto"  # fp32 on CPU, bf16 on CUDA
    seed: int = 0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["lora"]["targets"] = list(self.lora.targets)
        d["lora"]["parts"] = list(self.lora.parts)
        return d

    @staticmethod
    def from_dict(d: dict) -> "TrainConfig":
        d = dict(d)
        lo = dict(d.pop("lora", {}))
        for k in ("targets", "parts"):
            if k in lo:
                lo[k] = tuple(lo[k])
        known = set(TrainConfig.__dataclass_fields__)
        return TrainConfig(lora=LoraSettings(**lo), **{k: v for k, v in d.items() if k in known})

    def with_(self, **changes) -> "TrainConfig":
        return replace(self, **changes)


PRESETS: dict[str, TrainConfig] = {
    # A rented or local GPU: every projection, full depth loss, bf16.
    "gpu-standard": TrainConfig(lora=LoraSettings(rank=32, alpha=64, targets=ALL_TARGETS), lr=2e-4,
                                warmup_steps=20, epochs=3, batch_size=4, dtype="bf16",
                                checkpoint_every=100, eval_every=50),
    # A laptop CPU: attention only, rank 8, the depth decoder on 1/16 of the frames, short clips.
    "cpu-quick": TrainConfig(lora=LoraSettings(rank=8, alpha=16, targets=ATTENTION), lr=2e-4,
                             epochs=2, batch_size=1, depth_fraction=1 / 16, max_clip_seconds=10.0,
                             dtype="fp32", checkpoint_every=25, eval_every=25),
}


def preset_for(device: str) -> str:
    """The preset a machine gets by default ("cuda..." -> GPU standard, else CPU quick)."""
    return "gpu-standard" if device.startswith("cuda") else "cpu-quick"
