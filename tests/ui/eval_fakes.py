"""A fast stand-in for engine.eval's Scorer (holds no tests): real QC, real WER/diff (jiwer) against a
scripted "ASR" hypothesis, and a similarity that depends on the audio content, so best-of-N has
something to rank. Injected through `EngineWorker(scorer_factory=...)`."""
from __future__ import annotations

import hashlib
import threading

import numpy as np

from engine.eval.asr import Transcript
from engine.eval.common import NotScorable
from engine.eval.dnsmos import DnsmosScores
from engine.eval.qc import signal_qc
from engine.eval.scorer import TakeScores
from engine.eval.wer import compute_wer


def audio_similarity(audio: np.ndarray) -> float:
    """A deterministic value in [0.55, 0.95) per audio content."""
    h = int(hashlib.sha1(np.ascontiguousarray(audio, np.float32).tobytes()).hexdigest()[:8], 16)
    return 0.55 + (h % 4000) / 10000


class FakeScorer:
    def __init__(self, hear=lambda text: text, transcript="hello from the fake ASR", similarities=()):
        self.similarities = list(similarities)  # handed out in call order (the fake TTS repeats itself)
        self.hear = hear  # reference text -> what the fake ASR "heard"
        self.transcript_text = transcript
        self.calls: list[str | None] = []
        self.configs = []
        self.lock = threading.Lock()

    def factory(self, config):
        self.configs.append(config)
        return self

    def score(self, audio, sr, *, text=None, reference=None, reference_sr=None,
              metrics=("wer", "similarity", "dnsmos")):
        with self.lock:
            self.calls.append(text)
        s = TakeScores(len(audio) / sr, signal_qc(audio, sr, text=text))
        if "wer" in metrics and text:
            hyp = self.hear(text)
            s.transcript = Transcript(hyp, "whisper", "fake-tiny", "en", False)
            s.wer = compute_wer(text, hyp)
        if "similarity" in metrics:
            if reference is None:
                s.not_scorable["similarity"] = "no reference voice"
            else:
                with self.lock:
                    s.similarity = self.similarities.pop(0) if self.similarities else audio_similarity(audio)
        if "dnsmos" in metrics:
            if len(audio) < sr:
                s.not_scorable["dnsmos"] = f"too short for DNSMOS ({len(audio) / sr:.2f} s, needs 1 s)"
            else:
                s.dnsmos = DnsmosScores(sig=3.4, bak=3.9, ovr=3.1, p808=3.6, n_windows=1)
        return s

    def transcribe(self, audio, sr):
        if not np.any(audio):
            raise NotScorable("silent")
        return Transcript(self.transcript_text, "whisper", "fake-tiny", "en", False)


def fake_bridge(scorer: FakeScorer, backend=None):
    from engine.worker import EngineWorker
    from studio.ui.engine_bridge import EngineBridge

    worker = EngineWorker((lambda name: backend) if backend is not None else None, scorer_factory=scorer.factory)
    return EngineBridge(worker=worker)
