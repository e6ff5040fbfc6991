"""Speaker similarity: cosine between speaker embeddings of a take and the reference voice.

The default encoder is resemblyzer's GE2E LSTM (its `pretrained.pt`, loaded with
`weights_only=True` into our own module). resemblyzer itself is not imported: its import pulls
webrtcvad and librosa. Its preprocessing is reproduced here: 16 kHz, volume raised to -30 dBFS,
long silences trimmed (an energy VAD stands in for webrtcvad), 40-band power mel (25 ms / 10 ms),
partials of 160 frames at 1.3 per second, embeddings averaged and L2-normalized.

Extension point: anything implementing `SpeakerEncoder` can be registered with
`register_encoder(name, factory)` (e.g. a WavLM-based encoder installed by the model manager) and
chosen by name in `ScorerConfig.speaker_encoder`.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from engine.eval.common import NotScorable, is_silent, to_rate
from engine.eval.melspec import mel_power

SR = 16000
N_MELS = 40
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
PARTIAL_FRAMES = 160  # 1.6 s
PARTIAL_RATE = 1.3  # partials per second
MIN_COVERAGE = 0.75
MIN_SPEECH_S = 0.5
NORM_TARGET_DBFS = -30.0


class SpeakerEncoder(Protocol):
    name: str

    def embed(self, audio: np.ndarray, sr: int) -> np.ndarray:
        """L2-normalized embedding [D] of one utterance; raises NotScorable."""
        ...


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


RESEMBLYZER_MISSING = ("speaker similarity needs the GE2E weights that the resemblyzer package ships "
                       "(resemblyzer/pretrained.pt), and it is not installed. Install it without its "
                       "needless librosa/webrtcvad requirements: pip install --no-deps resemblyzer")


def resemblyzer_weights_path() -> Path | None:
    spec = importlib.util.find_spec("resemblyzer")  # finds the folder without running its __init__
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / "pretrained.pt"
    return p if p.is_file() else None


def preprocess(audio: np.ndarray, sr: int) -> np.ndarray:
    """16 kHz mono, quiet audio raised to -30 dBFS RMS, silences longer than ~0.2 s shortened."""
    x = to_rate(audio, sr, SR)
    if is_silent(x):
        raise NotScorable("silent")
    x = np.clip(x, -1.0, 1.0)
    rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
    gain_db = NORM_TARGET_DBFS - 20 * np.log10(max(rms, 1e-10))
    if gain_db > 0:  # increase only, as resemblyzer does
        x = x * np.float32(10 ** (gain_db / 20))
    x = trim_long_silences(x)
    if len(x) < MIN_SPEECH_S * SR:
        raise NotScorable(f"too little speech for a speaker embedding ({len(x) / SR:.2f} s, "
                          f"needs {MIN_SPEECH_S} s)")
    return x


def trim_long_silences(x: np.ndarray, window_ms: int = 30, avg_width: int = 8,
                       max_silence: int = 6) -> np.ndarray:
    """resemblyzer's trim with an energy detector in place of webrtcvad (mode 3): a 30 ms window
    is voiced when within 40 dB of the loudest window and above -60 dBFS."""
    win = window_ms * SR // 1000
    x = x[: len(x) - len(x) % win]
    if len(x) == 0:
        return x
    frames = x.reshape(-1, win).astype(np.float64)
    db = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)
    voiced = (db > db.max() - 40.0) & (db > -60.0)
    # Moving average then dilation, exactly as resemblyzer smooths webrtcvad's flags.
    padded = np.concatenate([np.zeros((avg_width - 1) // 2), voiced.astype(float), np.zeros(avg_width // 2)])
    c = np.cumsum(padded)
    c[avg_width:] = c[avg_width:] - c[:-avg_width]
    mask = np.round(c[avg_width - 1:] / avg_width).astype(bool)
    from engine.sci import preload

    preload()
    from scipy.ndimage import binary_dilation

    dilated = binary_dilation(mask, np.ones(max_silence + 1))
    return x[np.repeat(dilated, win)]


def partial_slices(n_samples: int) -> list[slice]:
    """Mel-frame slices of the partial utterances (resemblyzer.compute_partial_slices)."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = int(np.round((SR / PARTIAL_RATE) / HOP))
    steps = max(1, n_frames - PARTIAL_FRAMES + step + 1)
    slices = [slice(i, i + PARTIAL_FRAMES) for i in range(0, steps, step)]
    last = slices[-1]
    coverage = (n_samples - last.start * HOP) / (PARTIAL_FRAMES * HOP)
    if coverage < MIN_COVERAGE and len(slices) > 1:
        slices = slices[:-1]
    return slices


