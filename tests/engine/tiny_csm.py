"""Tiny random CSM checkpoints in the real on-disk layouts, for tests of every area.

`build_tiny_csm(folder)` writes what transformers' `CsmForConditionalGeneration.save_pretrained`
writes (config.json with a tiny Mimi `codec_config`, model.safetensors, generation_config.json) plus a
byte-level BPE tokenizer.json with the Llama-3 special tokens. `layout="sesame"` renames the weights
into the public sesame/csm-1b layout (transformers-0000N-of-0000M.safetensors shards and
transformers.safetensors.index.json). Needs transformers (a dev dependency) at build time only.
"""
from __future__ import annotations

import json
from pathlib import Path

TINY_TEXT = [
    "Hello there, this is a tiny test voice.", "The quick brown fox jumps over the lazy dog.",
    "Mynah speaks with your voice.", "One, two, three, four, five, six, seven, eight, nine, ten.",
]
SPECIAL = ["<|begin_of_text|>", "<|end_of_text|>", "<|AUDIO|>", "<|audio_eos|>"]


def tiny_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(TINY_TEXT * 4, trainer=trainer)
    return tok


def tiny_config(text_vocab: int, *, n_codebooks: int = 32, audio_vocab: int = 67, max_positions: int = 2048,
                with_codec: bool = True, **overrides):
    from transformers import CsmConfig, MimiConfig

    rope = {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0, "low_freq_factor": 1.0,
            "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
    depth = dict(num_codebooks=n_codebooks, backbone_hidden_size=64, vocab_size=audio_vocab, hidden_size=32,
                 intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                 max_position_embeddings=n_codebooks + 1, rope_parameters=dict(rope))
    codec = None
    if with_codec:
        codec = MimiConfig(hidden_size=16, num_filters=4, num_residual_layers=1, num_hidden_layers=1,
                           num_attention_heads=2, num_key_value_heads=2, head_dim=8, intermediate_size=32,
                           codebook_dim=16, vector_quantization_hidden_dimension=16, num_quantizers=n_codebooks,
                           num_semantic_quantizers=1, codebook_size=audio_vocab - 3,
                           upsample_groups=16).to_dict()
    kw = dict(num_codebooks=n_codebooks, vocab_size=audio_vocab, text_vocab_size=text_vocab, hidden_size=64,
              intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
              max_position_embeddings=max_positions, codebook_pad_token_id=audio_vocab - 1,
              pad_token_id=2, bos_token_id=0, audio_token_id=2, audio_eos_token_id=3,
              rope_parameters=rope, depth_decoder_config=depth, codec_config=codec)
    kw.update(overrides)
    return CsmConfig(**kw)


def build_tiny_csm(folder: Path, *, seed: int = 0, layout: str = "hf", with_codec: bool = True,
                   **config_overrides) -> Path:
    """Write a tiny random CSM model folder; returns it. layout: "hf" or "sesame"."""
    import torch
    from transformers import CsmForConditionalGeneration

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tok = tiny_tokenizer()
    tok.save(str(folder / "tokenizer.json"))
    torch.manual_seed(seed)
    cfg = tiny_config(tok.get_vocab_size(), with_codec=with_codec, **config_overrides)
    model = CsmForConditionalGeneration(cfg).eval()
    if layout == "sesame":
        # Two shards, like the public repository (transformers-00001-of-00002.safetensors, ...).
        total = sum(t.numel() * t.element_size() for t in model.state_dict().values())
        model.save_pretrained(folder, max_shard_size=total // 2 + 1)
        _rename_to_sesame_layout(folder)
    else:
        model.save_pretrained(folder)
    return folder


def _rename_to_sesame_layout(folder: Path) -> None:
    index_path = folder / "model.safetensors.index.json"
    index = json.loads(index_path.read_text())
    shards = sorted(set(index["weight_map"].values()))
    names = {old: f"transformers-{i + 1:05d}-of-{len(shards):05d}.safetensors" for i, old in enumerate(shards)}
    for old, new in names.items():
        (folder / old).rename(folder / new)
    index["weight_map"] = {k: names[v] for k, v in index["weight_map"].items()}
    (folder / "transformers.safetensors.index.json").write_text(json.dumps(index, indent=2))
    index_path.unlink()


def load_reference(folder: Path):
    """transformers' own model from the same folder (the reference for parity tests)."""
    from transformers import CsmForConditionalGeneration

    return CsmForConditionalGeneration.from_pretrained(folder, dtype="float32").eval()


_CACHE: dict[tuple, Path] = {}


def cached_tiny_csm(layout: str = "hf", seed: int = 0, with_codec: bool = True) -> Path:
    """Build once per test process (building takes seconds); callers must not modify the folder."""
    import atexit
    import shutil
    import tempfile

    key = (layout, seed, with_codec)
    if key not in _CACHE:
        root = Path(tempfile.mkdtemp(prefix="mynah-tiny-csm-"))
        atexit.register(shutil.rmtree, root, True)
        _CACHE[key] = build_tiny_csm(root / layout, seed=seed, layout=layout, with_codec=with_codec)
    return _CACHE[key]


def single_thread():
    """Generator for an autouse fixture: tiny models run fastest (and steadiest on a shared CPU)
    with one intra-op thread; restores the previous count."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
