"""Tiny Qwen3-TTS checkpoints in the Hub's layout, from the real configs with the sizes shrunk.

Kept from the real Qwen/Qwen3-TTS-12Hz-* config.json: the 16 codebooks, the codec vocabulary (3072:
2048 codes, then control ids at their real positions, so the suppressed top-1024 range is the real
one), the code predictor's 2048-entry vocabulary, every control / language / text special id,
M-RoPE (interleaved sections) on the talker and plain RoPE on the code predictor with their real
theta, QK-norm, GQA, eps. Shrunk: widths, depths, head counts, the text vocabulary's width.
`SHAPES["0.6b"]` has equal talker and predictor widths (no projection, as the 0.6B models);
`SHAPES["1.7b"]` a wider talker (the 1.7B models' small_to_mtp_projection).
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np

from tests.engine.qwen3_ref import env

LANGUAGES = {"chinese": 2055, "english": 2050, "german": 2053, "italian": 2070, "portuguese": 2071,
             "spanish": 2054, "japanese": 2058, "korean": 2064, "french": 2061, "russian": 2069,
             "beijing_dialect": 2074, "sichuan_dialect": 2062}
SHAPES = {"0.6b": dict(talker=64, predictor=64), "1.7b": dict(talker=96, predictor=64)}


def config(shape: str = "0.6b", model_type: str = "base") -> dict:
    d, dd = SHAPES[shape]["talker"], SHAPES[shape]["predictor"]
    predictor = {
        "hidden_size": dd, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "head_dim": 16, "intermediate_size": 96, "max_position_embeddings": 65536, "rope_theta": 1000000,
        "rope_scaling": None, "rms_norm_eps": 1e-06, "hidden_act": "silu", "attention_bias": False,
        "vocab_size": 2048, "num_code_groups": 16, "layer_types": ["full_attention"] * 2,
        "use_sliding_window": False,
    }
    talker = {
        "hidden_size": d, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "head_dim": 16, "intermediate_size": 128, "max_position_embeddings": 32768, "rope_theta": 1000000,
        "rope_scaling": {"interleaved": True, "mrope_section": [4, 2, 2], "rope_type": "default"},
        "rms_norm_eps": 1e-06, "hidden_act": "silu", "attention_bias": False, "vocab_size": 3072,
        "text_vocab_size": 151936, "text_hidden_size": 16, "num_code_groups": 16,
        "position_id_per_seconds": 13,
        "codec_bos_id": 2149, "codec_eos_token_id": 2150, "codec_pad_id": 2148, "codec_think_id": 2154,
        "codec_nothink_id": 2155, "codec_think_bos_id": 2156, "codec_think_eos_id": 2157,
        "codec_language_id": dict(LANGUAGES), "spk_id": {"ryan": 3061, "eric": 2875},
        "spk_is_dialect": {"ryan": False, "eric": "sichuan_dialect"},
        "code_predictor_config": predictor,
    }
    return {
        "architectures": ["Qwen3TTSForConditionalGeneration"], "model_type": "qwen3_tts",
        "tokenizer_type": "qwen3_tts_tokenizer_12hz", "tts_model_size": "0b6" if shape == "0.6b" else "1b7",
        "tts_model_type": model_type, "im_start_token_id": 151644, "im_end_token_id": 151645,
        "tts_pad_token_id": 151671, "tts_bos_token_id": 151672, "tts_eos_token_id": 151673,
        "talker_config": talker,
        "speaker_encoder_config": {"mel_dim": 128, "enc_dim": d, "enc_channels": [16, 16, 16, 16, 48],
                                   "enc_kernel_sizes": [5, 3, 3, 3, 1], "enc_dilations": [1, 2, 3, 4, 1],
                                   "enc_attention_channels": 8, "enc_res2net_scale": 4,
                                   "enc_se_channels": 8, "sample_rate": 24000},
    }


GENERATION = {"do_sample": True, "repetition_penalty": 1.05, "temperature": 0.9, "top_p": 1.0,
              "top_k": 50, "subtalker_dosample": True, "subtalker_temperature": 0.9,
              "subtalker_top_p": 1.0, "subtalker_top_k": 50, "max_new_tokens": 8192}


def write_model_dir(folder: Path, shape: str = "0.6b", model_type: str = "base") -> Path:
    """config.json + generation_config.json; the reference adds model.safetensors (runner.py)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config(shape, model_type), indent=2))
    (folder / "generation_config.json").write_text(json.dumps(GENERATION, indent=2))
    return folder


def run_reference(model_dir: Path, cases: dict, out: Path, timeout: float = 600) -> dict[str, np.ndarray]:
    """Run the reference on `cases` (see runner.py) in its own environment; returns its arrays."""
    cases_path = out.with_suffix(".cases.json")
    cases_path.write_text(json.dumps(cases))
    return _run("lm", model_dir, cases_path, out, timeout)


def reference_speaker(model_dir: Path, audio_24k: np.ndarray, out: Path, timeout: float = 600) -> dict[str, np.ndarray]:
    """The reference's log-mel and speaker embedding of `audio_24k`."""
    audio_path = out.with_suffix(".audio.npy")
    np.save(audio_path, audio_24k.astype(np.float32))
    return _run("speaker", model_dir, audio_path, out, timeout)


