"""Qwen3-TTS through the worker: a tiny random Base model in the Hub layout (reference-written
weights, cached per machine) -> a real reference recording -> speaker embedding -> streamed
synthesis -> wav; plus cancel and an injected failure on the real backend."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import soundfile as sf

from engine.backends.base import SamplingParams
from engine.jobs import (AudioChunk, Cancelled, CodeFrame, Done, EncodeReference, Failed, LoadModel,
                         ReferenceSpec, Synthesize)
from engine.worker import EngineWorker
from tests.engine.test_worker_csm import _collect, _wait_end

pytestmark = pytest.mark.slow
TEXT = "Hello there, this is a tiny test voice."


@pytest.fixture(scope="module")
def engine():
    import torch

    from engine.backends import get_backend
    from tests.engine.qwen3_ref.tiny import cached_full_model

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    backends = []

    def factory(name):
        backends.append(get_backend(name))
        return backends[-1]

    worker = EngineWorker(factory).start()
    ev = worker.run_sync(LoadModel(model_dir=cached_full_model(), backend="qwen3", model_id="tiny-qwen3",
                                   device="cpu"), timeout=600)
    assert isinstance(ev, Done), getattr(ev, "traceback", ev)
    yield worker, backends
    worker.shutdown()
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def reference(speech_clips):
    clip = min(speech_clips, key=lambda r: sf.info(str(r["path"])).duration)
    return ReferenceSpec(key=f"test:{clip['file']}", text=clip["transcript"].lower(), path=clip["path"])


def test_reference_to_streamed_wav(engine, reference, tmp_path):
    worker, _ = engine
    enc = worker.run_sync(EncodeReference(reference=reference), timeout=120)
    assert isinstance(enc, Done), getattr(enc, "traceback", enc)
    assert enc.result.n_frames == pytest.approx(sf.info(str(reference.path)).duration * 12.5, abs=2)
    events, listen = _collect(worker)
    try:
        # Unmarked, so the streamed preview must equal the take exactly (test_worker_watermark proves
        # the saved take of every backend is marked).
        req = Synthesize(text=TEXT, voice=reference, stream_frames=2, watermark=False,
                         params=SamplingParams(seed=1, max_audio_seconds=1.6, repetition_penalty=1.05,
                                               options={"language": "english", "repeat_frames": 10_000,
                                                        "silence_tail_s": 1000.0}))
        done = worker.run_sync(req, timeout=300)
    finally:
        worker.remove_listener(listen)
    assert isinstance(done, Done), getattr(done, "traceback", done)
    result = done.result
    chunks = [e for e in events if isinstance(e, AudioChunk) and e.job_id == req.job_id]
    frames = [e for e in events if isinstance(e, CodeFrame) and e.job_id == req.job_id]
    assert len(chunks) >= 2  # streamed while generating
    assert np.array_equal(np.concatenate([c.audio for c in chunks]), result.audio)
    assert result.sample_rate == 24000 and result.codes.shape == (16, len(frames))
    assert np.isfinite(result.audio).all() and np.abs(result.audio).max() > 0
    out = tmp_path / "take.wav"
    sf.write(out, result.audio, result.sample_rate)
    back, sr = sf.read(out, dtype="float32")
    assert sr == 24000 and len(back) == len(result.audio) and len(back) / sr > 0.3


def test_cancel_mid_generation(engine, reference):
    worker, _ = engine
    events, listen = _collect(worker)
    got_audio = threading.Event()

    def on_chunk(ev):
        if isinstance(ev, AudioChunk):
            got_audio.set()

    worker.add_listener(on_chunk)
    try:
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
    assert len([e for e in events if isinstance(e, CodeFrame) and e.job_id == req.job_id]) < 250


def test_injected_failure_keeps_the_model_loaded(engine, reference, monkeypatch):
    worker, backends = engine
    backend = backends[-1]
    real = backend.synthesize

    def nan_in_second_chunk(*args, **kwargs):
        n = 0
        for step in real(*args, **kwargs):
            if step.audio is not None:
                n += 1
                if n == 2:
                    step.audio = np.full_like(step.audio, np.nan)
            yield step

    monkeypatch.setattr(backend, "synthesize", nan_in_second_chunk)
    params = SamplingParams(seed=3, max_audio_seconds=1.2, options={"repeat_frames": 10_000,
                                                                    "silence_tail_s": 1000.0})
    bad = worker.run_sync(Synthesize(text=TEXT, voice=reference, params=params, stream_frames=2), timeout=300)
    assert isinstance(bad, Failed) and "NaN" in bad.message
    monkeypatch.undo()
    good = worker.run_sync(Synthesize(text=TEXT, voice=reference, params=params, stream_frames=2), timeout=300)
    assert isinstance(good, Done), getattr(good, "traceback", good)
    assert np.isfinite(good.result.audio).all() and len(backends) == 1  # no reload


def test_cli_synth_reads_the_family_from_the_folder(reference, tmp_path, capsys):
    """`mynah synth --model` on a Qwen3-TTS folder: no --backend, no transcript needed."""
    import torch

    from studio.cli import main
    from tests.engine.qwen3_ref.tiny import cached_full_model

    out = tmp_path / "cli.wav"
    before = torch.get_num_threads()
    try:
        rc = main(["synth", "--model", str(cached_full_model()), "--voice", str(reference.path),
                   "--text", TEXT, "-o", str(out), "--seed", "5", "--max-seconds", "1.0", "--stream",
                   "--device", "cpu", "--language", "english", "--threads", "1"])
    finally:
        torch.set_num_threads(before)
    err = capsys.readouterr().err
    assert rc == 0, err
    audio, sr = sf.read(out, dtype="float32")
    assert sr == 24000 and 0.1 < len(audio) / sr <= 1.2 and np.isfinite(audio).all()
    rc = main(["synth", "--model", str(cached_full_model()), "--text", TEXT, "-o", str(tmp_path / "x.wav"),
               "--device", "cpu", "--language", "klingon", "--threads", "1"])
    assert rc != 0 and "klingon" in capsys.readouterr().err


def test_a_transcript_makes_the_voice_clone_in_context(engine, reference):
    worker, backends = engine
    audio, sr = sf.read(str(reference.path), dtype="float32")
    with_text = backends[-1].encode_reference(audio, sr, reference.text, "a")
    sound_only = backends[-1].encode_reference(audio, sr, "", "b")
    codes = with_text.payload["ref_codes"]
    assert codes.shape == (with_text.n_frames, 16) and codes.max() < 2048
    assert "ref_codes" not in sound_only.payload
    np.testing.assert_array_equal(with_text.payload["speaker_embedding"], sound_only.payload["speaker_embedding"])
    with pytest.raises(ValueError, match="half a second"):
        backends[-1].encode_reference(audio[: sr // 10], sr, "", "c")


def test_long_text_is_cut_into_chunks_that_fit(engine):
    _, backends = engine
    backend = backends[-1]
    long_text = " ".join(["This sentence is here to make the script long enough to need splitting."] * 60)
    chunks = backend.split_text(long_text, None)
    assert len(chunks) > 1 and " ".join(chunks).split() == long_text.split()  # nothing lost
    for c in chunks:
        backend._budget(c, None)  # each fits the position budget (raises otherwise)


def test_a_rerender_with_the_recipe_is_bit_identical(engine, reference):
    worker, _ = engine
    params = SamplingParams(seed=11, max_audio_seconds=1.0, repetition_penalty=1.05,
                            options={"language": "english", "repeat_frames": 10_000, "silence_tail_s": 1000.0})
    takes = [worker.run_sync(Synthesize(text=TEXT, voice=reference, params=params, stream_frames=3), timeout=300)
             for _ in range(2)]
    assert all(isinstance(t, Done) for t in takes), takes
    a, b = (t.result for t in takes)
    assert np.array_equal(a.codes, b.codes) and np.array_equal(a.audio, b.audio) and len(a.audio) > 0


def test_cli_synth_detects_the_language_of_the_text(tmp_path, capsys, monkeypatch):
    """`mynah synth` on Chinese text with a Qwen3 model: it picks Chinese and says so, the take asks for
    it as the Synthesize workspace's does; --language overrides; a language the model does not speak
    is refused, with the ones it does, before the model is loaded."""
    from types import SimpleNamespace

    import torch

    from engine.worker import EngineWorker
    from studio.cli import main
    from studio.ui.synthesize import model_choice
    from tests.engine.qwen3_ref.tiny import cached_full_model

    sent = []
    submit = EngineWorker.submit
    monkeypatch.setattr(EngineWorker, "submit", lambda self, req: (sent.append(req), submit(self, req))[1])
    text = "今天天气很好，我们去公园散步吧。"
    before = torch.get_num_threads()

    def synth(*extra: str) -> tuple[int, str]:
        out = tmp_path / f"take{len(sent)}.wav"
        try:
            rc = main(["synth", "--model", str(cached_full_model()), "--text", text, "-o", str(out), "--seed", "5",
                       "--max-seconds", "0.2", "--device", "cpu", "--threads", "1", *extra])
        finally:
            torch.set_num_threads(before)
        return rc, capsys.readouterr().err

    rc, err = synth()
    assert rc == 0, err
    assert "Language: Chinese (detected from the text; --language overrides)" in err
    req = next(r for r in reversed(sent) if isinstance(r, Synthesize))
    gui = SimpleNamespace(language_combo=SimpleNamespace(currentData=lambda: model_choice.DETECT),
                          text_edit=SimpleNamespace(toPlainText=lambda: text))
    assert req.params.options["language"] == "chinese" == model_choice.take_language(gui)  # the recipe's value

    rc, err = synth("--language", "ja")  # an ISO code or a name
    assert rc == 0 and "Language: Japanese (--language)" in err, err
    assert next(r for r in reversed(sent) if isinstance(r, Synthesize)).params.options["language"] == "japanese"

    n = len(sent)
    rc, err = synth("--language", "Klingon")
    assert rc == 2 and "does not speak 'Klingon'" in err and "auto, chinese, english" in err, err
    assert len(sent) == n and "Loading" not in err  # refused before loading anything


def test_a_long_voice_description_never_runs_past_the_cache(tmp_path, monkeypatch):
    """A style instruction (CustomVoice) or voice description (VoiceDesign) is in every chunk's prompt,
    which the worker's chunks do not count: a chunk packed to the limit, taken to its frame cap, is made
    in two pieces instead of failing past the talker's KV cache."""
    import json
    import shutil

    import torch

    from engine.backends import qwen3_generate
    from engine.backends.qwen3 import Qwen3Backend
    from tests.engine.qwen3_ref.tiny import cached_full_model
    from tests.engine.qwen3_texts import ENGLISH

    folder = tmp_path / "custom"
    shutil.copytree(cached_full_model(), folder, ignore=shutil.ignore_patterns("build*", ".complete"))
    cfg = json.loads((folder / "config.json").read_text())
    cfg["tts_model_type"] = "custom_voice"
    (folder / "config.json").write_text(json.dumps(cfg))
    monkeypatch.setattr(qwen3_generate, "MIN_FRAMES", 10**9)  # no end-of-speech: every chunk runs to its cap
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        backend = Qwen3Backend()
        backend.load(folder, device="cpu")
        chunk = backend.split_text(ENGLISH, None)[0]  # what the worker sends: packed to the limit
        description = "A warm, low voice, slow and calm, with a slight rasp, like a storyteller by a fire. " * 8
        params = SamplingParams(temperature=0.0, top_k=0, seed=1, options={
            "speaker": "ryan", "instruct": description, "codes_only": True, "repeat_frames": 10**6,
            "silence_tail_s": 1000.0})
        stops = [(s.text_chunk_index, s.stop_reason) for s in backend.synthesize(chunk, None, params) if s.stop_reason]
    finally:
        torch.set_num_threads(before)
    assert stops == [(0, "max_frames"), (1, "max_frames")]
