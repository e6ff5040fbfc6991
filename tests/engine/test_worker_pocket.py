"""Pocket TTS through the worker: a random model in the Hub layout -> a real recording -> a stored voice
state -> streamed latents and audio; re-render bit for bit; cancel; an injected NaN; preset voices and the
no-cloning message."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import soundfile as sf

from engine.backends.base import SamplingParams
from engine.jobs import (AudioChunk, Cancelled, Done, Failed, LatentFrame, LoadModel, Progress, ReferenceSpec,
                         Synthesize)
from engine.worker import EngineWorker
from tests.engine.tiny_pocket import build_pocket

TEXT = "Hello there, this is a test. It speaks two sentences."
NO_EOS = {"eos_threshold": 1e9}


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("pocket")
    return {"cloning": build_pocket(root / "clone", "tiny"),
            "presets": build_pocket(root / "presets", "tiny", seed=1, cloning=False, presets=("alba", "marius"))}


@pytest.fixture()
def engine():
    from engine.backends import get_backend

    backends = []

    def factory(name):
        backends.append(get_backend(name))
        return backends[-1]

    worker = EngineWorker(factory).start()
    yield worker, backends
    worker.shutdown()


@pytest.fixture(scope="module")
def reference(speech_clips):
    clip = min(speech_clips, key=lambda r: sf.info(str(r["path"])).duration)
    return clip


def _collect(worker):
    events, lock = [], threading.Lock()

    def listen(ev):
        with lock:
            events.append(ev)

    worker.add_listener(listen)
    return events


def _load(worker, folder, model_id="pocket"):
    ev = worker.run_sync(LoadModel(model_dir=folder, backend="pocket", model_id=model_id, device="cpu"), timeout=120)
    assert isinstance(ev, Done), getattr(ev, "traceback", ev)
    return ev.result


def test_streamed_take_with_a_stored_voice_and_a_bit_identical_rerender(engine, folders, reference, tmp_path):
    worker, backends = engine
    info = _load(worker, folders["cloning"])
    assert info.backend == "pocket" and info.device == "cpu" and info.dtype == "float32"
    spec = ReferenceSpec(key="voice1-clip1", text="", path=reference["path"], state_dir=tmp_path / "states")
    events = _collect(worker)
    # Unmarked, so the streamed preview must equal the take exactly (test_worker_watermark proves the
    # saved take of every backend is marked).
    req = Synthesize(text=TEXT, voice=spec, stream_frames=2, params=SamplingParams(temperature=0.3, seed=4),
                     watermark=False)
    done = worker.run_sync(req, timeout=120)
    assert isinstance(done, Done), getattr(done, "traceback", done)
    r = done.result
    chunks = [e for e in events if isinstance(e, AudioChunk) and e.job_id == req.job_id]
    frames = [e for e in events if isinstance(e, LatentFrame) and e.job_id == req.job_id]
    assert len(chunks) >= 2 and np.array_equal(np.concatenate([c.audio for c in chunks]), r.audio)
    assert r.codes is None and r.latents.shape == (16, len(frames)) and len(frames) > 6
    assert np.array_equal(np.stack([f.latent for f in frames], axis=1), r.latents)
    # Sentences over the 50-token chunk budget are generated one after the other, each to its own stop.
    assert r.text_chunks == ["Hello there, this is a test.", "It speaks two sentences."]
    assert len(r.stop_reasons) == 2 and set(r.stop_reasons) <= {"eos", "max_frames", "silence_tail"}
    stored = list((tmp_path / "states").glob("*.safetensors"))
    assert len(stored) == 1  # the encoded voice went to the library

    # A fresh engine (the app reopened): the voice comes from the stored state, not the clip, and the
    # same recipe renders the same samples.
    worker.shutdown()
    again = EngineWorker().start()
    try:
        _load(again, folders["cloning"])
        events2 = _collect(again)
        spec2 = ReferenceSpec(key="voice1-clip1", text="", path=tmp_path / "gone.wav", state_dir=tmp_path / "states")
        done2 = again.run_sync(Synthesize(text=TEXT, voice=spec2, stream_frames=2, watermark=False,
                                          params=SamplingParams(temperature=0.3, seed=4)), timeout=120)
        assert isinstance(done2, Done), getattr(done2, "traceback", done2)
        assert not [e for e in events2 if isinstance(e, Progress) and e.message == "Encoding the reference voice"]
        assert np.array_equal(done2.result.audio, r.audio)
    finally:
        again.shutdown()


def test_cancel_between_frames(engine, folders, reference):
    worker, _ = engine
    _load(worker, folders["cloning"])
    events = _collect(worker)
    got_audio = threading.Event()
    worker.add_listener(lambda ev: got_audio.set() if isinstance(ev, AudioChunk) else None)
    params = SamplingParams(seed=2, max_audio_seconds=60.0, options={**NO_EOS, "trim_silence": False})
    req = Synthesize(text=TEXT, voice=ReferenceSpec(key="r", text="", path=reference["path"]), stream_frames=1,
                     params=params)
    worker.submit(req)
    assert got_audio.wait(60)
    worker.cancel(req.job_id)
    end = _wait_end(events, req.job_id)
    assert isinstance(end, Cancelled)
    assert not [e for e in events if e.job_id == req.job_id and isinstance(e, (Done, Failed))]
    assert len([e for e in events if isinstance(e, LatentFrame) and e.job_id == req.job_id]) < 2 * 750


def test_injected_nan_fails_clearly_and_the_model_stays_loaded(engine, folders, reference, monkeypatch):
    import torch

    from engine.backends import pocket_generate

    worker, backends = engine
    _load(worker, folders["cloning"])
    real_noise = pocket_generate.LatentSampler._noise
    calls = {"n": 0}

    def nan_noise(self):  # what an overflow looks like downstream: NaN after a few frames
        calls["n"] += 1
        out = real_noise(self)
        return torch.full_like(out, float("nan")) if calls["n"] == 5 else out

    monkeypatch.setattr(pocket_generate.LatentSampler, "_noise", nan_noise)
    voice = ReferenceSpec(key="r", text="", path=reference["path"])
    bad = worker.run_sync(Synthesize(text=TEXT, voice=voice, params=SamplingParams(seed=3)), timeout=120)
    assert isinstance(bad, Failed) and "NaN" in bad.message
    monkeypatch.undo()
    assert worker.is_alive and worker.loaded_models == ("pocket",) and len(backends) == 1
    good = worker.run_sync(Synthesize(text=TEXT, voice=voice, params=SamplingParams(seed=3)), timeout=120)
    assert isinstance(good, Done) and np.isfinite(good.result.audio).all()


def test_preset_voices_work_and_cloning_without_its_weights_says_why(engine, folders, reference):
    worker, backends = engine
    _load(worker, folders["presets"])
    assert sorted(backends[-1].preset_voices) == ["alba", "marius"]
    preset = backends[-1].preset_voices["alba"]
    done = worker.run_sync(Synthesize(text=TEXT, voice=ReferenceSpec(key="preset:alba", text="", path=preset),
                                      params=SamplingParams(seed=1)), timeout=120)
    assert isinstance(done, Done), getattr(done, "traceback", done)
    other = worker.run_sync(Synthesize(text=TEXT, voice=ReferenceSpec(key="preset:marius", text="",
                                                                      path=backends[-1].preset_voices["marius"]),
                                       params=SamplingParams(seed=1)), timeout=120)
    assert not np.array_equal(other.result.audio[:4000], done.result.audio[:4000])  # the voice matters
    clone = worker.run_sync(Synthesize(text=TEXT, voice=ReferenceSpec(key="r", text="", path=reference["path"]),
                                       params=SamplingParams(seed=1)), timeout=120)
    assert isinstance(clone, Failed)
    assert "without voice cloning" in clone.message and "alba" in clone.message and "huggingface.co" in clone.message


def _wait_end(events, job_id, timeout=60.0):
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        hits = [e for e in list(events) if e.job_id == job_id and isinstance(e, (Done, Failed, Cancelled))]
        if hits:
            return hits[0]
        time.sleep(0.02)
    raise AssertionError(f"{job_id} did not end")


def test_text_is_normalized_for_the_models_language(engine, folders, tmp_path):
    """English spelling-out is for English models: a French model keeps "3" and "&" for itself."""
    import shutil

    worker, _ = engine
    french = tmp_path / "fr"
    shutil.copytree(folders["cloning"], french)
    (french / "languages" / "tiny").rename(french / "languages" / "french_test")
    text = "J'ai 3 chats & 2 chiens."
    _load(worker, french, "fr")
    fr = worker.run_sync(Synthesize(text=text, model_id="fr", params=SamplingParams(seed=1, max_audio_seconds=0.5)),
                         timeout=60)
    assert isinstance(fr, Done), getattr(fr, "traceback", fr)
    assert "3" in " ".join(fr.result.text_chunks) and "three" not in " ".join(fr.result.text_chunks)
    _load(worker, folders["cloning"], "en")
    en = worker.run_sync(Synthesize(text="I have 3 cats.", model_id="en",
                                    params=SamplingParams(seed=1, max_audio_seconds=0.5)), timeout=60)
    assert "three" in " ".join(en.result.text_chunks).lower()
