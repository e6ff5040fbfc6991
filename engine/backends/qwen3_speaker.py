"""Qwen3-TTS's speaker encoder: 24 kHz audio -> 128-band log-mel -> ECAPA-TDNN -> one embedding.

The Base models put this embedding in the talker prompt where CustomVoice models put a preset
speaker's codec embedding (engine/backends/qwen3_prompt.py). ECAPA-TDNN (Desplanques et al. 2020):
a TDNN, SE-Res2Net blocks, multi-layer aggregation, attentive statistics pooling, a 1x1 conv.
Every convolution pads "same" by reflection, as the reference's do.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

SAMPLE_RATE, N_FFT, HOP, N_MELS, FMAX = 24000, 1024, 256, 128, 12000
PREFIX = "speaker_encoder."


def _hz_to_mel_slaney(f: np.ndarray) -> np.ndarray:
    f = np.asarray(f, dtype=np.float64)
    mel = f / (200.0 / 3)
    log_part = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(f >= 1000.0, log_part, mel)


def _mel_to_hz_slaney(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    return np.where(m >= 15.0, 1000.0 * np.exp(np.log(6.4) / 27.0 * (m - 15.0)), m * (200.0 / 3))


def slaney_mel_filterbank(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """Slaney-scale, Slaney-normalised triangular filters [n_mels, n_fft//2+1] (librosa's default)."""
    bins = np.fft.rfftfreq(n_fft, 1.0 / sr)
    pts = _mel_to_hz_slaney(np.linspace(_hz_to_mel_slaney(fmin), _hz_to_mel_slaney(fmax), n_mels + 2))
    width = np.diff(pts)
    ramps = pts[:, None] - bins[None, :]
    lower = -ramps[:-2] / width[:-1, None]
    upper = ramps[2:] / width[1:, None]
    fb = np.maximum(0.0, np.minimum(lower, upper)) * (2.0 / (pts[2:] - pts[:-2]))[:, None]
    return fb.astype(np.float32)


def log_mel(audio: torch.Tensor) -> torch.Tensor:
    """audio [T] float32 at 24 kHz -> log-mel [frames, 128] (reflect-padded, uncentred STFT)."""
    fb = torch.from_numpy(slaney_mel_filterbank(SAMPLE_RATE, N_FFT, N_MELS, 0.0, FMAX)).to(audio.device)
    pad = (N_FFT - HOP) // 2
    y = F.pad(audio.reshape(1, 1, -1), (pad, pad), mode="reflect").reshape(1, -1)
    spec = torch.stft(y, N_FFT, hop_length=HOP, win_length=N_FFT, window=torch.hann_window(N_FFT, device=audio.device),
                      center=False, normalized=False, onesided=True, return_complex=True)
    mag = torch.sqrt(torch.view_as_real(spec).pow(2).sum(-1) + 1e-9)  # [1, F, frames]
    return torch.log(torch.clamp(fb @ mag, min=1e-5))[0].t()


@dataclass(frozen=True)
class SpeakerEncoderConfig:
    mel_dim: int = 128
    dim: int = 1024
    channels: tuple[int, ...] = (512, 512, 512, 512, 1536)
    kernels: tuple[int, ...] = (5, 3, 3, 3, 1)
    dilations: tuple[int, ...] = (1, 2, 3, 4, 1)
    attention_channels: int = 128
    res2net_scale: int = 8

    @classmethod
    def from_hf(cls, c: dict[str, Any]) -> "SpeakerEncoderConfig":
        d = cls()
        return cls(int(c.get("mel_dim", d.mel_dim)), int(c.get("enc_dim", d.dim)),
                   tuple(c.get("enc_channels", d.channels)), tuple(c.get("enc_kernel_sizes", d.kernels)),
                   tuple(c.get("enc_dilations", d.dilations)),
                   int(c.get("enc_attention_channels", d.attention_channels)),
                   int(c.get("enc_res2net_scale", d.res2net_scale)))


class SpeakerEncoder:
    """Holds the checkpoint's tensors (names as in qwen-tts) and runs the network functionally."""

    def __init__(self, cfg: SpeakerEncoderConfig, weights: dict[str, torch.Tensor]) -> None:
        self.cfg = cfg
        self.w = weights

    def _conv(self, name: str, x: torch.Tensor, dilation: int = 1) -> torch.Tensor:
        w, b = self.w[name + ".weight"], self.w[name + ".bias"]
        total = dilation * (w.shape[-1] - 1)
        if total:
            x = F.pad(x, (total // 2, total - total // 2), mode="reflect")
        return F.conv1d(x, w, b, dilation=dilation)

    def _tdnn(self, name: str, x: torch.Tensor, dilation: int = 1) -> torch.Tensor:
        return torch.relu(self._conv(name + ".conv", x, dilation))

    def _se_res2net(self, i: int, x: torch.Tensor) -> torch.Tensor:
        p = f"blocks.{i}."
        h = self._tdnn(p + "tdnn1", x)
        parts, outs, prev = torch.chunk(h, self.cfg.res2net_scale, dim=1), [], None
        for j, part in enumerate(parts):
            if j == 0:
                prev = part
            else:
                prev = self._tdnn(f"{p}res2net_block.blocks.{j - 1}", part if j == 1 else part + prev,
                                  self.cfg.dilations[i])
            outs.append(prev)
        h = self._tdnn(p + "tdnn2", torch.cat(outs, dim=1))
        s = torch.relu(self._conv(p + "se_block.conv1", h.mean(dim=2, keepdim=True)))
        s = torch.sigmoid(self._conv(p + "se_block.conv2", s))
        return h * s + x

    @staticmethod
    def _stats(x: torch.Tensor, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean = (weights * x).sum(2)
        std = torch.sqrt((weights * (x - mean.unsqueeze(2)).pow(2)).sum(2).clamp(1e-12))
        return mean, std

    def __call__(self, mel: torch.Tensor) -> torch.Tensor:
        """mel [B, frames, mel_dim] -> embedding [B, dim]."""
        x = mel.transpose(1, 2)
        x = self._tdnn("blocks.0", x, self.cfg.dilations[0])
        hs = []
        for i in range(1, len(self.cfg.channels) - 1):
            x = self._se_res2net(i, x)
            hs.append(x)
        x = self._tdnn("mfa", torch.cat(hs, dim=1), self.cfg.dilations[-1])
        n = x.shape[-1]
        mean, std = self._stats(x, torch.full_like(x[:, :1], 1.0 / n))
        ctx = torch.cat([x, mean.unsqueeze(2).expand(-1, -1, n), std.unsqueeze(2).expand(-1, -1, n)], dim=1)
        att = torch.softmax(self._conv("asp.conv", torch.tanh(self._tdnn("asp.tdnn", ctx))), dim=2)
        mean, std = self._stats(x, att)
        return self._conv("fc", torch.cat([mean, std], dim=1).unsqueeze(2)).squeeze(-1)

    def embed(self, audio_24k: np.ndarray) -> torch.Tensor:
        """Mono float32 audio at 24 kHz -> [dim] (what the talker prompt takes)."""
        dev, dt = self.w["fc.weight"].device, self.w["fc.weight"].dtype
        with torch.inference_mode():
            mel = log_mel(torch.as_tensor(np.ascontiguousarray(audio_24k, dtype=np.float32), device=dev))
            return self(mel.unsqueeze(0).to(dt))[0]


def speaker_encoder_keys(ckpt_keys: list[str]) -> list[str]:
    return [k for k in ckpt_keys if k.startswith(PREFIX)]


def load_speaker_encoder(ckpt: Any, cfg: dict[str, Any], device: torch.device, dtype: torch.dtype) -> SpeakerEncoder:
    """From an open checkpoint (engine.hub.checkpoint) holding `speaker_encoder.*`."""
    keys = speaker_encoder_keys(ckpt.keys())
    if not keys:
        raise ValueError("this checkpoint has no speaker encoder (only Base models clone voices)")
    w = {k[len(PREFIX):]: ckpt.tensor(k).to(device=device, dtype=dtype) for k in keys}
    return SpeakerEncoder(SpeakerEncoderConfig.from_hf(cfg), w)
