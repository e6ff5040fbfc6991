"""LoRA settings without torch (the GUI shows and edits them before any model is loaded)."""
from __future__ import annotations

from dataclasses import dataclass

ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")
MLP = ("gate_proj", "up_proj", "down_proj")
ALL_TARGETS = ATTENTION + MLP
# Our transformer attribute -> transformers' CsmForConditionalGeneration prefix (never the codec).
PARTS = {"backbone": "backbone_model.", "decoder": "depth_decoder.model."}


@dataclass(frozen=True)
class LoraSettings:
    rank: int = 16
    alpha: float = 32.0
    targets: tuple[str, ...] = ATTENTION
    dropout: float = 0.0
    parts: tuple[str, ...] = ("backbone", "decoder")

    def __post_init__(self) -> None:
        bad = [t for t in self.targets if t not in ALL_TARGETS]
        if bad or not self.targets:
            raise ValueError(f"LoRA targets must be among {', '.join(ALL_TARGETS)} (got {list(self.targets)})")
        if self.rank < 1:
            raise ValueError("LoRA rank must be at least 1")
        if any(p not in PARTS for p in self.parts):
            raise ValueError(f"LoRA parts must be among {', '.join(PARTS)}")

    @property
    def scale(self) -> float:
        return self.alpha / self.rank

    def target_regex(self) -> str:
        """PEFT's `target_modules` as one regex (fullmatch): only the two decoders, never the codec
        (Mimi also has q_proj/k_proj/... modules)."""
        prefixes = "|".join(PARTS[p].rstrip(".").replace(".", r"\.") for p in self.parts)
        names = "|".join(self.targets)
        return rf"^({prefixes})\.layers\.\d+\.(self_attn|mlp)\.({names})$"
