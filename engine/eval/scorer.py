"""`Scorer`: the one object the engine worker holds to evaluate takes.

Models (ASR, speaker encoder, DNSMOS) load once, lazily, on first use, and stay loaded. `score`
never raises for bad audio: each metric that cannot be computed is left None with a reason in
`TakeScores.not_scorable` (silence, 0.1 s clips, empty text...). Programming errors and missing
model files still raise, so they are not mistaken for a property of the take.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from engine.eval.asr import AsrEngine, Transcript, load_asr
from engine.eval.common import NotScorable, as_mono_float32
from engine.eval.dnsmos import Dnsmos, DnsmosScores
from engine.eval.qc import QcReport, signal_qc
from engine.eval.similarity import SpeakerEncoder, cosine, load_speaker_encoder
from engine.eval.wer import DiffOp, EmptyReferenceError, WerResult, compute_wer


@dataclass(frozen=True)
class ScorerConfig:
    asr_backend: str = "auto"  # "auto" | "whisper" | "pocketsphinx"
    whisper_model: str | None = None  # folder; None: model cache, then the bundled tiny.en
    language: str | None = None  # None/"auto": detect (multilingual models only)
    compute_type: str = "int8"
    beam_size: int = 1
    speaker_encoder: str = "ge2e"
    dnsmos_personalized: bool = False

    def key(self) -> str:
        """Stable id of the settings that change scores (used to cache scores per config)."""
        return hashlib.sha1(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]


@dataclass
class TakeScores:
    duration_s: float
    qc: QcReport
    wer: WerResult | None = None  # needs `text`
    transcript: Transcript | None = None
    similarity: float | None = None  # cosine, needs `reference`; ~0.85+ same speaker for GE2E
    dnsmos: DnsmosScores | None = None
    not_scorable: dict[str, str] = field(default_factory=dict)  # metric -> reason for the user
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def hypothesis(self) -> str | None:
        return self.transcript.text if self.transcript else None

    @property
    def diff(self) -> list[DiffOp]:
        return self.wer.ops if self.wer else []

    def flat(self) -> dict:
        """One row of plain values (CSV, tables, the GUI's results grid)."""
        d = self.dnsmos
        return {
            "duration_s": round(self.duration_s, 3),
            "wer": self.wer.wer if self.wer else None,
            "cer": self.wer.cer if self.wer else None,
            "similarity": self.similarity,
            "dnsmos_ovr": d.ovr if d else None, "dnsmos_sig": d.sig if d else None,
            "dnsmos_bak": d.bak if d else None, "dnsmos_p808": d.p808 if d else None,
            "peak_dbfs": self.qc.peak_dbfs, "lufs": self.qc.lufs,
            "clipped_fraction": self.qc.clipped_fraction, "silence_ratio": self.qc.silence_ratio,
            "words_per_minute": self.qc.words_per_minute,
            "hypothesis": self.hypothesis,
            "asr": self.transcript.model if self.transcript else None,
            "qc_issues": "; ".join(self.qc.issues),
            "not_scorable": "; ".join(f"{k}: {v}" for k, v in self.not_scorable.items()),
        }

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=_json_default)

    @classmethod
    def from_json(cls, s: str) -> "TakeScores":
        d = json.loads(s)
        qc = QcReport(**d["qc"])
        wer = None
        if d.get("wer"):
            w = dict(d["wer"])
            w["ops"] = [DiffOp(**{**op, "ref": tuple(op["ref"]), "hyp": tuple(op["hyp"])}) for op in w["ops"]]
            wer = WerResult(**w)
        tr = None
        if d.get("transcript"):
            from engine.eval.asr import TranscriptSegment

            t = dict(d["transcript"])
            t["segments"] = [TranscriptSegment(**s) for s in t["segments"]]
            tr = Transcript(**t)
        dn = DnsmosScores(**d["dnsmos"]) if d.get("dnsmos") else None
        return cls(d["duration_s"], qc, wer, tr, d.get("similarity"), dn, d.get("not_scorable", {}),
                   d.get("timings_s", {}))


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serializable: {type(o)}")


