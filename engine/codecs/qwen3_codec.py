"""Qwen3-TTS-Tokenizer-12Hz's decoder: 16-codebook codes at 12.5 Hz -> 24 kHz audio.

codes -> split RVQ (codebook 0 semantic, 1..15 acoustic; each level a table, summed, then a 1x1
projection per group) -> causal conv -> an 8-layer transformer (sliding window 72, layer scale:
our engine/lm decoder, the scales folded into its output projections) -> 2 x (transposed conv x2 +
ConvNeXt) -> causal conv -> 4 x (SnakeBeta, transposed conv x8/5/4/3, 3 dilated residual units) ->
SnakeBeta -> causal conv -> clamp to [-1, 1]. Every conv is causal (left padding; transposed convs
drop their right overhang), so audio at a frame depends only on that frame and earlier ones.

Decoding the first k codebooks sums only those levels' embeddings (the "hear codebooks 1..k" view).
Weights are the checkpoint's `decoder.*` tensors (speech_tokenizer/model.safetensors), used as is.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from engine.hub.checkpoint import open_checkpoint, read_json
from engine.lm.config import LlamaConfig
from engine.lm.llama import Transformer, hf_decoder_state_dict

PREFIX = "decoder."


@dataclass(frozen=True)
class Qwen3CodecSpec:
    n_codebooks: int
    codebook_size: int
    upsample_rates: tuple[int, ...]
    upsampling_ratios: tuple[int, ...]
    sample_rate: int
    transformer: LlamaConfig

    @property
    def samples_per_frame(self) -> int:
        return int(np.prod(self.upsample_rates + self.upsampling_ratios))

    @classmethod
    def from_hf(cls, cfg: dict[str, Any]) -> "Qwen3CodecSpec":
        d = cfg["decoder_config"]
        tcfg = dict(d)
        tcfg.setdefault("max_position_embeddings", 8000)
        transformer = LlamaConfig.from_hf(tcfg)
        transformer = dataclasses.replace(transformer, sliding_window=int(d.get("sliding_window") or 0))
        return cls(int(d.get("num_quantizers", 16)), int(d.get("codebook_size", 2048)),
                   tuple(d.get("upsample_rates", (8, 5, 4, 3))), tuple(d.get("upsampling_ratios", (2, 2))),
                   int(cfg.get("output_sample_rate", 24000)), transformer)


def _causal_conv(x: torch.Tensor, w: dict[str, torch.Tensor], name: str, dilation: int = 1,
                 groups: int = 1) -> torch.Tensor:
    weight = w[name + ".conv.weight"]
    pad = (weight.shape[-1] - 1) * dilation
    return F.conv1d(F.pad(x, (pad, 0)), weight, w[name + ".conv.bias"], dilation=dilation, groups=groups)


def _trans_conv(x: torch.Tensor, w: dict[str, torch.Tensor], name: str, stride: int) -> torch.Tensor:
    weight = w[name + ".conv.weight"]
    y = F.conv_transpose1d(x, weight, w[name + ".conv.bias"], stride=stride)
    trim = weight.shape[-1] - stride
    return y[..., : y.shape[-1] - trim] if trim > 0 else y


def _snake(x: torch.Tensor, w: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    alpha = torch.exp(w[name + ".alpha"])[None, :, None]
    inv_beta = 1.0 / (torch.exp(w[name + ".beta"])[None, :, None] + 1e-9)
    return x + inv_beta * torch.sin(x * alpha).pow(2)


class Qwen3Codec:
    """Decoding (the encoder for references is not built yet)."""

    def __init__(self, spec: Qwen3CodecSpec, weights: dict[str, torch.Tensor]) -> None:
        self.spec = spec
        self.sample_rate = spec.sample_rate
        self.frame_rate = spec.sample_rate / spec.samples_per_frame
        self.codebook_size = spec.codebook_size
        w = self.w = weights
        q = "quantizer."
        self.tables = [self._table(f"{q}rvq_first.vq.layers.0._codebook")]
        self.tables += [self._table(f"{q}rvq_rest.vq.layers.{i}._codebook") for i in range(spec.n_codebooks - 1)]
        self.proj_first = w[q + "rvq_first.output_proj.weight"][:, :, 0]  # [codebook_dim, dim]
        self.proj_rest = w[q + "rvq_rest.output_proj.weight"][:, :, 0]
        tw = {k[len("pre_transformer."):]: t for k, t in w.items() if k.startswith("pre_transformer.")}
        for i in range(spec.transformer.n_layers):  # layer scale folded into the output projections
            p = f"layers.{i}."
            tw[p + "self_attn.o_proj.weight"] = tw[p + "self_attn_layer_scale.scale"][:, None] * tw[p + "self_attn.o_proj.weight"]
            tw[p + "mlp.down_proj.weight"] = tw[p + "mlp_layer_scale.scale"][:, None] * tw[p + "mlp.down_proj.weight"]
        dev, dt = self.proj_first.device, self.proj_first.dtype
        with torch.device("meta"):
            self.transformer = Transformer(spec.transformer)
        self.transformer.load_state_dict(hf_decoder_state_dict(tw, ""), strict=True, assign=True)
        self.transformer.to(dev, dt).eval()
        self.in_proj = (tw["input_proj.weight"], tw["input_proj.bias"])
        self.out_proj = (tw["output_proj.weight"], tw["output_proj.bias"])
        self._cache_len = 0

    def _table(self, name: str) -> torch.Tensor:
        return self.w[name + ".embedding_sum"] / self.w[name + ".cluster_usage"].clamp(min=1e-5)[:, None]

    def latents(self, codes: torch.Tensor, n_codebooks: int | None = None) -> torch.Tensor:
        """codes [B, K, T] -> the quantizer's output [B, codebook_dim, T] from the first n levels."""
        n = n_codebooks or self.spec.n_codebooks
        first = F.embedding(codes[:, 0], self.tables[0]) @ self.proj_first.t()  # [B, T, C]
        if n > 1:
            rest = sum(F.embedding(codes[:, i], self.tables[i]) for i in range(1, n))
            first = first + rest @ self.proj_rest.t()
        return first.transpose(1, 2)

    def decode(self, codes: torch.Tensor, n_codebooks: int | None = None) -> torch.Tensor:
        """codes [B, K, T] int64 -> audio [B, 1, T * samples_per_frame] float in [-1, 1]."""
        w, spec = self.w, self.spec
        t = codes.shape[-1]
        x = _causal_conv(self.latents(codes, n_codebooks), w, "pre_conv")  # [B, latent, T]
        h = F.linear(x.transpose(1, 2), *self.in_proj)
        if t > self._cache_len:
            self.transformer.setup_caches(codes.shape[0], max(t, 64))
            self._cache_len = max(t, 64)
        h = self.transformer(h, 0) if t > 1 else self.transformer.step(h[:, 0], 0).unsqueeze(1)
        x = F.linear(h, *self.out_proj).transpose(1, 2)  # [B, latent, T]
        for i, factor in enumerate(spec.upsampling_ratios):
            x = _trans_conv(x, w, f"upsample.{i}.0", factor)
            x = self._convnext(x, f"upsample.{i}.1")
        x = _causal_conv(x, w, "decoder.0")
        for i, rate in enumerate(spec.upsample_rates):
            p = f"decoder.{i + 1}.block."
            x = _trans_conv(_snake(x, w, p + "0"), w, p + "1", rate)
            for j, dilation in enumerate((1, 3, 9)):
                r = f"{p}{j + 2}."
                y = _causal_conv(_snake(x, w, r + "act1"), w, r + "conv1", dilation)
                x = x + _causal_conv(_snake(y, w, r + "act2"), w, r + "conv2")
        n = len(spec.upsample_rates)
        x = _causal_conv(_snake(x, w, f"decoder.{n + 1}"), w, f"decoder.{n + 2}")
        return x.clamp(-1.0, 1.0)

    def _convnext(self, x: torch.Tensor, p: str) -> torch.Tensor:
        w = self.w
        y = _causal_conv(x, w, p + ".dwconv", groups=x.shape[1]).transpose(1, 2)
        y = F.layer_norm(y, (y.shape[-1],), w[p + ".norm.weight"], w[p + ".norm.bias"], eps=1e-6)
        y = F.linear(F.gelu(F.linear(y, w[p + ".pwconv1.weight"], w[p + ".pwconv1.bias"])),
                     w[p + ".pwconv2.weight"], w[p + ".pwconv2.bias"])
        return x + (w[p + ".gamma"] * y).transpose(1, 2)

    def decode_np(self, codes: np.ndarray, n_codebooks: int | None = None) -> np.ndarray:
        """[K, T] codes -> float32 mono audio (a fresh array)."""
        c = torch.as_tensor(np.asarray(codes, dtype=np.int64), device=self.proj_first.device).unsqueeze(0)
        with torch.inference_mode():
            return self.decode(c, n_codebooks).reshape(-1).float().cpu().numpy().copy()


def load_qwen3_codec(folder: Path, device: torch.device | str = "cpu",
                     dtype: torch.dtype = torch.float32) -> Qwen3Codec:
    """From a speech_tokenizer/ folder (config.json + model.safetensors)."""
    folder = Path(folder)
    spec = Qwen3CodecSpec.from_hf(read_json(folder / "config.json"))
    ckpt = open_checkpoint(folder)
    w = {k[len(PREFIX):]: ckpt.tensor(k).to(device=device, dtype=dtype) for k in ckpt.keys() if k.startswith(PREFIX)}
    return Qwen3Codec(spec, w)
