"""CSM-1B configuration, read from the `config.json` that transformers (and sesame/csm-1b) write."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.lm.config import ConfigError, LlamaConfig

# transformers' CsmConfig / CsmDepthDecoderConfig defaults (= the sesame/csm-1b values). A config
# file may omit any of these, exactly as transformers would fill them in.
BACKBONE_DEFAULTS: dict[str, Any] = {
    "hidden_size": 2048, "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8,
    "intermediate_size": 8192, "max_position_embeddings": 2048, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
}
DEPTH_DEFAULTS: dict[str, Any] = {
    "hidden_size": 1024, "num_hidden_layers": 4, "num_attention_heads": 8, "num_key_value_heads": 2,
    "intermediate_size": 8192, "max_position_embeddings": 33, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
    "backbone_hidden_size": 2048,
}


@dataclass(frozen=True)
class CsmSpec:
    backbone: LlamaConfig
    depth: LlamaConfig
    n_codebooks: int = 32
    audio_vocab: int = 2051  # per codebook: 2048 Mimi codes + special ids
    text_vocab: int = 128256
    codebook_eos: int = 0  # an all-`codebook_eos` frame ends the utterance
    codebook_pad: int = 2050
    tie_embeddings: bool = True
    codec_config: dict[str, Any] = field(default_factory=dict)

    @property
    def max_positions(self) -> int:
        return self.backbone.max_positions

    @classmethod
    def from_hf(cls, cfg: dict[str, Any]) -> "CsmSpec":
        if cfg.get("model_type", "csm") != "csm":
            raise ConfigError(f"config.json describes a {cfg.get('model_type')!r} model, not CSM ('csm')")
        depth_raw = cfg.get("depth_decoder_config") or {}
        backbone = LlamaConfig.from_hf({**BACKBONE_DEFAULTS, **cfg})
        depth = LlamaConfig.from_hf({**DEPTH_DEFAULTS, **depth_raw})
        n_codebooks = int(cfg.get("num_codebooks", 32))
        audio_vocab = int(cfg.get("vocab_size", cfg.get("audio_vocab_size", 2051)))
        if int(depth_raw.get("num_codebooks", n_codebooks)) != n_codebooks:
            raise ConfigError("config.json: depth_decoder_config.num_codebooks differs from num_codebooks")
        if int(depth_raw.get("vocab_size", audio_vocab)) != audio_vocab:
            raise ConfigError("config.json: depth_decoder_config.vocab_size differs from vocab_size")
        if int(depth_raw.get("backbone_hidden_size", backbone.dim)) != backbone.dim:
            raise ConfigError("config.json: depth_decoder_config.backbone_hidden_size differs from hidden_size")
        if depth.max_positions < n_codebooks:
            raise ConfigError(f"config.json: the depth decoder has {depth.max_positions} positions, "
                              f"fewer than {n_codebooks} codebooks")
        eos = cfg.get("codebook_eos_token_id", 0)
        return cls(
            backbone=backbone, depth=depth, n_codebooks=n_codebooks, audio_vocab=audio_vocab,
            text_vocab=int(cfg.get("text_vocab_size", 128256)),
            codebook_eos=int(eos[0] if isinstance(eos, list) else eos),
            codebook_pad=int(cfg.get("codebook_pad_token_id") or audio_vocab - 1),
            tie_embeddings=bool(cfg.get("tie_codebooks_embeddings", True)),
            codec_config=dict(cfg.get("codec_config") or {}),
        )
