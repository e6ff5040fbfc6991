"""Qwen3-TTS (12 Hz) model description, read from the checkpoint's config.json.

One repository holds the talker (a Qwen3 decoder over codec frames, text mixed in through a
projected text embedding), the code predictor (a small Qwen3 decoder filling codebooks 1..15 of
each frame), for Base models a speaker encoder, and in `speech_tokenizer/` the 16-codebook codec.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.lm.config import ConfigError, LlamaConfig

MODEL_TYPES = ("base", "custom_voice", "voice_design")


@dataclass(frozen=True)
class Qwen3Spec:
    talker: LlamaConfig
    predictor: LlamaConfig
    model_type: str  # base (voice cloning), custom_voice (preset speakers), voice_design
    n_codebooks: int  # 16
    codec_vocab: int  # talker vocabulary: 2048 codes, then control/language/speaker ids
    code_vocab: int  # code predictor vocabulary (2048)
    text_vocab: int
    text_dim: int
    act: str
    # codec control ids (talker vocabulary)
    codec_pad: int
    codec_bos: int
    codec_eos: int
    think: int
    nothink: int
    think_bos: int
    think_eos: int
    # text ids (Qwen2 vocabulary)
    tts_pad: int
    tts_bos: int
    tts_eos: int
    languages: dict[str, int] = field(default_factory=dict)  # name (lower case) -> codec id
    speakers: dict[str, int] = field(default_factory=dict)  # preset speaker -> codec id
    speaker_dialects: dict[str, str | bool] = field(default_factory=dict)
    speaker_dim: int = 0  # speaker encoder output (0: no speaker encoder)

    @property
    def suppressed(self) -> list[int]:
        """Codec ids never sampled for codebook 0: the top 1024 (control ids) but end-of-speech."""
        return [i for i in range(self.codec_vocab - 1024, self.codec_vocab) if i != self.codec_eos]

    @classmethod
    def from_hf(cls, cfg: dict[str, Any]) -> "Qwen3Spec":
        try:
            t = cfg["talker_config"]
            p = t["code_predictor_config"]
            model_type = str(cfg.get("tts_model_type", "base"))
            if model_type not in MODEL_TYPES:
                raise ConfigError(f"unknown tts_model_type {model_type!r} (known: {', '.join(MODEL_TYPES)})")
            act = str(t.get("hidden_act", "silu"))
            if act != "silu" or str(p.get("hidden_act", "silu")) != "silu":
                raise ConfigError(f"unsupported activation {act!r} (Qwen3-TTS uses silu)")
            for c, name in ((t, "talker"), (p, "code predictor")):
                if c.get("attention_bias"):
                    raise ConfigError(f"the {name} has attention biases, which Qwen3-TTS models do not")
                if c.get("use_sliding_window"):
                    raise ConfigError(f"the {name} uses sliding-window attention, which is not supported")
            n = int(t.get("num_code_groups", 16))
            if int(p.get("num_code_groups", n)) != n:
                raise ConfigError("talker and code predictor disagree on the number of codebooks")
            spk = cfg.get("speaker_encoder_config") or {}
            return cls(
                talker=LlamaConfig.from_hf(t, qk_norm=True), predictor=LlamaConfig.from_hf(p, qk_norm=True),
                model_type=model_type, n_codebooks=n, codec_vocab=int(t["vocab_size"]),
                code_vocab=int(p["vocab_size"]), text_vocab=int(t["text_vocab_size"]),
                text_dim=int(t["text_hidden_size"]), act=act,
                codec_pad=int(t["codec_pad_id"]), codec_bos=int(t["codec_bos_id"]),
                codec_eos=int(t["codec_eos_token_id"]), think=int(t["codec_think_id"]),
                nothink=int(t["codec_nothink_id"]), think_bos=int(t["codec_think_bos_id"]),
                think_eos=int(t["codec_think_eos_id"]),
                tts_pad=int(cfg["tts_pad_token_id"]), tts_bos=int(cfg["tts_bos_token_id"]),
                tts_eos=int(cfg["tts_eos_token_id"]),
                languages={k.lower(): int(v) for k, v in (t.get("codec_language_id") or {}).items()},
                speakers={k.lower(): _one_id(v) for k, v in (t.get("spk_id") or {}).items()},
                speaker_dialects={k.lower(): v for k, v in (t.get("spk_is_dialect") or {}).items()},
                speaker_dim=int(spk.get("enc_dim", 1024)) if model_type == "base" else 0,
            )
        except KeyError as e:
            raise ConfigError(f"config has no {e.args[0]!r}") from None

    def language_names(self) -> list[str]:
        """What a take may ask for: "auto" then each language (dialects go with their speakers)."""
        return ["auto"] + [k for k in self.languages if "dialect" not in k]


def _one_id(v: Any) -> int:
    """A speaker id is written as an int or as a one-element list."""
    if isinstance(v, list):
        if len(v) != 1:
            raise ConfigError(f"a preset speaker has {len(v)} codec ids; one is expected")
        v = v[0]
    return int(v)
