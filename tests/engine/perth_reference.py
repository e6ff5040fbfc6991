"""Resemble AI's own `perth` package, importable here for parity tests.

Its implicit watermarker imports torchaudio (no build for our torch), librosa (only for
`resample`) and pkg_resources (gone from recent setuptools). We load it with minimal stand-ins
for exactly what it uses, written from those libraries' documented behaviour, not from our code:
- torchaudio.transforms.Spectrogram / InverseSpectrogram: torch.stft / torch.istft with a
  periodic window buffer, centre=True, reflect padding, onesided, unnormalized, complex output
  (power=None), as torchaudio documents and implements them; TimeStretch only for its
  `phase_advance` buffer (the checkpoint holds it; the watermarker never calls it).
- librosa.resample: soxr HQ ("soxr_hq", librosa's default) or scipy's resample_poly
  ("polyphase"), the two resamplers the package asks for.
- pkg_resources.resource_filename: the package-relative path.
The stand-ins live in sys.modules only inside `reference_watermarker()`'s context.
"""
from __future__ import annotations

import contextlib
import importlib
import math
import sys
import types
from math import gcd
from pathlib import Path

import numpy as np


def _torchaudio_modules():
    import torch
    from torch import nn

    class Spectrogram(nn.Module):
        def __init__(self, n_fft=400, win_length=None, hop_length=None, pad=0, window_fn=torch.hann_window,
                     power=2.0, normalized=False, wkwargs=None, center=True, pad_mode="reflect", onesided=True):
            super().__init__()
            assert power is None and pad == 0 and not normalized
            self.n_fft, self.win_length = n_fft, win_length or n_fft
            self.hop_length = hop_length or self.win_length // 2
            self.register_buffer("window", window_fn(self.win_length, **(wkwargs or {})))
            self.center, self.pad_mode, self.onesided = center, pad_mode, onesided

        def forward(self, waveform):
            return torch.stft(waveform, self.n_fft, hop_length=self.hop_length, win_length=self.win_length,
                              window=self.window, center=self.center, pad_mode=self.pad_mode,
                              normalized=False, onesided=self.onesided, return_complex=True)

    class InverseSpectrogram(nn.Module):
        def __init__(self, n_fft=400, win_length=None, hop_length=None, pad=0, window_fn=torch.hann_window,
                     normalized=False, wkwargs=None, center=True, pad_mode="reflect", onesided=True):
            super().__init__()
            assert pad == 0 and not normalized
            self.n_fft, self.win_length = n_fft, win_length or n_fft
            self.hop_length = hop_length or self.win_length // 2
            self.register_buffer("window", window_fn(self.win_length, **(wkwargs or {})))
            self.center, self.onesided = center, onesided

        def forward(self, spectrogram, length=None):
            return torch.istft(spectrogram, self.n_fft, hop_length=self.hop_length, win_length=self.win_length,
                               window=self.window, center=self.center, normalized=False,
                               onesided=self.onesided, length=length, return_complex=False)

    class TimeStretch(nn.Module):
        def __init__(self, hop_length=None, n_freq=201, fixed_rate=None):
            super().__init__()
            hop_length = hop_length if hop_length is not None else n_freq - 1
            self.register_buffer("phase_advance", torch.linspace(0, math.pi * hop_length, n_freq)[..., None])

    ta = types.ModuleType("torchaudio")
    tr = types.ModuleType("torchaudio.transforms")
    tr.Spectrogram, tr.InverseSpectrogram, tr.TimeStretch = Spectrogram, InverseSpectrogram, TimeStretch
    ta.transforms = tr
    return {"torchaudio": ta, "torchaudio.transforms": tr}


def _librosa_module():
    import soxr
    from scipy.signal import resample_poly

    def resample(y, *, orig_sr, target_sr, res_type="soxr_hq", **_):
        y = np.asarray(y, dtype=np.float32)
        if res_type == "soxr_hq":
            return soxr.resample(y, orig_sr, target_sr, quality="HQ")
        if res_type == "polyphase":
            g = gcd(int(orig_sr), int(target_sr))
            return resample_poly(y, int(target_sr) // g, int(orig_sr) // g, axis=-1).astype(y.dtype)
        raise NotImplementedError(res_type)

    lr = types.ModuleType("librosa")
    lr.resample = resample
    return {"librosa": lr}


def _pkg_resources_module():
    pr = types.ModuleType("pkg_resources")

    def resource_filename(package, name):
        return str(Path(importlib.import_module(package).__file__).parent / name)

    pr.resource_filename = resource_filename
    return {"pkg_resources": pr}


@contextlib.contextmanager
def reference_watermarker():
    """Yields `perth.PerthImplicitWatermarker()` (CPU); removes perth and the stand-ins afterwards."""
    saved = {k: v for k, v in sys.modules.items()
             if k.split(".")[0] in ("perth", "torchaudio", "librosa", "pkg_resources")}
    fakes = {**_torchaudio_modules(), **_librosa_module(), **_pkg_resources_module()}
    try:
        sys.modules.update(fakes)
        from perth.perth_net.perth_net_implicit.perth_watermarker import PerthImplicitWatermarker

        yield PerthImplicitWatermarker(device="cpu")
    finally:
        for k in [k for k in sys.modules if k.split(".")[0] in ("perth", "torchaudio", "librosa", "pkg_resources")]:
            del sys.modules[k]
        sys.modules.update(saved)
