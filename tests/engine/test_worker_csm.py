"""The full pipeline through the worker: a tiny random CSM checkpoint in the real on-disk layout ->
a real reference recording -> encode -> streamed synthesis -> wav; plus cancel and an injected
failure on the real backend. Slow-ish (builds the checkpoint once per module)."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import soundfile as sf

from engine.backends.base import SamplingParams
from engine.jobs import (AudioChunk, Cancelled, CodeFrame, Done, EncodeReference, Failed, LoadModel,
                         ReferenceSpec, Synthesize)
from engine.worker import EngineWorker

pytest.importorskip("transformers", reason="tiny CSM checkpoints are written with transformers (dev extra)")
pytestmark = pytest.mark.slow

TEXT = "Hello there, this is a tiny test voice."


@pytest.fixture(scope="module")
def one_torch_thread():
    # On a loaded 2-core machine, intra-op thread fan-out makes the tiny model's per-step ops ~8x
    # slower (measured: 33 s vs 4 s for 13 frames); one thread keeps this module quick.
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def csm_engine(one_torch_thread):
    from engine.backends import get_backend
    from tests.engine.tiny_csm import cached_tiny_csm

    backends = []

    def factory(name):
        backends.append(get_backend(name))
        return backends[-1]

    worker = EngineWorker(factory).start()
    ev = worker.run_sync(LoadModel(model_dir=cached_tiny_csm(), model_id="tiny-csm", device="cpu"), timeout=300)
    assert isinstance(ev, Done), getattr(ev, "traceback", ev)
    yield worker, backends
    worker.shutdown()


@pytest.fixture(scope="module")
def reference(speech_clips):
    # A short real clip keeps the tiny model's prompt small; the transcript is the real one.
    clip = min(speech_clips, key=lambda r: sf.info(str(r["path"])).duration)
    return ReferenceSpec(key=f"test:{clip['file']}", text=clip["transcript"].lower(), path=clip["path"])


def _collect(worker):
    events, lock = [], threading.Lock()

    def listen(ev):
        with lock:
            events.append(ev)

    worker.add_listener(listen)
    return events, listen


def test_reference_to_streamed_wav(csm_engine, reference, tmp_path):
    worker, backends = csm_engine
    enc = worker.run_sync(EncodeReference(reference=reference), timeout=120)
    assert isinstance(enc, Done), getattr(enc, "traceback", enc)
    info = sf.info(str(reference.path))
    assert enc.result.n_frames == pytest.approx(info.duration * 12.5, abs=2)  # Mimi: 12.5 frames/s
    events, listen = _collect(worker)
    try:
        req = Synthesize(text=TEXT, voice=reference, stream_frames=2, watermark=False,
                         params=SamplingParams(seed=1, max_audio_seconds=1.6))
        done = worker.run_sync(req, timeout=300)
    finally:
        worker.remove_listener(listen)
    assert isinstance(done, Done), getattr(done, "traceback", done)
    result = done.result
    chunks = [e for e in events if isinstance(e, AudioChunk) and e.job_id == req.job_id]
    frames = [e for e in events if isinstance(e, CodeFrame) and e.job_id == req.job_id]
    assert len(chunks) >= 2  # streamed while generating
    assert np.array_equal(np.concatenate([c.audio for c in chunks]), result.audio)
    assert result.sample_rate == 24000 and result.codes.shape == (32, len(frames))
    assert np.isfinite(result.audio).all() and np.abs(result.audio).max() > 0
    out = tmp_path / "take.wav"
    sf.write(out, result.audio, result.sample_rate)
    back, sr = sf.read(out, dtype="float32")
    assert sr == 24000 and len(back) == len(result.audio) and len(back) / sr > 0.3
    # The voice was encoded once, then reused from the cache.
    assert all(e.message != "Encoding the reference voice" for e in events if hasattr(e, "message"))


def test_cancel_mid_generation_on_the_real_backend(csm_engine, reference):
    worker, _ = csm_engine
    events, listen = _collect(worker)
    got_audio = threading.Event()

    def on_chunk(ev):
        if isinstance(ev, AudioChunk):
            got_audio.set()

    worker.add_listener(on_chunk)
    try:
        # Guards relaxed so only the cancel (not a runaway guard) can end this take early.
        params = SamplingParams(seed=2, max_audio_seconds=20.0,
                                options={"repeat_frames": 10_000, "silence_tail_s": 1000.0})
        req = Synthesize(text=TEXT, voice=reference, stream_frames=1, params=params)
        worker.submit(req)
        assert got_audio.wait(120)
        worker.cancel(req.job_id)
        end = _wait_end(events, req.job_id)
    finally:
        worker.remove_listener(listen)
        worker.remove_listener(on_chunk)
    assert isinstance(end, Cancelled)
    assert not [e for e in events if e.job_id == req.job_id and isinstance(e, (Done, Failed))]
    assert len([e for e in events if isinstance(e, CodeFrame) and e.job_id == req.job_id]) < 250


def test_injected_failure_keeps_the_model_loaded(csm_engine, reference, monkeypatch):
    worker, backends = csm_engine
    backend = backends[-1]
    real_synthesize = backend.synthesize

    def nan_after_first_chunk(*args, **kwargs):  # what an fp16 overflow looks like downstream
        chunks = 0
        for step in real_synthesize(*args, **kwargs):
            if step.audio is not None:
                chunks += 1
                if chunks == 2:
                    step.audio = np.full_like(step.audio, np.nan)
            yield step

    monkeypatch.setattr(backend, "synthesize", nan_after_first_chunk)
    params = SamplingParams(seed=3, max_audio_seconds=1.2)
    bad = worker.run_sync(Synthesize(text=TEXT, voice=reference, params=params, stream_frames=2), timeout=300)
    assert isinstance(bad, Failed) and "NaN" in bad.message
    monkeypatch.undo()
    assert worker.is_alive and worker.loaded_models == ("tiny-csm",) and len(backends) == 1
    good = worker.run_sync(Synthesize(text=TEXT, voice=reference, params=params, stream_frames=2), timeout=300)
    assert isinstance(good, Done), getattr(good, "traceback", good)
    assert np.isfinite(good.result.audio).all()
    assert len(backends) == 1  # the same loaded model served it: no reload


def _wait_end(events, job_id, timeout=120.0):
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        hits = [e for e in list(events) if e.job_id == job_id and isinstance(e, (Done, Failed, Cancelled))]
        if hits:
            return hits[0]
        time.sleep(0.02)
    raise AssertionError(f"{job_id} did not end")


def test_cli_synth_with_the_tiny_checkpoint(one_torch_thread, reference, tmp_path, capsys):
    from studio.cli import main
    from tests.engine.tiny_csm import cached_tiny_csm

    out = tmp_path / "cli.wav"
    rc = main(["synth", "--model", str(cached_tiny_csm()), "--voice", str(reference.path),
               "--voice-text", reference.text, "--text", TEXT, "-o", str(out), "--seed", "5",
               "--max-seconds", "1.0", "--stream", "--device", "cpu"])
    err = capsys.readouterr().err
    assert rc == 0, err
    audio, sr = sf.read(out, dtype="float32")
    assert sr == 24000 and 0.2 < len(audio) / sr <= 1.2 and np.isfinite(audio).all()
