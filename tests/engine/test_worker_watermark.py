"""Every take the worker finishes is watermarked, whatever backend made it; the stream is not."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import soundfile as sf

from engine.audio.resample import resample
from engine.backends.base import ModelInfo, SamplingParams, SynthStep
from engine.jobs import AudioChunk, Cancelled, Done, Failed, LoadModel, Synthesize
from engine.worker import EngineWorker
from tests.engine.test_worker_fake_backend import FakeBackend

SR = 24000
FRAME = 1920  # 80 ms


class SpeechFake(FakeBackend):
    """Streams a real speech recording as if it were generated (the mark needs speech to sit in)."""

    def __init__(self, speech: np.ndarray, **kw):
        super().__init__(**kw)
        self.speech = speech

    def load(self, model_dir, **kw) -> ModelInfo:
        info = super().load(model_dir, **kw)
        self._info = ModelInfo(**{**info.__dict__, "sample_rate": SR, "backend": "speech-fake"})
        return self._info

    def synthesize(self, text, voice, params, *, stream_frames=5):
        n = len(self.speech) // FRAME
        for f in range(n):
            if self.frame_delay_s:
                time.sleep(self.frame_delay_s)
            if self.fail_at_frame is not None and f == self.fail_at_frame:
                raise RuntimeError("speech fake failed")
            yield SynthStep(frame_index=f, codes=np.full(4, f), audio=self.speech[f * FRAME:(f + 1) * FRAME].copy(),
                            done=f == n - 1, stop_reason="eos" if f == n - 1 else None)


@pytest.fixture(scope="module")
def speech(speech_clips):
    clip = next(c for c in speech_clips if c["file"].startswith("librispeech"))
    x, sr = sf.read(str(clip["path"]), dtype="float32")
    return resample(x, sr, SR)[: 4 * SR]


def run(backend, req, tmp_path, on_event=None):
    w = EngineWorker(lambda name: backend).start()
    try:
        assert isinstance(w.run_sync(LoadModel(model_dir=tmp_path, backend="x", model_id="m"), timeout=10), Done)
        chunks = []

        def listen(ev):
            if isinstance(ev, AudioChunk):
                chunks.append(ev.audio)
            if on_event:
                on_event(w, ev)
        return w.run_sync(req, timeout=60, on_event=listen), chunks
    finally:
        w.shutdown()


def test_finished_take_is_marked_and_says_with_what(speech, tmp_path):
    from engine import provenance

    done, chunks = run(SpeechFake(speech), Synthesize(text="say it", params=SamplingParams(seed=1)), tmp_path)
    assert isinstance(done, Done), getattr(done, "message", done)
    res = done.result
    streamed = np.concatenate(chunks)
    assert res.audio.shape == streamed.shape  # same take, plus the mark
    assert provenance.detect(res.audio, SR) > 0.95
    assert provenance.detect(streamed, SR) < 0.05  # the live preview is left unmarked
    assert res.watermark["method"] == "perth-implicit" and res.watermark["model"] == "perth_net_250000"
    assert res.watermark["version"].startswith("resemble-perth ")


def test_turned_off_the_take_is_exactly_the_stream(speech, tmp_path):
    done, chunks = run(SpeechFake(speech), Synthesize(text="say it", watermark=False), tmp_path)
    assert done.result.watermark is None
    assert np.array_equal(done.result.audio, np.concatenate(chunks))


def test_cancelled_and_failed_takes_carry_their_marked_partial_audio(speech, tmp_path):
    from engine import provenance

    cancelled_at = threading.Event()

    def cancel_late(w, ev):
        if isinstance(ev, AudioChunk) and ev.start_sample >= 2 * SR and not cancelled_at.is_set():
            cancelled_at.set()
            w.cancel(ev.job_id)

    req = Synthesize(text="say it")
    ev, chunks = run(SpeechFake(speech, frame_delay_s=0.005), req, tmp_path, cancel_late)
    assert isinstance(ev, Cancelled) and ev.partial is not None
    assert ev.partial.audio.shape == np.concatenate(chunks).shape  # what the studio had streamed
    assert provenance.detect(ev.partial.audio, SR) > 0.95 and ev.partial.watermark["model"] == "perth_net_250000"

    ev, chunks = run(SpeechFake(speech, fail_at_frame=30), Synthesize(text="say it"), tmp_path)
    assert isinstance(ev, Failed) and ev.partial is not None
    assert provenance.detect(ev.partial.audio, SR) > 0.95


def test_missing_watermark_model_fails_the_take_clearly(speech, tmp_path, monkeypatch):
    from engine import provenance

    def unavailable(*a, **k):
        raise provenance.WatermarkUnavailable("The watermark model is missing: install 'resemble-perth'")

    monkeypatch.setattr(provenance, "embed", unavailable)
    ev, _ = run(SpeechFake(speech), Synthesize(text="say it"), tmp_path)
    assert isinstance(ev, Failed)
    assert "Could not watermark the take" in ev.message and "resemble-perth" in ev.message
    assert "turned off in Settings" in ev.message
