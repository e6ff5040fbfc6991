"""Pocket TTS: our loader, voice encoding and frame loop give the pocket-tts package's numbers.

Random-weight models written in the Hub layout (tests/engine/tiny_pocket.py), loaded through our loader;
the package runs on the very same module objects, so any difference is in the code paths compared.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.backends.base import SamplingParams
from tests.engine.tiny_pocket import build_pocket, test_clip

TEXT = "Hello there, my friend."
NO_EOS = 1e9  # an EOS threshold no logit reaches: generation runs to its frame budget


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from engine.backends.pocket import PocketBackend

    folder = build_pocket(tmp_path_factory.mktemp("pocket") / "m", "tiny")
    b = PocketBackend()
    b.load(folder)
    return b


def package_run(model, state, text: str, seed: int, temperature: float, eos_threshold: float, **kw):
    """The package's own generation: (latents [n, ldim], audio [T]), with torch's own nn.Linear (our load
    routes the flow LM's one-row products through numpy's BLAS: the reference must not)."""
    from engine.lm.cpu_blas import BlasLinear

    routed = [m for m in model.modules() if type(m) is BlasLinear]
    assert routed, "our load should have routed the flow LM's linears (fp32 on the CPU)"
    for m in routed:
        m.__class__ = torch.nn.Linear
    try:
        return _package_run(model, state, text, seed, temperature, eos_threshold, **kw)
    finally:
        for m in routed:
            m.__class__ = BlasLinear


def _package_run(model, state, text: str, seed: int, temperature: float, eos_threshold: float, **kw):
    latents = []
    original = model.flow_lm._sample_next_latent

    def spy(*a, **k):
        out = original(*a, **k)
        latents.append(out[0].detach().clone())
        return out

    model.flow_lm._sample_next_latent = spy
    model.temp, model.eos_threshold = temperature, eos_threshold
    for k, v in kw.items():
        setattr(model, k, v)
    try:
        torch.manual_seed(seed)
        audio = torch.cat(list(model.generate_audio_stream(state, text, copy_state=True)))
    finally:
        del model.flow_lm._sample_next_latent
    return torch.cat(latents[1:]).numpy(), audio.numpy()  # [0] is the text prompt's discarded sample


def ours(backend, voice, text, seed, temperature, options, seconds=None):
    steps = list(backend.synthesize(text, voice, SamplingParams(temperature=temperature, seed=seed,
                                                               max_audio_seconds=seconds, options=options)))
    lat = np.stack([s.latent for s in steps if s.latent is not None])
    audio = np.concatenate([s.audio for s in steps if s.audio is not None])
    return lat, audio, steps


def test_voice_state_equals_the_packages(tiny):
    model = tiny._need().model
    clip = test_clip()
    mine = tiny.encode_reference(clip, 24000, "", "k").payload
    with torch.no_grad():
        theirs = model.get_state_for_audio_prompt(torch.from_numpy(clip)[None])
    assert set(mine) == set(theirs)
    for name in theirs:
        for key, t in theirs[name].items():
            assert mine[name][key].shape == t.shape, (name, key)
            assert torch.allclose(mine[name][key].float(), t.float(), atol=1e-4, rtol=0), (name, key)


@pytest.mark.parametrize("temperature,options", [(0.3, {}), (0.0, {}), (0.7, {"noise_clamp": 1.0, "decode_steps": 3})])
def test_same_seed_same_latents_and_audio_as_the_package(tiny, temperature, options):
    model = tiny._need().model
    voice = tiny.encode_reference(test_clip(), 24000, "", "k")
    opts = {"eos_threshold": NO_EOS, "trim_silence": False, **options}
    lat, audio, _ = ours(tiny, voice, TEXT, 7, temperature, opts, seconds=2.0)
    assert lat.shape[0] == 25
    kw = {"noise_clamp": options.get("noise_clamp"), "sampler_decode_steps": options.get("decode_steps", 1)}
    ref_lat, ref_audio = package_run(model, voice.payload, TEXT, 7, temperature, NO_EOS, **kw)
    np.testing.assert_allclose(lat, ref_lat[:25], atol=1e-4, rtol=0)
    n = 25 * 1920
    assert len(audio) == n
    np.testing.assert_allclose(audio, ref_audio[:n], atol=1e-4, rtol=0)
    assert np.abs(audio).max() > 1e-3  # real signal, not two silences that agree


def test_end_of_speech_where_the_package_stops(tiny):
    """With the model's own EOS threshold both stop on the same frame, with the same audio."""
    model = tiny._need().model
    voice = tiny.encode_reference(test_clip(), 24000, "", "k")
    thr = model.config.default_eos_threshold
    lat, audio, steps = ours(tiny, voice, TEXT, 3, 0.3, {"trim_silence": False})
    ref_lat, ref_audio = package_run(model, voice.payload, TEXT, 3, 0.3, thr, sampler_decode_steps=1,
                                     noise_clamp=None)
    assert steps[-1].stop_reason == "eos" and steps[-1].done
    assert len(audio) == len(ref_audio)
    np.testing.assert_allclose(audio, ref_audio, atol=1e-4, rtol=0)


def test_another_seed_gives_another_take(tiny):
    voice = tiny.encode_reference(test_clip(), 24000, "", "k")
    opts = {"eos_threshold": NO_EOS, "trim_silence": False}
    a = ours(tiny, voice, TEXT, 1, 0.3, opts, seconds=1.0)[1]
    b = ours(tiny, voice, TEXT, 1, 0.3, opts, seconds=1.0)[1]
    c = ours(tiny, voice, TEXT, 2, 0.3, opts, seconds=1.0)[1]
    assert np.array_equal(a, b)
    assert not np.allclose(a, c, atol=1e-3)


