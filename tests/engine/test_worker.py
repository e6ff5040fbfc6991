"""The engine worker with a fake backend: streaming, caching, cancel, failure, several models."""
from __future__ import annotations

import logging
import sys
import threading
import types

import numpy as np
import pytest

from engine.backends.base import SamplingParams
from engine.jobs import (AudioChunk, Cancelled, CodeFrame, Done, EncodeReference, EngineState, Evaluate,
                         Failed, LoadModel, Progress, ReferenceSpec, Synthesize, Unload)
from engine.worker import EngineWorker
from tests.engine.test_worker_fake_backend import SR, FakeBackend


class Events:
    """Collects every event the worker emits (listener runs on the engine thread)."""

    def __init__(self):
        self.items = []
        self.lock = threading.Lock()

    def __call__(self, ev):
        with self.lock:
            self.items.append(ev)

    def of(self, job_id, kind=object):
        with self.lock:
            return [e for e in self.items if e.job_id == job_id and isinstance(e, kind)]


@pytest.fixture
def make_worker(tmp_path):
    workers = []

    def make(backend=None, *, load=True, model_id="m1"):
        backend = backend or FakeBackend()
        worker = EngineWorker(lambda name: backend).start()
        events = Events()
        worker.add_listener(events)
        workers.append(worker)
        if load:
            model_dir = tmp_path / model_id
            model_dir.mkdir(exist_ok=True)
            ev = worker.run_sync(LoadModel(model_dir=model_dir, backend="fake", model_id=model_id), timeout=10)
            assert isinstance(ev, Done), ev
        return worker, backend, events

    yield make
    for w in workers:
        w.shutdown()


def voice(key="v1", amp=0.5):
    t = np.arange(SR * 2) / SR
    return ReferenceSpec(key=key, text="a reference", audio=(amp * np.sin(2 * np.pi * 150 * t)).astype(np.float32),
                         sample_rate=SR)


def test_synthesis_streams_chunks_that_add_up_to_the_take(make_worker):
    worker, backend, events = make_worker()
    # Unmarked, so the take is exactly the streamed chunks (test_worker_watermark covers the mark).
    req = Synthesize(text="Hello there, this is a test of the engine.", voice=voice(),
                     params=SamplingParams(seed=3), stream_frames=2, watermark=False)
    done = worker.run_sync(req, timeout=10)
    assert isinstance(done, Done)
    result = done.result
    chunks = events.of(req.job_id, AudioChunk)
    frames = events.of(req.job_id, CodeFrame)
    assert len(chunks) > 2  # streamed, not one block at the end
    assert np.array_equal(np.concatenate([c.audio for c in chunks]), result.audio)
    assert [c.start_sample for c in chunks] == list(np.cumsum([0] + [len(c.audio) for c in chunks[:-1]]))
    assert result.codes.shape == (4, len(frames))
    assert [f.frame_index for f in frames] == list(range(len(frames)))
    assert result.sample_rate == SR and result.duration_s > 0.5
    assert result.stop_reasons == ["eos"]
    assert result.seconds_to_first_audio is not None
    progress = [p.fraction for p in events.of(req.job_id, Progress) if p.fraction is not None]
    assert progress == sorted(progress) and 0 < progress[-1] < 1
    # The terminal event comes last and only once.
    mine = events.of(req.job_id)
    assert mine[-1] is done and sum(isinstance(e, (Done, Failed, Cancelled)) for e in mine) == 1


def test_audio_events_are_copies_the_receiver_owns(make_worker):
    worker, _, events = make_worker()
    req = Synthesize(text="one two three four five six", stream_frames=1)
    done = worker.run_sync(req, timeout=10)
    before = done.result.audio.copy()
    for chunk in events.of(req.job_id, AudioChunk):
        chunk.audio[:] = 99.0  # a GUI scribbling on its chunk must not change the take
    assert np.array_equal(done.result.audio, before)


