"""Predicted naturalness: DNSMOS P.835 (SIG/BAK/OVRL) and P.808, from the ONNX models shipped in
the speechmos package, run with onnxruntime directly (speechmos itself imports librosa).

Recipe (Microsoft's dnsmos_local.py): 16 kHz; audio shorter than 9.01 s is repeated up to it;
9.01 s windows every 1 s; the P.835 model takes raw samples, P.808 takes a 120-band log mel of the
window minus its last 160 samples; raw P.835 outputs go through a fitted cubic/quadratic
polynomial; window scores are averaged.
"""
from __future__ import annotations

import importlib.util
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from engine.eval.common import NotScorable, is_silent, to_rate
from engine.eval.melspec import mel_power, power_to_db

SR = 16000
WINDOW_S = 9.01
MIN_DURATION_S = 1.0  # below this, repeating the clip to 9 s measures the repetition, not the voice

# Polynomial fits from dnsmos_local.py: highest power first (np.poly1d order).
_POLY = {
    False: {"sig": [-0.08397278, 1.22083953, 0.0052439], "bak": [-0.13166888, 1.60915514, -0.39604546],
            "ovr": [-0.06766283, 1.11546468, 0.04602535]},
    True: {"sig": [-0.01019296, 0.02751166, 1.19576786, -0.24348726],
           "bak": [-0.04976499, 0.44276479, -0.1644611, 0.96883132],
           "ovr": [-0.00533021, 0.005101, 1.18058466, -0.11236046]},
}


@dataclass(frozen=True)
class DnsmosScores:
    """Mean opinion scores on the 1-5 scale (higher is better)."""

    sig: float  # speech signal quality
    bak: float  # background noise (5 = no noise)
    ovr: float  # overall
    p808: float  # P.808 overall quality
    n_windows: int

    def to_dict(self) -> dict:
        return asdict(self)


def speechmos_model_dir() -> Path | None:
    spec = importlib.util.find_spec("speechmos")  # locate without importing (it imports librosa)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


class Dnsmos:
    """Sessions are created once; `score` is thread-safe (onnxruntime sessions are)."""

    def __init__(self, model_dir: Path | None = None, *, personalized: bool = False, threads: int | None = None):
        import onnxruntime as ort

        base = Path(model_dir) if model_dir else speechmos_model_dir()
        if base is None:
            raise FileNotFoundError("DNSMOS models not found (the speechmos package ships them)")
        primary = base / ("pdnsmos_models" if personalized else "dnsmos_models") / "sig_bak_ovr.onnx"
        p808 = base / "dnsmos_models" / "model_v8.onnx"
        for p in (primary, p808):
            if not p.is_file():
                raise FileNotFoundError(f"DNSMOS model missing: {p}")
        opts = ort.SessionOptions()
        # At most 2 intra-op threads and no spin-waiting: the P.835 model costs ~0.65 s of CPU per
        # 9 s window; on an idle machine 2 threads halve the wait, and on a busy one (generation
        # running, other apps) spinning threads would only burn the cores others need.
        opts.intra_op_num_threads = threads or min(2, os.cpu_count() or 1)
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = ["CPUExecutionProvider"]
        self.personalized = personalized
        self._primary = ort.InferenceSession(str(primary), opts, providers=providers)
        self._p808 = ort.InferenceSession(str(p808), opts, providers=providers)
        self._poly = {k: np.poly1d(v) for k, v in _POLY[personalized].items()}
        self._lock = threading.Lock()

    def score(self, audio: np.ndarray, sr: int) -> DnsmosScores:
        """Raises NotScorable for silence and clips shorter than MIN_DURATION_S."""
        x = to_rate(audio, sr, SR)
        if len(x) < MIN_DURATION_S * SR:
            raise NotScorable(f"too short for DNSMOS ({len(x) / SR:.2f} s, needs {MIN_DURATION_S:.0f} s)")
        if is_silent(x):
            raise NotScorable("silent")
        x = np.clip(x, -1.0, 1.0)  # the models were trained on [-1, 1] audio
        win = int(WINDOW_S * SR)
        if len(x) < win:
            x = np.tile(x, int(np.ceil(win / len(x))))
        n_windows = int(np.floor(len(x) / SR) - WINDOW_S) + 1
        segs = [x[i * SR: i * SR + win] for i in range(n_windows)]
        segs = np.stack([s for s in segs if len(s) == win]).astype(np.float32)  # [N, 144160]
        mels = np.stack([self._p808_features(s) for s in segs])  # [N, 900, 120]
        with self._lock:
            raw = np.concatenate([self._primary.run(None, {"input_1": s[None]})[0] for s in segs])  # [N, 3]
            p808 = np.concatenate([self._p808.run(None, {"input_1": m[None]})[0] for m in mels])  # [N, 1]
        sig = self._poly["sig"](raw[:, 0])
        bak = self._poly["bak"](raw[:, 1])
        ovr = self._poly["ovr"](raw[:, 2])
        return DnsmosScores(float(np.mean(sig)), float(np.mean(bak)), float(np.mean(ovr)),
                            float(np.mean(p808)), len(segs))

    @staticmethod
    def _p808_features(seg: np.ndarray) -> np.ndarray:
        # n_fft = frame_size + 1 = 321 as in dnsmos_local.py; dB scaled to roughly [-1, 1].
        mel = mel_power(seg[:-160], SR, 321, 160, 120)  # [120, 900]
        return ((power_to_db(mel) + 40.0) / 40.0).T.astype(np.float32)  # [900, 120]
