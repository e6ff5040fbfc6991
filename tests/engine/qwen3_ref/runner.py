"""Runs inside the reference environment (tests/engine/qwen3_ref/env.py), never imported by Mynah.

    python runner.py lm <model_dir> <cases.json> <out.npz>

Builds the reference Qwen3TTSForConditionalGeneration from <model_dir>/config.json; when the folder
has no model.safetensors yet, gives it seeded random weights (scaled so logits are decisive) and
saves them there in the Hub's layout, for our loader to read. Then, for each case, records what the
reference computes: the talker prompt (captured from its own generate), teacher-forced talker and
code-predictor logits over given frames, and greedy generation.
"""
from __future__ import annotations

import importlib.machinery
import json
import math
import sys
import types
from pathlib import Path

# qwen_tts/__init__ imports its 25 Hz (V1) tokenizer, which imports sox, onnxruntime and
# torchaudio at module level. The 12 Hz models never call them; empty modules stand in (after
# transformers is imported, so its own probe still sees torchaudio as absent).
import transformers  # noqa: E402,F401

for _name in ("sox", "onnxruntime", "torchaudio", "torchaudio.compliance", "torchaudio.compliance.kaldi"):
    _stub = types.ModuleType(_name)
    _stub.__spec__ = importlib.machinery.ModuleSpec(_name, None)
    sys.modules.setdefault(_name, _stub)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

from qwen_tts.core.models.configuration_qwen3_tts import Qwen3TTSConfig  # noqa: E402
from qwen_tts.core.models.modeling_qwen3_tts import Qwen3TTSForConditionalGeneration  # noqa: E402


def randomize(model: torch.nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias") or p.dim() == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif "embedding" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            else:
                fan_in = math.prod(p.shape[1:])
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))


def build(model_dir: Path) -> Qwen3TTSForConditionalGeneration:
    cfg = Qwen3TTSConfig(**json.loads((model_dir / "config.json").read_text()))
    model = Qwen3TTSForConditionalGeneration(cfg).eval()
    weights = model_dir / "model.safetensors"
    if not weights.exists():
        randomize(model, 1234)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(weights),
                  metadata={"format": "pt"})
    model.load_state_dict(load_file(str(weights)), strict=True)
    return model


def lm(model_dir: Path, cases_path: Path, out_path: Path) -> None:
    torch.manual_seed(0)
    model = build(model_dir)
    out: dict[str, np.ndarray] = {}
    captured: dict = {}
    original = model.talker.generate

    def capture(**kw):
        captured.update(embeds=kw["inputs_embeds"], trailing=kw["trailing_text_hidden"], pad=kw["tts_pad_embed"])
        return original(**kw)

    model.talker.generate = capture
    for name, case in json.loads(cases_path.read_text()).items():
        ids = torch.tensor([case["text_ids"]])
        ref_ids = [torch.tensor([case["ref_ids"]])] if case.get("ref_ids") else None
        ref_code = torch.tensor(case["ref_codes"]) if case.get("ref_codes") else None
        prompt = None
        if case.get("speaker_embedding") is not None:
            prompt = {"ref_code": [ref_code] if ref_code is not None else None,
                      "ref_spk_embedding": [torch.tensor(case["speaker_embedding"])],
                      "x_vector_only_mode": [ref_code is None], "icl_mode": [ref_code is not None]}
        with torch.no_grad():
            instruct = [torch.tensor([case["instruct_ids"]])] if case.get("instruct_ids") else None
            codes, _ = model.generate(
                input_ids=[ids], instruct_ids=instruct, ref_ids=ref_ids, voice_clone_prompt=prompt, languages=[case["language"]],
                speakers=[case.get("speaker")], non_streaming_mode=case.get("non_streaming", False),
                do_sample=False, subtalker_dosample=False, max_new_tokens=case["frames"])
            out[f"{name}/greedy"] = codes[0].numpy()
            for k in ("embeds", "trailing", "pad"):
                out[f"{name}/{k}"] = captured[k].float().numpy()
            forced = case.get("forced_codes")
            if forced:
                forced_t = torch.tensor(forced)  # [N, K]
                talker = model.talker
                emb = [talker.get_input_embeddings()(forced_t[:, :1])]
                emb += [talker.code_predictor.get_input_embeddings()[i](forced_t[:, i + 1:i + 2])
                        for i in range(forced_t.shape[1] - 1)]
                frames = torch.cat(emb, dim=1).sum(1)  # [N, D]
                trailing, pad = captured["trailing"][0], captured["pad"][0, 0]
                text = torch.stack([trailing[i] if i < trailing.shape[0] else pad for i in range(len(forced))])
                embeds = torch.cat([captured["embeds"], (frames + text).unsqueeze(0)], dim=1)
                mask = torch.ones(embeds.shape[:2], dtype=torch.long)
                res = talker(inputs_embeds=embeds, attention_mask=mask, use_cache=False)
                out[f"{name}/talker_logits"] = res.logits[0].float().numpy()
                # every position's hidden state (the output above keeps only the last)
                h = talker.model(inputs_embeds=embeds, attention_mask=mask, use_cache=False).last_hidden_state[0]
                s = captured["embeds"].shape[1]
                out[f"{name}/hidden"] = h.float().numpy()
                cp_logits, _ = talker.forward_sub_talker_finetune(forced_t, h[s - 1: s - 1 + len(forced)])
                out[f"{name}/predictor_logits"] = cp_logits.float().numpy()
    np.savez(out_path, **out)