def test_same_seed_same_take_and_voice_changes_it(make_worker):
    worker, _, _ = make_worker()
    a = worker.run_sync(Synthesize(text="same words", params=SamplingParams(seed=7), voice=voice()), timeout=10)
    b = worker.run_sync(Synthesize(text="same words", params=SamplingParams(seed=7), voice=voice()), timeout=10)
    c = worker.run_sync(Synthesize(text="same words", params=SamplingParams(seed=7),
                                   voice=voice("v2", amp=0.1)), timeout=10)
    assert np.array_equal(a.result.audio, b.result.audio)
    assert np.array_equal(a.result.codes, b.result.codes)
    assert not np.array_equal(a.result.audio, c.result.audio)


def test_reference_is_encoded_once_per_voice(make_worker):
    worker, backend, _ = make_worker()
    enc = worker.run_sync(EncodeReference(reference=voice("v1")), timeout=10)
    assert isinstance(enc, Done) and enc.result.key == "v1" and enc.result.n_frames == 25
    for _ in range(2):
        assert isinstance(worker.run_sync(Synthesize(text="hi there", voice=voice("v1")), timeout=10), Done)
    assert backend.encode_calls == 1
    worker.run_sync(Synthesize(text="hi there", voice=voice("v2")), timeout=10)
    assert backend.encode_calls == 2


def test_reference_from_a_file_and_an_unreadable_one(make_worker, tmp_path):
    import soundfile as sf

    worker, backend, _ = make_worker()
    wav = tmp_path / "ref.wav"
    sf.write(wav, voice().audio, SR)
    ok = worker.run_sync(EncodeReference(reference=ReferenceSpec(key="f", text="x", path=wav)), timeout=10)
    assert isinstance(ok, Done) and ok.result.n_frames == 25
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all")
    bad = worker.run_sync(EncodeReference(reference=ReferenceSpec(key="j", text="x", path=junk)), timeout=10)
    assert isinstance(bad, Failed) and "junk.wav" in bad.message
    missing = worker.run_sync(EncodeReference(reference=ReferenceSpec(key="n", text="x", path=tmp_path / "no.wav")),
                              timeout=10)
    assert isinstance(missing, Failed) and "not found" in missing.message


def test_cancel_mid_generation_emits_cancelled_and_no_result(make_worker):
    worker, backend, events = make_worker(FakeBackend(frame_delay_s=0.02))
    req = Synthesize(text=" ".join(["word"] * 60), stream_frames=1)  # 120 frames, ~2.4 s
    first_chunk = threading.Event()

    def on_event(ev):
        if isinstance(ev, AudioChunk):
            first_chunk.set()

    worker.add_listener(on_event)
    worker.submit(req)
    assert first_chunk.wait(10)
    assert worker.cancel(req.job_id)
    end = _wait_terminal(events, req.job_id)
    assert isinstance(end, Cancelled)
    assert not events.of(req.job_id, Done) and not events.of(req.job_id, Failed)
    assert len(events.of(req.job_id, CodeFrame)) < 120  # it stopped between frames
    assert backend.open_generators == 0  # the generator was closed
    # The worker lives on with the model loaded.
    assert isinstance(worker.run_sync(Synthesize(text="after cancel"), timeout=10), Done)


def test_cancel_of_a_queued_job_never_runs_it(make_worker):
    worker, backend, events = make_worker(FakeBackend(frame_delay_s=0.02))
    long = Synthesize(text=" ".join(["word"] * 30))
    queued = Synthesize(text="never spoken")
    worker.submit(long)
    worker.submit(queued)
    worker.cancel(queued.job_id)
    assert isinstance(_wait_terminal(events, long.job_id), Done)
    assert isinstance(_wait_terminal(events, queued.job_id), Cancelled)
    assert "never spoken" not in backend.synth_calls
    assert not worker.cancel(long.job_id)  # finished jobs cannot be cancelled