def codec_config() -> dict:
    """Qwen/Qwen3-TTS-Tokenizer-12Hz's config.json shrunk: 16 codebooks of 2048, the 72-frame
    attention window, the x2 x2 then x8 x5 x4 x3 upsampling (1920 samples a frame) kept."""
    return {
        "model_type": "qwen3_tts_tokenizer_12hz", "encoder_valid_num_quantizers": 16,
        "input_sample_rate": 24000, "output_sample_rate": 24000,
        "decode_upsample_rate": 1920, "encode_downsample_rate": 1920,
        "decoder_config": {
            "codebook_size": 2048, "codebook_dim": 32, "hidden_size": 32, "latent_dim": 48,
            "max_position_embeddings": 8000, "rope_theta": 10000, "num_attention_heads": 4,
            "num_key_value_heads": 4, "head_dim": 8, "attention_bias": False, "sliding_window": 72,
            "intermediate_size": 64, "hidden_act": "silu", "layer_scale_initial_scale": 0.01,
            "rms_norm_eps": 1e-5, "num_hidden_layers": 2, "num_quantizers": 16,
            "upsample_rates": [8, 5, 4, 3], "upsampling_ratios": [2, 2], "decoder_dim": 32,
        },
        "encoder_config": {
            "hidden_size": 32, "num_filters": 4, "num_hidden_layers": 1, "num_attention_heads": 4,
            "num_key_value_heads": 4, "head_dim": 8, "intermediate_size": 64, "codebook_size": 2048,
            "codebook_dim": 16, "vector_quantization_hidden_dimension": 16, "num_quantizers": 32, "num_semantic_quantizers": 1,
            "upsampling_ratios": [8, 6, 5, 4], "frame_rate": 12.5, "sampling_rate": 24000,
            "sliding_window": 250, "use_causal_conv": True, "upsample_groups": 32,
        },
    }


def reference_codec(folder: Path, codes: np.ndarray, out: Path, timeout: float = 600) -> dict[str, np.ndarray]:
    """Writes folder/config.json (tiny codec), lets the reference add random weights, decodes."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "config.json").exists():
        (folder / "config.json").write_text(json.dumps(codec_config(), indent=2))
    codes_path = out.with_suffix(".codes.npy")
    np.save(codes_path, codes.astype(np.int64))
    return _run("codec", folder, codes_path, out, timeout)


def reference_encode(folder: Path, audio_24k: np.ndarray, out: Path, timeout: float = 600) -> np.ndarray:
    """The reference's codes [T, 16] for a clip, from the codec in `folder` (see reference_codec)."""
    audio_path = out.with_suffix(".audio.npy")
    np.save(audio_path, audio_24k.astype(np.float32))
    return _run("encode", folder, audio_path, out, timeout)["codes"]


def _run(cmd: str, model_dir: Path, arg: Path, out: Path, timeout: float) -> dict[str, np.ndarray]:
    py = env.ensure()
    runner = Path(__file__).with_name("runner.py")
    proc = subprocess.run([str(py), str(runner), cmd, str(model_dir), str(arg), str(out)],
                          capture_output=True, text=True, timeout=timeout,
                          env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    if proc.returncode != 0:
        raise RuntimeError(f"the reference failed:\n{proc.stderr[-4000:]}")
    with np.load(out) as z:
        return {k: z[k] for k in z.files}


def write_random_weights(folder: Path, seed: int = 0) -> Path:
    """model.safetensors with the LM's keys only (tests that need no reference), seeded."""
    import torch
    from safetensors.torch import save_file

    from engine.backends.qwen3_config import Qwen3Spec
    from engine.backends.qwen3_model import expected_hf_keys

    spec = Qwen3Spec.from_hf(json.loads((folder / "config.json").read_text()))
    g = torch.Generator().manual_seed(seed)
    tensors = {}
    for key, shape in sorted(expected_hf_keys(spec).items()):
        if key.endswith("norm.weight"):
            t = 1.0 + 0.1 * torch.randn(shape, generator=g)
        elif len(shape) == 1:
            t = 0.1 * torch.randn(shape, generator=g)
        elif "embedding" in key:
            t = 0.5 * torch.randn(shape, generator=g)
        else:
            t = torch.randn(shape, generator=g) / shape[-1] ** 0.5
        tensors[key] = t
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    return folder


TOKENIZER_TEXT = ["assistant", "user", "\n", "Hello there, this is a tiny test voice.",
                  "The quick brown fox jumps over the lazy dog.", "Mynah speaks with your voice."]


def write_tokenizer(folder: Path) -> None:
    """A small Qwen2-style byte-level BPE (vocab.json + merges.txt + tokenizer_config.json with the
    real chat-token ids), trained with Qwen2's pre-tokenizer so "assistant", "user", "\\n" are one
    token each as in Qwen's."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers

    from engine.backends.qwen3_text import QWEN2_SPLIT

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated"),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    trainer = trainers.BpeTrainer(vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(TOKENIZER_TEXT * 20, trainer=trainer)
    tok.model.save(str(folder))
    (folder / "tokenizer_config.json").write_text(json.dumps({"added_tokens_decoder": {
        "151644": {"content": "<|im_start|>", "special": True},
        "151645": {"content": "<|im_end|>", "special": True}}}))


def cached_full_model(shape: str = "0.6b") -> Path:
    """A whole tiny Qwen3-TTS Base folder in the Hub layout (LM + speaker encoder written by the
    reference, speech_tokenizer/, text tokenizer), built once per machine next to the reference
    environment (reused by every later run)."""
    import fcntl

    root = env.cache_root() / f"tiny-qwen3-{shape}-v3"
    if (root / ".complete").exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    with open(root.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / ".complete").exists():
            write_model_dir(root, shape)
            run_reference(root, {}, root / "build.npz")
            codes = np.zeros((16, 2), dtype=np.int64)
            reference_codec(root / "speech_tokenizer", codes, root / "speech_tokenizer" / "build.npz")
            write_tokenizer(root)
            (root / ".complete").write_text("ok\n")
    return root