class Ge2eEncoder:
    """resemblyzer's 3-layer LSTM (40 -> 256) + linear + ReLU, 256-d embeddings."""

    name = "ge2e"

    def __init__(self, weights: Path | None = None, device: str = "cpu"):
        import torch
        from torch import nn

        weights = weights or resemblyzer_weights_path()
        if weights is None or not Path(weights).is_file():
            raise FileNotFoundError(RESEMBLYZER_MISSING)
        self._torch = torch
        self.device = torch.device(device)
        self.lstm = nn.LSTM(N_MELS, 256, 3, batch_first=True)
        self.linear = nn.Linear(256, 256)
        state = torch.load(weights, map_location="cpu", weights_only=True)["model_state"]
        # The checkpoint also holds GE2E's training-only similarity scale/bias: not needed here.
        self.lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
        self.linear.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("linear.")})
        self.lstm.to(self.device).eval()
        self.linear.to(self.device).eval()

    def embed_partials(self, mels: np.ndarray) -> np.ndarray:
        """mels [B, 160, 40] power mel -> [B, 256] L2-normalized partial embeddings."""
        torch = self._torch
        # A batch of ~10 sequences through a 256-wide LSTM is too small to gain from intra-op
        # threads; with the CPU busy (the engine generating, other apps) 2 threads measured 15x
        # slower than 1. The setting is process-wide, so it is restored afterwards.
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return self._forward(mels)
        finally:
            torch.set_num_threads(threads)

    def _forward(self, mels: np.ndarray) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            m = torch.from_numpy(np.ascontiguousarray(mels, dtype=np.float32)).to(self.device)
            _, (hidden, _) = self.lstm(m)  # hidden: [layers, B, 256]
            e = torch.relu(self.linear(hidden[-1]))  # [B, 256]
            e = e / (torch.norm(e, dim=1, keepdim=True) + 1e-12)
        return e.cpu().numpy()

    def embed(self, audio: np.ndarray, sr: int) -> np.ndarray:
        wav = preprocess(audio, sr)
        slices = partial_slices(len(wav))
        need = slices[-1].stop * HOP
        if need > len(wav):
            wav = np.pad(wav, (0, need - len(wav)))
        mel = mel_power(wav, SR, N_FFT, HOP, N_MELS).T  # [frames, 40]
        mels = np.stack([mel[s] for s in slices])  # [B, 160, 40]
        partial = self.embed_partials(mels)
        raw = partial.mean(axis=0)
        return (raw / (np.linalg.norm(raw) + 1e-12)).astype(np.float32)


_ENCODERS: dict[str, Callable[..., SpeakerEncoder]] = {"ge2e": Ge2eEncoder}


def register_encoder(name: str, factory: Callable[..., SpeakerEncoder]) -> None:
    """Make another speaker encoder (e.g. WavLM-based, from the model manager) selectable by name."""
    _ENCODERS[name] = factory


def available_encoders() -> list[str]:
    return sorted(_ENCODERS)


def load_speaker_encoder(name: str = "ge2e", **kwargs) -> SpeakerEncoder:
    if name not in _ENCODERS:
        raise ValueError(f"unknown speaker encoder {name!r}; available: {', '.join(available_encoders())}")
    return _ENCODERS[name](**kwargs)
