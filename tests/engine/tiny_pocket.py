"""Random-weight Pocket TTS models in the Hub repos' on-disk layout, built with the pocket-tts package.

`build_pocket(folder, variant)` writes `languages/<variant>/model.safetensors` (the package's
`TTSModel.state_dict()` layout, as the Hub files are) and a `tokenizer.json` with exactly the config's
`n_bins` entries. `variant` is a config of the package (real dimensions, e.g. "english_2m_2026-10") or
"tiny" (TINY_CONFIG below, written as the folder's config.yaml: a model that runs in milliseconds).
`cloning=False` writes the weights as the public repo ships them (no usable speaker projection) plus a
preset voice in `embeddings/`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

TINY_CONFIG = """\
default_temperature: 0.3
default_eos_threshold: -4.0
flow_lm:
  insert_bos_before_voice: true
  dtype: float32
  flow: {depth: 2, dim: 32}
  transformer: {d_model: 64, hidden_scale: 2, max_period: 10000, num_heads: 4, num_layers: 2}
  lookup_table: {dim: 64, n_bins: 160, tokenizer: tokenizers, tokenizer_path: tokenizer.json}
mimi:
  dtype: float32
  sample_rate: 24000
  inner_dim: 16
  outer_dim: 64
  channels: 1
  frame_rate: 12.5
  seanet: {dimension: 64, channels: 1, n_filters: 8, n_residual_layers: 1, ratios: [6, 5, 4], kernel_size: 7,
           residual_kernel_size: 3, last_kernel_size: 3, dilation_base: 2, pad_mode: constant, compress: 2}
  transformer: {d_model: 64, num_heads: 4, num_layers: 1, layer_scale: 0.01, context: 50, dim_feedforward: 128,
                input_dimension: 64, output_dimensions: [64]}
  quantizer: {dimension: 16, output_dimension: 64}
"""


def write_tokenizer(path: Path, n_bins: int) -> Path:
    """A character-level tokenizer (SentencePiece-style "▁" for spaces) with exactly n_bins entries."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    chars = ["<unk>", "▁"] + [chr(c) for c in range(33, 127)] + list("éèàçâêîôûëïüöäßñœ’")
    vocab = {c: i for i, c in enumerate(chars[:n_bins])}
    for i in range(len(vocab), n_bins):
        vocab[f"<extra_{i}>"] = i
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    assert tok.get_vocab_size() == n_bins
    tok.save(str(path))
    return path


def pocket_config(variant: str):
    import yaml

    from engine.backends.pocket_load import package_config_dir
    from pocket_tts.utils.config import Config

    text = TINY_CONFIG if variant == "tiny" else (package_config_dir() / f"{variant}.yaml").read_text()
    return Config(**yaml.safe_load(text)), text


def build_pocket(folder: Path, variant: str = "tiny", *, seed: int = 0, cloning: bool = True,
                 presets: tuple[str, ...] = ()) -> Path:
    """Write a random model folder in the Hub layout; returns the folder (pass it to LoadModel)."""
    import torch
    from safetensors.torch import save_file

    from engine.backends.pocket_load import build_model

    folder = Path(folder)
    here = folder / "languages" / variant
    here.mkdir(parents=True, exist_ok=True)
    config, text = pocket_config(variant)
    tok = write_tokenizer(here / "tokenizer.json", config.flow_lm.lookup_table.n_bins)
    config.flow_lm.lookup_table.tokenizer_path = str(tok)
    config.flow_lm.lookup_table.tokenizer = "tokenizers"
    if variant == "tiny":
        (here / "config.yaml").write_text(text)
    torch.manual_seed(seed)
    model = build_model(config)
    with torch.no_grad():
        # Random init leaves EOS logits near 0 and latent statistics at (0, 1); give the speaker projection
        # and the latent normalisation real values, as trained weights have.
        model.flow_lm.speaker_proj_weight.normal_(0, 0.2)
        model.flow_lm.emb_std.uniform_(0.5, 1.5)
        model.flow_lm.emb_mean.normal_(0, 0.1)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    if not cloning:
        state["flow_lm.speaker_proj_weight"] = torch.zeros_like(state["flow_lm.speaker_proj_weight"])
    save_file(state, str(here / "model.safetensors"))
    if presets:
        from engine.backends.pocket_voice import encode_voice, save_state

        for i, name in enumerate(presets):
            donor = build_model(config)
            donor.load_state_dict({**state, "flow_lm.speaker_proj_weight": torch.randn_like(
                state["flow_lm.speaker_proj_weight"]) * 0.2})
            save_state(encode_voice(donor, test_clip(seed=10 + i), 24000), here / "embeddings" / f"{name}.safetensors")
    return folder


def test_clip(seconds: float = 1.5, sr: int = 24000, seed: int = 0) -> np.ndarray:
    """A voiced-speech-like clip: a gliding harmonic tone with syllable envelopes, then a short pause."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t) + rng.uniform(-5, 5)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 8))
    env = 0.5 * (1 - np.cos(2 * np.pi * 3.1 * t)) * (t < seconds - 0.3)
    return (0.2 * x * env + 0.002 * rng.standard_normal(len(t))).astype(np.float32)


test_clip.__test__ = False  # a helper, not a test, for pytest