def test_exception_in_a_job_is_failed_and_the_worker_lives_on(make_worker, caplog):
    backend = FakeBackend(fail_at_frame=3)
    worker, _, events = make_worker(backend)
    with caplog.at_level(logging.ERROR, logger="mynah.engine"):
        bad = worker.run_sync(Synthesize(text="this one will break halfway"), timeout=10)
    assert isinstance(bad, Failed)
    assert "exploded at frame 3" in bad.message and "Traceback" in bad.traceback
    assert not events.of(bad.job_id, Done)
    assert "exploded at frame 3" in caplog.text  # logged with the traceback
    assert worker.is_alive and worker.loaded_models == ("m1",) and not backend.unloaded
    backend.fail_at_frame = None
    assert isinstance(worker.run_sync(Synthesize(text="and this one works"), timeout=10), Done)


def test_non_finite_audio_fails_clearly(make_worker):
    class NaNBackend(FakeBackend):
        def synthesize(self, *a, **k):
            for step in super().synthesize(*a, **k):
                if step.audio is not None:
                    step.audio[:] = np.nan
                yield step

    worker, _, _ = make_worker(NaNBackend())
    ev = worker.run_sync(Synthesize(text="nan please"), timeout=10)
    assert isinstance(ev, Failed) and "NaN" in ev.message


def test_bad_text_gets_a_clear_message(make_worker):
    worker, _, _ = make_worker()
    for text in ("", "   \n\n ", "[pause 2s]"):
        ev = worker.run_sync(Synthesize(text=text), timeout=10)
        assert isinstance(ev, Failed) and "no text" in ev.message.lower(), (text, ev)


def test_pauses_become_exact_silence_and_long_text_is_chunked(make_worker):
    worker, backend, events = make_worker(FakeBackend(max_chars=40))
    text = ("The first sentence is here. The second one follows it closely. "
            "A third sentence ends the paragraph.[pause 1s]After the pause, one more.")
    req = Synthesize(text=text)
    done = worker.run_sync(req, timeout=10)
    assert isinstance(done, Done)
    assert len(done.result.text_chunks) >= 4 and all(len(c) <= 40 for c in backend.synth_calls)
    assert " ".join(done.result.text_chunks).split() == text.replace("[pause 1s]", " ").split()
    silences = [c for c in events.of(req.job_id, AudioChunk) if c.is_silence]
    assert len(silences) == 1 and len(silences[0].audio) == SR and not silences[0].audio.any()


def test_several_models_by_id(make_worker, tmp_path):
    worker, _, events = make_worker()
    (tmp_path / "m2").mkdir()
    assert isinstance(worker.run_sync(LoadModel(model_dir=tmp_path / "m2", model_id="m2"), timeout=10), Done)
    assert worker.loaded_models == ("m1", "m2")
    ambiguous = worker.run_sync(Synthesize(text="which model"), timeout=10)
    assert isinstance(ambiguous, Failed) and "Several models" in ambiguous.message
    ok = worker.run_sync(Synthesize(text="model two", model_id="m2"), timeout=10)
    assert isinstance(ok, Done) and ok.result.model_id == "m2"
    gone = worker.run_sync(Unload(model_id="m1"), timeout=10)
    assert gone.result == ["m1"] and worker.loaded_models == ("m2",)
    states = [e for e in events.items if isinstance(e, EngineState)]
    assert states[-1].state == "idle" and states[-1].models == ("m2",)


def test_load_failures_are_reported(make_worker, tmp_path):
    worker, _, _ = make_worker(FakeBackend(fail_on_load=True), load=False)
    missing = worker.run_sync(LoadModel(model_dir=tmp_path / "nope"), timeout=10)
    assert isinstance(missing, Failed) and "Model folder not found" in missing.message
    corrupt = worker.run_sync(LoadModel(model_dir=tmp_path), timeout=10)
    assert isinstance(corrupt, Failed) and "corrupt" in corrupt.message
    assert worker.loaded_models == ()
    nothing = worker.run_sync(Synthesize(text="hello"), timeout=10)
    assert isinstance(nothing, Failed) and "No model is loaded" in nothing.message


