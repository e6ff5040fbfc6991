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


def _snake(x: torch.Tensor, w: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    alpha = torch.exp(w[name + ".alpha"])[None, :, None]
    inv_beta = 1.0 / (torch.exp(w[name + ".beta"])[None, :, None] + 1e-9)
    return x + inv_beta * torch.sin(x * alpha).pow(2)


class _StreamState:
    """What chunked decoding carries between chunks: each causal conv's last inputs (its left
    context), each transposed conv's right overhang (added to the next chunk's first outputs), and
    the transformer's next position (its KV cache lives in the codec)."""

    def __init__(self) -> None:
        self.tails: dict[str, torch.Tensor] = {}
        self.overhangs: dict[str, torch.Tensor] = {}
        self.position = 0


class Qwen3Codec:
    """Decoding, whole or streamed; encoding (references) with Mimi's encoder (engine/codecs/mimi)."""

    def __init__(self, spec: Qwen3CodecSpec, weights: dict[str, torch.Tensor], encoder: Any = None) -> None:
        self.spec = spec
        self.encoder = encoder
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
        self._cache_len = self._cache_batch = 0

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
        if codes.shape[-1] > self._cache_len or self._cache_batch != codes.shape[0]:
            self._setup(codes.shape[0], codes.shape[-1])
        return self._run(codes, n_codebooks, None)

    def streaming_decoder(self, max_frames: int = 4096, n_codebooks: int | None = None) -> "Qwen3StreamingDecoder":
        """Decode a take chunk by chunk (equal to decoding it whole); one stream at a time."""
        self._setup(1, max_frames)
        return Qwen3StreamingDecoder(self, max_frames, n_codebooks)

    def _setup(self, batch: int, frames: int) -> None:
        self._cache_len, self._cache_batch = max(frames, 64), batch
        self.transformer.setup_caches(batch, self._cache_len)

    def _conv(self, x: torch.Tensor, name: str, st: _StreamState | None, dilation: int = 1,
              groups: int = 1) -> torch.Tensor:
        """Causal conv: zeros (whole decode, or a stream's start) or the previous chunk's last inputs
        on the left."""
        weight = self.w[name + ".conv.weight"]
        pad = (weight.shape[-1] - 1) * dilation
        if pad and st is None:
            x = F.pad(x, (pad, 0))
        elif pad:
            prev = st.tails.get(name)
            x = torch.cat([x.new_zeros(*x.shape[:2], pad) if prev is None else prev, x], dim=-1)
            st.tails[name] = x[..., x.shape[-1] - pad:]
        return F.conv1d(x, weight, self.w[name + ".conv.bias"], dilation=dilation, groups=groups)

    def _tconv(self, x: torch.Tensor, name: str, stride: int, st: _StreamState | None) -> torch.Tensor:
        """Causal transposed conv: the output past the input's end (kernel - stride samples) is cut,
        and in a stream added to the next chunk's first outputs, where whole decoding sums it."""
        weight = self.w[name + ".conv.weight"]
        y = F.conv_transpose1d(x, weight, None, stride=stride)
        trim = weight.shape[-1] - stride
        if trim:
            if st is not None:
                prev = st.overhangs.get(name)
                if prev is not None:
                    y[..., :trim] += prev
                st.overhangs[name] = y[..., y.shape[-1] - trim:].clone()
            y = y[..., : y.shape[-1] - trim]
        return y + self.w[name + ".conv.bias"][None, :, None]

    def _run(self, codes: torch.Tensor, n_codebooks: int | None, st: _StreamState | None) -> torch.Tensor:
        spec = self.spec
        t = codes.shape[-1]
        x = self._conv(self.latents(codes, n_codebooks), "pre_conv", st)  # [B, latent, T]
        h = F.linear(x.transpose(1, 2), *self.in_proj)
        start = 0 if st is None else st.position
        h = self.transformer(h, start)
        if st is not None:
            st.position += t
        x = F.linear(h, *self.out_proj).transpose(1, 2)  # [B, latent, T]
        for i, factor in enumerate(spec.upsampling_ratios):
            x = self._tconv(x, f"upsample.{i}.0", factor, st)
            x = self._convnext(x, f"upsample.{i}.1", st)
        x = self._conv(x, "decoder.0", st)
        for i, rate in enumerate(spec.upsample_rates):
            p = f"decoder.{i + 1}.block."
            x = self._tconv(_snake(x, self.w, p + "0"), p + "1", rate, st)
            for j, dilation in enumerate((1, 3, 9)):
                r = f"{p}{j + 2}."
                y = self._conv(_snake(x, self.w, r + "act1"), r + "conv1", st, dilation)
                x = x + self._conv(_snake(y, self.w, r + "act2"), r + "conv2", st)
        n = len(spec.upsample_rates)
        x = self._conv(_snake(x, self.w, f"decoder.{n + 1}"), f"decoder.{n + 2}", st)
        return x.clamp(-1.0, 1.0)

    def _convnext(self, x: torch.Tensor, p: str, st: _StreamState | None) -> torch.Tensor:
        w = self.w
        y = self._conv(x, p + ".dwconv", st, groups=x.shape[1]).transpose(1, 2)
        y = F.layer_norm(y, (y.shape[-1],), w[p + ".norm.weight"], w[p + ".norm.bias"], eps=1e-6)
        y = F.linear(F.gelu(F.linear(y, w[p + ".pwconv1.weight"], w[p + ".pwconv1.bias"])),
                     w[p + ".pwconv2.weight"], w[p + ".pwconv2.bias"])
        return x + (w[p + ".gamma"] * y).transpose(1, 2)

    def encode_np(self, audio: np.ndarray, sr: int) -> np.ndarray:
        """Mono float audio at any rate -> int64 codes [16, ceil(seconds * 12.5)] (Mimi's encoder,
        the first `encoder_valid_num_quantizers` levels, as the reference keeps)."""
        if self.encoder is None:
            raise ValueError("this speech tokenizer has no encoder weights: it cannot encode references")
        return self.encoder.encode_np(audio, sr, self.spec.n_codebooks)

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
    encoder = None
    enc_keys = [k for k in ckpt.keys() if k.startswith("encoder.")]
    if enc_keys:
        from engine.codecs.mimi_load import load_mimi

        cfg = read_json(folder / "config.json")
        encoder = load_mimi({k: ckpt.tensor(k) for k in enc_keys}, cfg["encoder_config"], "encoder.",
                            device=device, dtype=dtype, encoder_only=True)
    return Qwen3Codec(spec, w, encoder)


class Qwen3StreamingDecoder:
    """Feeds frames as they come; each call returns exactly those frames' audio (causal codec)."""

    def __init__(self, codec: Qwen3Codec, max_frames: int, n_codebooks: int | None) -> None:
        self.codec, self.max_frames, self.n_codebooks = codec, max_frames, n_codebooks
        self.state = _StreamState()

    def decode_frames(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [1, K, n] -> audio [1, 1, n * samples_per_frame]."""
        if self.state.position + codes.shape[-1] > self.max_frames:
            raise ValueError(f"the stream was opened for {self.max_frames} frames")
        with torch.inference_mode():
            return self.codec._run(codes, self.n_codebooks, self.state)