class Scorer:
    """Thread-safe; models load on first use of the metric that needs them."""

    def __init__(self, config: ScorerConfig | None = None):
        self.config = config or ScorerConfig()
        self._lock = threading.RLock()
        self._asr: AsrEngine | None = None
        self._encoder: SpeakerEncoder | None = None
        self._dnsmos: Dnsmos | None = None
        self._ref_cache: dict[str, np.ndarray] = {}  # reference audio hash -> embedding
        self.load_times_s: dict[str, float] = {}

    # Lazy models -------------------------------------------------------------------------
    @property
    def asr(self) -> AsrEngine:
        with self._lock:
            if self._asr is None:
                c = self.config
                t = time.perf_counter()
                self._asr = load_asr(c.asr_backend, whisper_model=c.whisper_model, language=c.language,
                                     compute_type=c.compute_type, beam_size=c.beam_size)
                self.load_times_s["asr"] = time.perf_counter() - t
            return self._asr

    @property
    def speaker_encoder(self) -> SpeakerEncoder:
        with self._lock:
            if self._encoder is None:
                t = time.perf_counter()
                self._encoder = load_speaker_encoder(self.config.speaker_encoder)
                self.load_times_s["speaker_encoder"] = time.perf_counter() - t
            return self._encoder

    @property
    def dnsmos_model(self) -> Dnsmos:
        with self._lock:
            if self._dnsmos is None:
                t = time.perf_counter()
                self._dnsmos = Dnsmos(personalized=self.config.dnsmos_personalized)
                self.load_times_s["dnsmos"] = time.perf_counter() - t
            return self._dnsmos

    def load_all(self) -> dict[str, float]:
        """Load every model now (e.g. on the worker before the first take); returns load times."""
        _ = self.asr, self.speaker_encoder, self.dnsmos_model
        return dict(self.load_times_s)

    # Metrics ------------------------------------------------------------------------------
    def transcribe(self, audio: np.ndarray, sr: int) -> Transcript:
        """Transcript for a voice's reference clip. Raises NotScorable for silence / too short."""
        return self.asr.transcribe(audio, sr)

    def embed_speaker(self, audio: np.ndarray, sr: int) -> np.ndarray:
        """Embedding of a reference voice; cached by audio content, so ranking N takes against
        one reference embeds it once."""
        x = as_mono_float32(audio)
        key = hashlib.sha1(x.tobytes() + str(sr).encode()).hexdigest()
        with self._lock:
            if key not in self._ref_cache:
                if len(self._ref_cache) > 32:
                    self._ref_cache.clear()
                self._ref_cache[key] = self.speaker_encoder.embed(x, sr)
            return self._ref_cache[key]

    def similarity(self, audio: np.ndarray, sr: int, reference: np.ndarray, reference_sr: int) -> float:
        try:
            ref = self.embed_speaker(reference, reference_sr)
        except NotScorable as exc:  # say which side is the problem: the take or the voice
            raise NotScorable(f"reference voice: {exc}") from exc
        return cosine(self.speaker_encoder.embed(audio, sr), ref)

    def score(self, audio: np.ndarray, sr: int, *, text: str | None = None,
              reference: np.ndarray | None = None, reference_sr: int | None = None,
              metrics: tuple[str, ...] = ("wer", "similarity", "dnsmos")) -> TakeScores:
        """Score one take. `text`: what it should say (enables WER/CER); `reference`: the voice
        it should sound like (enables similarity). QC always runs."""
        x = as_mono_float32(audio)
        scores = TakeScores(len(x) / sr if sr > 0 else 0.0, signal_qc(x, sr, text=text))
        if sr <= 0:
            scores.not_scorable = {m: f"invalid sample rate {sr}" for m in metrics}
            return scores
        if "wer" in metrics:
            if text is None or not text.strip():
                scores.not_scorable["wer"] = "no text to compare against"
            else:
                self._run(scores, "wer", lambda: self._wer(scores, x, sr, text))
        if "similarity" in metrics:
            if reference is None:
                scores.not_scorable["similarity"] = "no reference voice"
            else:
                ref_sr = reference_sr or sr
                self._run(scores, "similarity",
                          lambda: setattr(scores, "similarity", self.similarity(x, sr, reference, ref_sr)))
        if "dnsmos" in metrics:
            self._run(scores, "dnsmos", lambda: setattr(scores, "dnsmos", self.dnsmos_model.score(x, sr)))
        return scores

    def _wer(self, scores: TakeScores, x: np.ndarray, sr: int, text: str) -> None:
        try:
            tr = self.asr.transcribe(x, sr)
        except NotScorable as exc:
            # Nothing intelligible was said: for a take that should have said `text`, every
            # word is missing. Keep the reason visible alongside the defined score.
            scores.wer = compute_wer(text, "")
            scores.not_scorable["asr"] = str(exc)
            return
        scores.transcript = tr
        scores.wer = compute_wer(text, tr.text)

    @staticmethod
    def _run(scores: TakeScores, name: str, fn) -> None:
        t = time.perf_counter()
        try:
            fn()
        except (NotScorable, EmptyReferenceError) as exc:
            scores.not_scorable[name] = str(exc)
        finally:
            scores.timings_s[name] = time.perf_counter() - t