def speaker(model_dir: Path, audio_path: Path, out_path: Path) -> None:
    """The reference's log-mel and speaker embedding of a 24 kHz clip (.npy float32)."""
    from qwen_tts.core.models.modeling_qwen3_tts import mel_spectrogram

    model = build(model_dir)
    audio = np.load(audio_path).astype(np.float32)
    mel = mel_spectrogram(torch.from_numpy(audio).unsqueeze(0), n_fft=1024, num_mels=128, sampling_rate=24000,
                          hop_size=256, win_size=1024, fmin=0, fmax=12000).transpose(1, 2)
    emb = model.extract_speaker_embedding(audio, 24000)
    np.savez(out_path, mel=mel[0].numpy(), embedding=emb.float().numpy())


def build_codec(folder: Path):
    """The reference's Qwen3TTSTokenizerV2Model from folder/config.json; random weights written to
    folder/model.safetensors the first time (and config.json rewritten as save_pretrained would)."""
    from qwen_tts.core.tokenizer_12hz.configuration_qwen3_tts_tokenizer_v2 import Qwen3TTSTokenizerV2Config
    from qwen_tts.core.tokenizer_12hz.modeling_qwen3_tts_tokenizer_v2 import Qwen3TTSTokenizerV2Model

    cfg = Qwen3TTSTokenizerV2Config(**json.loads((folder / "config.json").read_text()))
    model = Qwen3TTSTokenizerV2Model(cfg).eval()
    weights = folder / "model.safetensors"
    if not weights.exists():
        randomize(model, 99)
        with torch.no_grad():  # codebook usage counts are positive in a trained codec
            for name, p in model.named_parameters():
                if name.endswith("cluster_usage"):
                    p.copy_(p.abs() + 0.5)
                elif name.endswith(("alpha", "beta")):
                    p.mul_(0.3)
                elif name.endswith(("layer_scale.scale", "gamma")):
                    p.copy_(p.abs() * 0.5 + 0.1)
            g = torch.Generator().manual_seed(7)
            for name, b in model.named_buffers():  # Mimi's encoder codebooks are buffers
                if name.endswith("embed_sum"):
                    b.copy_(torch.randn(b.shape, generator=g) * 0.3)
            # The last conv scaled so the audio sits within [-1, 1] as a trained codec's does (at
            # 1/sqrt(fan_in) it saturates most samples, which would hide differences in the clamp).
            last = model.decoder.decoder[-1].conv
            last.weight.mul_(0.03)
            last.bias.mul_(0.03)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(weights), metadata={"format": "pt"})
    model.load_state_dict(load_file(str(weights)), strict=True)
    # What save_pretrained writes (the Hub's file): every field, the encoder's whole MimiConfig too.
    (folder / "config.json").write_text(json.dumps(model.config.to_dict(), indent=2))
    return model


def codec(folder: Path, codes_path: Path, out_path: Path) -> None:
    """The decoder's audio for the first 1, 4 and 16 codebooks of the given codes ([K, T] .npy),
    through the reference's own modules (random weights written once, see build_codec)."""
    model = build_codec(folder)
    dec = model.decoder
    codes = torch.from_numpy(np.load(codes_path)).unsqueeze(0)  # [1, K, T]
    out = {}
    with torch.no_grad():
        for k in (1, 4, codes.shape[1]):
            hidden = dec.quantizer.decode(codes[:, :k])
            hidden = dec.pre_conv(hidden).transpose(1, 2)
            hidden = dec.pre_transformer(inputs_embeds=hidden).last_hidden_state.permute(0, 2, 1)
            for blocks in dec.upsample:
                for block in blocks:
                    hidden = block(hidden)
            for block in dec.decoder:
                hidden = block(hidden)
            out[f"audio{k}"] = hidden.clamp(-1, 1)[0, 0].numpy()
        out["forward16"] = dec(codes)[0, 0].numpy()
    np.savez(out_path, **out)


def encode(folder: Path, audio_path: Path, out_path: Path) -> None:
    """The reference's codes [T, 16] for a 24 kHz clip (.npy), through Qwen3TTSTokenizerV2Model.encode."""
    model = build_codec(folder)
    audio = torch.from_numpy(np.load(audio_path).astype(np.float32)).unsqueeze(0)
    with torch.no_grad():
        codes = model.encode(audio, padding_mask=torch.ones_like(audio, dtype=torch.long), return_dict=True)
    np.savez(out_path, codes=codes.audio_codes[0].numpy())


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    {"lm": lm, "speaker": speaker, "codec": codec, "encode": encode}[cmd](*map(Path, args))
