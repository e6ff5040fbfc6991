"""Mimi hyper-parameters, read from a Hugging Face `MimiConfig` dict (config.json / CsmConfig.codec_config).

A strict dataclass instead of the HF config object: the engine must not import transformers at run
time, and a typo'd or missing field should fail at load with a readable message, not deep inside a
forward pass.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Mapping


@dataclass(frozen=True)
class MimiConfig:
    sampling_rate: int = 24_000
    audio_channels: int = 1
    hidden_size: int = 512
    num_filters: int = 64
    num_residual_layers: int = 1
    upsampling_ratios: tuple[int, ...] = (8, 6, 5, 4)
    kernel_size: int = 7
    last_kernel_size: int = 3
    residual_kernel_size: int = 3
    dilation_growth_rate: int = 2
    use_causal_conv: bool = True
    pad_mode: str = "constant"
    compress: int = 2
    trim_right_ratio: float = 1.0
    codebook_size: int = 2048
    codebook_dim: int = 256
    num_quantizers: int = 32
    use_conv_shortcut: bool = False
    vector_quantization_hidden_dimension: int = 256
    num_semantic_quantizers: int = 1
    upsample_groups: int = 512
    num_hidden_layers: int = 8
    intermediate_size: int = 2048
    num_attention_heads: int = 8
    num_key_value_heads: int = 8
    head_dim: int = 64
    hidden_act: str = "gelu"
    norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    sliding_window: int = 250
    attention_bias: bool = False
    explicit_frame_rate: float | None = field(default=None)

    # --- derived sizes (same formulas as transformers' MimiConfig, so frame counts agree) ---
    @property
    def hop_length(self) -> int:
        """Audio samples per SEANet latent step (960 for kyutai/mimi: 25 Hz)."""
        return math.prod(self.upsampling_ratios)

    @property
    def encodec_frame_rate(self) -> int:
        return math.ceil(self.sampling_rate / self.hop_length)

    @property
    def frame_rate(self) -> float:
        if self.explicit_frame_rate is not None:
            return float(self.explicit_frame_rate)
        # transformers hard-codes the extra /2 of the downsampling conv in `frame_size`.
        return self.sampling_rate / (self.hop_length * 2)

    @property
    def latent_stride(self) -> int:
        """Downsample factor between the SEANet rate (25 Hz) and the code frame rate (12.5 Hz)."""
        return int(self.encodec_frame_rate / self.frame_rate)

    @property
    def resamples(self) -> bool:
        return self.frame_rate != self.encodec_frame_rate

    @property
    def frame_samples(self) -> int:
        """Audio samples produced per code frame (1920 for kyutai/mimi)."""
        return self.hop_length * (self.latent_stride if self.resamples else 1)

    @classmethod
    def from_hf(cls, config: Mapping[str, Any]) -> "MimiConfig":
        """Build from a HF MimiConfig dict; unknown keys (dtype, architectures, ...) are ignored."""
        if not isinstance(config, Mapping):
            # a transformers config object also works (CsmConfig.codec_config may be one)
            to_dict = getattr(config, "to_dict", None)
            if to_dict is None:
                raise TypeError(f"Mimi config must be a dict, got {type(config).__name__}")
            config = to_dict()
        if config.get("model_type", "mimi") != "mimi":
            raise ValueError(f"not a Mimi config: model_type is {config.get('model_type')!r}")
        names = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {k: v for k, v in config.items() if k in names and v is not None}
        if "upsampling_ratios" in kwargs:
            kwargs["upsampling_ratios"] = tuple(int(r) for r in kwargs["upsampling_ratios"])
        if isinstance(config.get("residual_kernel_size"), (list, tuple)):
            raise ValueError("Mimi configs with several residual kernel sizes are not supported")
        # newer configs carry rope_theta inside rope_parameters; older ones at top level
        rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
        if rope.get("rope_type", "default") not in ("default", None):
            raise ValueError(f"Mimi RoPE type {rope.get('rope_type')!r} is not supported")
        if "rope_theta" in rope:
            kwargs["rope_theta"] = float(rope["rope_theta"])
        hidden = int(kwargs.get("hidden_size", cls.hidden_size))
        heads = int(kwargs.get("num_attention_heads", cls.num_attention_heads))
        kwargs.setdefault("head_dim", hidden // heads)
        kwargs.setdefault("codebook_dim", hidden)
        # `frame_rate` in kyutai's config.json, `_frame_rate` in what transformers saves
        rate = config.get("frame_rate", config.get("_frame_rate"))
        if rate is not None:
            kwargs["explicit_frame_rate"] = float(rate)
        cfg = cls(**kwargs)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        if self.num_semantic_quantizers >= self.num_quantizers:
            raise ValueError("Mimi config: num_semantic_quantizers must be below num_quantizers")
        if self.pad_mode not in ("constant", "replicate"):
            raise ValueError(f"Mimi config: pad_mode {self.pad_mode!r} is not supported")
        if self.hidden_act != "gelu":
            raise ValueError(f"Mimi config: activation {self.hidden_act!r} is not supported")
        if self.resamples and self.hidden_size % self.upsample_groups:
            raise ValueError("Mimi config: hidden_size must be divisible by upsample_groups")
        if self.num_attention_heads % self.num_key_value_heads:
            raise ValueError("Mimi config: attention heads must be a multiple of key/value heads")
