"""The Perth implicit watermark network (Resemble AI's PerthNet, MIT), re-implemented on plain torch.

Same parameter names and shapes as `resemble-perth`'s checkpoint, so its state dict loads with
`strict=True` over the encoder and decoder. The audio front end is a plain STFT (torch.stft/istft,
centre, reflect padding, periodic Hann): torchaudio's Spectrogram/InverseSpectrogram do exactly
this, and torchaudio has no build for our torch.

Imported only by engine/provenance/watermark.py, lazily (this module imports torch).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class PerthParams:
    """The audio front end and sizes from the checkpoint's hparams.yaml."""

    sample_rate: int = 32000
    n_fft: int = 2048
    hop_size: int = 320
    window_size: int = 2048
    stft_magnitude_min: float = 1e-9
    max_wmark_freq: float = 2000.0
    hidden_size: int = 256
    window_fn: str = "hann"

    @property
    def subband(self) -> int:
        """Number of low STFT bins the mark lives in (those under max_wmark_freq)."""
        n_freq = self.n_fft // 2 + 1
        return int(round(n_freq * self.max_wmark_freq / (self.sample_rate / 2)))


HEADROOM_DB = 15.0


class _Conv(nn.Module):
    """Conv1d with 'same' padding and an optional LeakyReLU (the checkpoint's `*.conv.*` keys)."""

    def __init__(self, c_in: int, c_out: int, k: int, act: bool = True):
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, k, padding=(k - 1) // 2)
        self.act = nn.LeakyReLU() if act else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return self.act(x) if self.act is not None else x


def _stack(c_in: int, hidden: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(_Conv(c_in, hidden, 1), *[_Conv(hidden, hidden, 7) for _ in range(5)],
                         _Conv(hidden, c_out, 1, act=False))


def _frame_mask(mag: torch.Tensor, p: float = 0.05) -> torch.Tensor:
    """1.0 for frames whose summed (normalized dB) magnitude exceeds p * the clip's loudest frame."""
    s = mag.sum(dim=1)  # [B, T]
    thresh = s.max(dim=1).values * p  # [B]
    return (s > thresh[:, None]).float()  # [B, T]


class Encoder(nn.Module):
    """Adds the watermark to the low band of a normalized magnitude spectrogram, as a residual."""

    def __init__(self, hidden: int, subband: int):
        super().__init__()
        self.subband = subband
        self.layers = _stack(subband, hidden, subband)

    def forward(self, mag: torch.Tensor) -> torch.Tensor:
        # mag: [B, F, T]
        mask = _frame_mask(mag)[:, None]  # [B, 1, T]
        out = mag.clone()
        out[:, :self.subband] += self.layers(mag[:, :self.subband]) * mask
        return out


def _masked_mean(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    return (x * m).sum(dim=2) / m.sum(dim=2)  # [B, C]


class Decoder(nn.Module):
    """Three time scales (x1.25, x1, x0.75) each vote a mark score; a softmax over their
    attention logits weighs the votes. Returns one score per item, ~1 marked, ~0 clean."""

    SCALES = (("slow_layers", 1.25), ("normal_layers", 1.0), ("fast_layers", 0.75))

    def __init__(self, hidden: int, subband: int):
        super().__init__()
        self.subband = subband
        self.slow_layers = _stack(subband, hidden, 2)
        self.normal_layers = _stack(subband, hidden, 2)
        self.fast_layers = _stack(subband, hidden, 2)

    def forward(self, mag: torch.Tensor) -> torch.Tensor:
        # mag: [B, F, T]
        mask = _frame_mask(mag)[:, None]  # [B, 1, T]
        sub = mag[:, :self.subband]  # [B, S, T]
        n_frames = sub.shape[2]
        attn, votes = [], []
        for name, scale in self.SCALES:
            x = sub if scale == 1.0 else F.interpolate(sub, size=int(n_frames * scale), mode="linear",
                                                       align_corners=True)
            out = getattr(self, name)(x)  # [B, 2, T']
            m = F.interpolate(mask, size=out.shape[2], mode="nearest")  # [B, 1, T']
            attn.append(_masked_mean(out[:, :1], m))  # [B, 1]
            votes.append(_masked_mean(out[:, 1:], m))  # [B, 1]
        weights = F.softmax(torch.cat(attn, dim=1), dim=1)  # [B, 3]
        return (torch.cat(votes, dim=1) * weights).sum(dim=1)  # [B]


class PerthNet(nn.Module):
    def __init__(self, hp: PerthParams):
        super().__init__()
        self.hp = hp
        self.encoder = Encoder(hp.hidden_size, hp.subband)
        self.decoder = Decoder(hp.hidden_size, hp.subband)
        self.register_buffer("window", torch.hann_window(hp.window_size), persistent=False)

    # --- audio front end: complex STFT <-> (normalized dB magnitude, phase) ----------------------
    def _stft(self, signal: torch.Tensor) -> torch.Tensor:
        # signal: [T] -> [F, frames] complex
        return torch.stft(signal, n_fft=self.hp.n_fft, hop_length=self.hp.hop_size,
                          win_length=self.hp.window_size, window=self.window, center=True,
                          pad_mode="reflect", normalized=False, onesided=True, return_complex=True)

    def _db_range(self) -> tuple[float, float]:
        floor_db = 20.0 * math.log10(self.hp.stft_magnitude_min)
        return floor_db, -floor_db + HEADROOM_DB

    def magphase(self, signal: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        spec = self._stft(signal)
        floor_db, span = self._db_range()
        mag = 20.0 * torch.log10(spec.abs().clip(self.hp.stft_magnitude_min))
        return (mag - floor_db) / span, torch.angle(spec)  # [F, frames] each

    def signal(self, mag: torch.Tensor, phase: torch.Tensor, length: int) -> torch.Tensor:
        floor_db, span = self._db_range()
        amp = 10.0 ** ((mag * span + floor_db) / 20.0).clip(max=10.0)
        spec = amp * torch.exp(1j * phase)
        return torch.istft(spec, n_fft=self.hp.n_fft, hop_length=self.hp.hop_size,
                           win_length=self.hp.window_size, window=self.window, center=True,
                           normalized=False, onesided=True, length=length)  # [T]

    # --- the two jobs ------------------------------------------------------------------------------
    def embed(self, signal: torch.Tensor) -> torch.Tensor:
        """signal: [T] float32 at hp.sample_rate -> marked [T]."""
        mag, phase = self.magphase(signal)
        marked = self.encoder(mag[None])[0]
        return self.signal(marked, phase, signal.shape[0])

    def detect(self, signal: torch.Tensor) -> torch.Tensor:
        """signal: [T] -> a scalar score in [0, 1]."""
        mag, _ = self.magphase(signal)
        return self.decoder(mag[None])[0].clip(0.0, 1.0)
