"""Configuration of a Llama-family decoder, read from a Hugging Face style config dict."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ConfigError(ValueError):
    """A model config is missing a field or holds an impossible value."""


@dataclass(frozen=True)
class RopeConfig:
    theta: float = 500000.0
    kind: str = "default"  # "default" or "llama3"
    factor: float = 1.0
    low_freq_factor: float = 1.0
    high_freq_factor: float = 4.0
    original_max_positions: int = 8192

    @classmethod
    def from_hf(cls, cfg: dict[str, Any], default_theta: float = 500000.0) -> "RopeConfig":
        # transformers >= 5 writes `rope_parameters` (theta inside); older files write
        # `rope_theta` + `rope_scaling`. Both describe the same thing.
        params = cfg.get("rope_parameters") or cfg.get("rope_scaling") or {}
        # Multimodal RoPE (Qwen3-TTS's talker: `mrope_section`, `interleaved`) rotates sections of
        # each head by the temporal/height/width position ids. A speech LM's positions are 1-D (the
        # three ids are equal at every position), so every section gets the same angle and M-RoPE
        # is exactly 1-D RoPE; the section layout is then irrelevant and is not kept.
        theta = float(params.get("rope_theta", cfg.get("rope_theta", default_theta)))
        kind = params.get("rope_type", params.get("type", "default")) or "default"
        if kind not in ("default", "llama3"):
            raise ConfigError(f"unsupported rope type {kind!r} (supported: default, llama3)")
        if kind == "default":
            return cls(theta=theta)
        return cls(theta=theta, kind=kind, factor=float(params["factor"]),
                   low_freq_factor=float(params["low_freq_factor"]),
                   high_freq_factor=float(params["high_freq_factor"]),
                   original_max_positions=int(params["original_max_position_embeddings"]))


@dataclass(frozen=True)
class LlamaConfig:
    dim: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    ffn_dim: int
    max_positions: int
    head_dim: int = 0  # 0: dim // n_heads
    norm_eps: float = 1e-5
    rope: RopeConfig = field(default_factory=RopeConfig)
    # Qwen3: RMSNorm over each query and key head (its own weight per projection, shared by the
    # heads) before RoPE. Not written in Qwen3 configs: the model family implies it.
    qk_norm: bool = False
    # Each position attends to itself and the previous sliding_window - 1 (0: unlimited).
    sliding_window: int = 0

    def __post_init__(self) -> None:
        if self.head_dim == 0:
            object.__setattr__(self, "head_dim", self.dim // self.n_heads)
        if self.n_heads % self.n_kv_heads:
            raise ConfigError(f"n_heads ({self.n_heads}) is not a multiple of n_kv_heads ({self.n_kv_heads})")

    @classmethod
    def from_hf(cls, cfg: dict[str, Any], qk_norm: bool = False) -> "LlamaConfig":
        try:
            n_heads = int(cfg["num_attention_heads"])
            return cls(
                dim=int(cfg["hidden_size"]), n_layers=int(cfg["num_hidden_layers"]), n_heads=n_heads,
                n_kv_heads=int(cfg.get("num_key_value_heads") or n_heads),
                ffn_dim=int(cfg["intermediate_size"]), max_positions=int(cfg["max_position_embeddings"]),
                head_dim=int(cfg.get("head_dim") or 0), norm_eps=float(cfg.get("rms_norm_eps", 1e-5)),
                rope=RopeConfig.from_hf(cfg), qk_norm=qk_norm,
            )
        except KeyError as e:
            raise ConfigError(f"config has no {e.args[0]!r}") from None