def test_state_events_tell_loading_busy_idle(make_worker, tmp_path):
    worker, _, events = make_worker(load=False)
    (tmp_path / "m").mkdir()
    load = LoadModel(model_dir=tmp_path / "m", model_id="m")
    worker.run_sync(load, timeout=10)
    synth = Synthesize(text="state check")
    worker.run_sync(synth, timeout=10)
    states = [(e.state, e.job_id) for e in events.items if isinstance(e, EngineState)]
    assert ("loading", load.job_id) in states and ("busy", synth.job_id) in states
    assert states.index(("loading", load.job_id)) < states.index(("busy", synth.job_id))
    assert _eventually(lambda: [e for e in events.items if isinstance(e, EngineState)][-1].state == "idle")


def test_evaluate_calls_the_scorer_lazily(make_worker, monkeypatch):
    calls = []

    class FakeScorer:
        def score(self, audio, sr, *, text=None, reference=None, reference_sr=None):
            calls.append((len(audio), sr, text, reference_sr))
            return {"wer": 0.0}

    monkeypatch.setitem(sys.modules, "engine.eval.scorer", types.SimpleNamespace(Scorer=FakeScorer))
    worker, _, _ = make_worker(load=False)
    ev = worker.run_sync(Evaluate(audio=np.ones(SR, np.float32), sample_rate=SR, text="hi",
                                  reference=np.ones(10, np.float32), reference_sr=SR), timeout=10)
    assert isinstance(ev, Done) and ev.result == {"wer": 0.0} and calls == [(SR, SR, "hi", SR)]
    empty = worker.run_sync(Evaluate(audio=np.zeros(0, np.float32), sample_rate=SR), timeout=10)
    assert isinstance(empty, Failed) and "no audio" in empty.message


def test_a_broken_listener_does_not_break_the_engine(make_worker):
    worker, _, _ = make_worker()

    def broken(ev):
        raise ValueError("listener bug")

    worker.add_listener(broken)
    assert isinstance(worker.run_sync(Synthesize(text="still works"), timeout=10), Done)


def test_shutdown_cancels_pending_and_unloads(make_worker):
    backend = FakeBackend(frame_delay_s=0.02)
    worker, _, events = make_worker(backend)
    running = Synthesize(text=" ".join(["word"] * 100))
    queued = Synthesize(text="queued")
    worker.submit(running)
    worker.submit(queued)
    worker.shutdown(timeout=10)
    assert not worker.is_alive
    assert isinstance(_wait_terminal(events, running.job_id), Cancelled)
    assert isinstance(_wait_terminal(events, queued.job_id), Cancelled)
    assert backend.unloaded
    with pytest.raises(RuntimeError):
        worker.submit(Synthesize(text="too late"))


def _eventually(cond, timeout=10.0):
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return False


def _wait_terminal(events, job_id, timeout=10.0):
    assert _eventually(lambda: events.of(job_id, (Done, Failed, Cancelled)), timeout), f"{job_id} never ended"
    (end,) = events.of(job_id, (Done, Failed, Cancelled))
    return end


def test_public_api_is_pinned():
    """Other areas call these names (docs/architecture/contracts.md); renaming one breaks them."""
    import engine.jobs as jobs
    import engine.worker as worker

    assert {"LoadModel", "EncodeReference", "Synthesize", "Evaluate", "Cancel", "Unload", "Progress",
            "AudioChunk", "CodeFrame", "Done", "Failed", "Cancelled", "EngineState", "ReferenceSpec",
            "SynthResult"} <= set(jobs.__all__)
    for name in ("start", "submit", "cancel", "add_listener", "remove_listener", "shutdown", "run_sync"):
        assert callable(getattr(worker.EngineWorker, name))
    assert Synthesize(text="x").job_id != Synthesize(text="x").job_id  # ids are generated and unique
