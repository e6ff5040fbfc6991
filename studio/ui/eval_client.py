"""Scoring through the engine, for every workspace: `EvalClient` submits `engine.jobs.Evaluate`
requests on the shared `EngineBridge` (the Scorer runs on the engine thread, models loaded once) and
hands back `TakeScores` on the GUI thread, keyed by whatever the caller names the subject.

Scores are cached in the library (`studio.core.scores.ScoreStore`) under the scorer settings' key,
so a take scored once shows its scores instantly after a restart, and re-scores only when its audio,
its reference voice or the ASR settings change.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


def scorer_config(settings, models_dir=None, language: str | None = None):
    """The user's ASR settings as an `engine.eval.scorer.ScorerConfig`, with the recognizer made
    concrete (studio/core/asr_choice.py), so cached scores are keyed by the model that made them.
    `language` (a take's, ISO 639-1): a Whisper that knows it, and that language forced."""
    return scorer_config_for(settings, models_dir, language)[0]


def scorer_config_for(settings, models_dir=None, language: str | None = None):
    """(ScorerConfig, message): the message says why no WER can be given in `language` ("" when one can)."""
    from engine.eval.scorer import ScorerConfig
    from studio.core.asr_choice import asr_for_language

    choice, why = asr_for_language(settings, models_dir, language)
    lang = language or getattr(settings, "asr_language", None) or None
    return ScorerConfig(**choice.scorer_fields(), language=lang), why


def audio_key(audio: np.ndarray, sr: int) -> str:
    """Content hash of samples: a re-rendered or edited take reads as not scored."""
    x = np.ascontiguousarray(audio, dtype=np.float32)
    return hashlib.sha1(x.tobytes() + str(int(sr)).encode()).hexdigest()[:16]


def ensure_bridge(ctx):
    """The shared engine bridge, started on first use (as the Synthesize workspace does)."""
    if ctx.engine_bridge is None:
        from studio.ui.engine_bridge import EngineBridge

        ctx.engine_bridge = EngineBridge()
    return ctx.engine_bridge


@dataclass
class ScoreRequest:
    key: str  # the caller's name for the subject ("take:ab12", "take:ab12#2", "clip:5")
    audio: np.ndarray  # float32 mono [T]
    sample_rate: int
    text: str | None = None
    reference: np.ndarray | None = None
    reference_sr: int | None = None
    metrics: tuple[str, ...] | None = None
    transcribe: bool = False
    language: str | None = None  # ISO 639-1 of the speech (a take's language); None: the settings'


class EvalClient(QObject):
    scored = Signal(str, object)  # key, TakeScores
    failed = Signal(str, str)  # key, message for the user

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self._jobs: dict[str, str] = {}  # job id -> key
        self._bridge = None

    @property
    def bridge(self):
        b = ensure_bridge(self.ctx)
        if b is not self._bridge:
            b.done.connect(self._on_done)
            b.failed.connect(self._on_failed)
            b.cancelled.connect(self._on_cancelled)
            self._bridge = b
        return b

    def config(self, language: str | None = None):
        return self.config_for(language)[0]

    def config_for(self, language: str | None = None):
        """(ScorerConfig, message) for speech in `language` (see `scorer_config_for`)."""
        from studio.core.asr_choice import models_root

        return scorer_config_for(self.ctx.settings, models_root(self.ctx.settings, self.ctx.paths), language)

    def pending(self, key: str | None = None) -> bool:
        return bool(self._jobs) if key is None else key in self._jobs.values()

    def submit(self, req: ScoreRequest) -> str:
        from engine.jobs import Evaluate

        ev = Evaluate(audio=np.asarray(req.audio, np.float32), sample_rate=int(req.sample_rate), text=req.text,
                      reference=req.reference, reference_sr=req.reference_sr, config=self.config(req.language),
                      metrics=req.metrics, transcribe=req.transcribe)
        self._jobs[ev.job_id] = req.key
        self.bridge.submit(ev)
        return ev.job_id

    def cancel_all(self) -> None:
        for job_id in list(self._jobs):
            if self._bridge is not None:
                self._bridge.cancel(job_id)

    def _on_done(self, ev) -> None:
        key = self._jobs.pop(ev.job_id, None)
        if key is not None:
            self.scored.emit(key, ev.result)

    def _on_failed(self, ev) -> None:
        key = self._jobs.pop(ev.job_id, None)
        if key is not None:
            log.info("scoring %s failed: %s", key, ev.message)
            self.failed.emit(key, ev.message)

    def _on_cancelled(self, ev) -> None:
        self._jobs.pop(ev.job_id, None)