def test_streamed_audio_equals_decoding_the_whole_take_at_once(tiny):
    voice = tiny.encode_reference(test_clip(), 24000, "", "k")
    opts = {"eos_threshold": NO_EOS, "trim_silence": False}
    for stream_frames in (1, 3, 7):
        steps = list(tiny.synthesize(TEXT, voice, SamplingParams(temperature=0.3, seed=5, max_audio_seconds=2.0,
                                                                 options=opts), stream_frames=stream_frames))
        streamed = np.concatenate([s.audio for s in steps if s.audio is not None])
        latents = np.stack([s.latent for s in steps if s.latent is not None], axis=1)  # [ldim, T]
        whole = tiny.decode_latents(latents)
        assert len(streamed) == len(whole) == 25 * 1920
        np.testing.assert_allclose(streamed, whole, atol=1e-4, rtol=0)


def test_real_dimensions_of_the_smallest_english_model(tmp_path):
    """english_2m_2026-10 at its real dimensions (its full Mimi encoder included): same numbers."""
    from engine.backends.pocket import PocketBackend

    b = PocketBackend()
    info = b.load(build_pocket(tmp_path / "m", "english_2m_2026-10"))
    assert info.model_id == "pocket-tts/english_2m_2026-10"
    model = b._need().model
    voice = b.encode_reference(test_clip(), 24000, "", "k")
    with torch.no_grad():
        theirs = model.get_state_for_audio_prompt(torch.from_numpy(test_clip())[None])
    for name in theirs:
        assert torch.allclose(voice.payload[name]["cache"], theirs[name]["cache"], atol=1e-4, rtol=0)
    lat, audio, _ = ours(b, voice, TEXT, 11, 0.3, {"eos_threshold": NO_EOS, "trim_silence": False}, seconds=2.0)
    ref_lat, ref_audio = package_run(model, voice.payload, TEXT, 11, 0.3, NO_EOS)
    np.testing.assert_allclose(lat, ref_lat[:25], atol=1e-4, rtol=0)
    np.testing.assert_allclose(audio, ref_audio[: len(audio)], atol=1e-4, rtol=0)


def test_importing_the_package_leaves_torch_threads_alone():
    """pocket_tts sets torch's thread count to 1 for the whole process when imported; CSM and Whisper
    in the same process must keep theirs."""
    import subprocess
    import sys

    code = ("import torch; torch.set_num_threads(2)\n"
            "from engine.backends.pocket_load import import_pocket; import_pocket()\n"
            "print(torch.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "2"


def test_int8_on_the_cpu_generates_close_to_fp32(tmp_path):
    """The package's dynamic int8 recipe (attention and FFN linears) as dtype "int8": finite audio whose
    latents stay near the fp32 ones at temperature 0."""
    from engine.backends.pocket import PocketBackend

    folder = build_pocket(tmp_path / "m", "tiny")
    out = {}
    for dtype in ("fp32", "int8"):
        b = PocketBackend()
        info = b.load(folder, device="cpu", dtype=dtype)
        voice = b.encode_reference(test_clip(), 24000, "", "k")
        out[info.dtype] = ours(b, voice, TEXT, 1, 0.0, {"eos_threshold": NO_EOS, "trim_silence": False}, seconds=1.0)
    (lat32, audio32, _), (lat8, audio8, _) = out["float32"], out["int8-dynamic"]
    assert lat8.shape == lat32.shape and np.isfinite(audio8).all()
    assert 0 < np.abs(lat8 - lat32).max() < 0.5 * np.abs(lat32).max()


def test_guards_stop_a_silent_tail_and_a_take_that_never_ends(tiny, monkeypatch):
    """No EOS: the take stops at the package's frame budget ("max_frames"). Silence from some frame on:
    it stops there ("silence_tail") and keeps only a short decay, not the silence."""
    from engine.backends import pocket_generate
    from engine.backends.pocket_generate import frame_budget

    voice = tiny.encode_reference(test_clip(), 24000, "", "k")
    params = SamplingParams(temperature=0.3, seed=2, options={"eos_threshold": NO_EOS})
    steps = list(tiny.synthesize(TEXT, voice, params))
    n_tokens = tiny._need().model.flow_lm.conditioner.prepare(tiny._prepare(TEXT)[0]).shape[1]
    assert steps[-1].stop_reason == "max_frames" and steps[-1].done
    assert sum(s.latent is not None for s in steps) == frame_budget(n_tokens, 12.5)

    real_decode = pocket_generate.LatentDecoder.decode
    calls = {"n": 0}

    def silent_after_a_while(self, latents):
        calls["n"] += 1
        wav = real_decode(self, latents)
        return wav * 0 if calls["n"] > 3 else wav  # frame 0, then two groups of 5 frames of sound

    monkeypatch.setattr(pocket_generate.LatentDecoder, "decode", silent_after_a_while)
    steps = list(tiny.synthesize(TEXT, voice, params, stream_frames=5))
    audio = np.concatenate([s.audio for s in steps if s.audio is not None])
    assert steps[-1].stop_reason == "silence_tail"
    assert sum(s.latent is not None for s in steps) < frame_budget(n_tokens, 12.5)
    sound = 11 * 1920
    assert sound <= len(audio) <= sound + int(0.15 * 24000) + 1920
