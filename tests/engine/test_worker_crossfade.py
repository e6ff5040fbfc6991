"""Chunk seams through the worker (fake backend: each chunk is a sine that restarts at phase 0, so a
plain join clicks): crossfades remove the click, streamed audio equals the final take, lengths add up,
pauses stay exact silence; plus the joiner alone against an offline reference."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from engine.backends.base import SamplingParams, VoicePrompt
from engine.jobs import AudioChunk, Done, Failed, LoadModel, Synthesize
from engine.worker import EngineWorker
from engine.worker_seams import SeamJoiner
from tests.engine.test_worker_fake_backend import SAMPLES_PER_FRAME, SR, FakeBackend

# Three sentences; with max_chars=40 the fake chunker makes one chunk per sentence.
TEXT = "The first part is here. Then a second part follows. And the third one ends it."
FADE_30MS = int(SR * 0.030)  # 240 samples at 8 kHz
# A pitch whose 0.8 s chunks (10 frames) end a quarter cycle off phase 0, where the next chunk's sine
# starts: a plain join jumps by the full amplitude there.
PITCH = 200.3125
INSIDE_STEP = 0.3 * 2 * np.sin(np.pi * PITCH / SR)  # largest sample-to-sample step inside a chunk


class PitchedFake(FakeBackend):
    def synthesize(self, text, voice, params, *, stream_frames=5):
        pitched = VoicePrompt(key="pitch", text="", n_frames=0, payload={"pitch": PITCH})
        return super().synthesize(text, pitched, params, stream_frames=stream_frames)


@pytest.fixture
def worker():
    backend = PitchedFake(max_chars=40)
    w = EngineWorker(lambda name: backend).start()
    folder = Path(tempfile.mkdtemp())
    assert isinstance(w.run_sync(LoadModel(model_dir=folder, backend="fake", model_id="m"), timeout=10), Done)
    yield w, backend
    w.shutdown()


def synth(worker, text=TEXT, crossfade_ms=30.0, stream_frames=2):
    w, backend = worker
    backend.synth_calls.clear()
    chunks = []
    # The seams are measured on the unmarked take (the watermark has its own tests).
    req = Synthesize(text=text, params=SamplingParams(seed=1), stream_frames=stream_frames,
                     crossfade_ms=crossfade_ms, watermark=False)
    done = w.run_sync(req, timeout=20, on_event=lambda e: chunks.append(e) if isinstance(e, AudioChunk) else None)
    assert isinstance(done, Done), getattr(done, "message", done)
    chunk_lengths = [max(2, len(t.split()) * backend.frames_per_word) * SAMPLES_PER_FRAME
                     for t in backend.synth_calls]
    return done.result, chunks, chunk_lengths


def seam_positions(chunk_lengths, overlap):
    """Where chunk i+1 starts in the take (no pauses)."""
    return list(np.cumsum(chunk_lengths)[:-1] - overlap * np.arange(1, len(chunk_lengths)))


def test_plain_joins_click_and_crossfaded_joins_do_not(worker):
    plain, _, lengths = synth(worker, crossfade_ms=0)
    assert len(lengths) == 3
    steps = np.abs(np.diff(plain.audio))
    seams = seam_positions(lengths, 0)
    # Without a crossfade the sine restarts at phase 0: a step far above anything inside a chunk.
    assert max(steps[s - 1] for s in seams) > 3 * INSIDE_STEP
    faded, _, lengths2 = synth(worker, crossfade_ms=30)
    assert lengths2 == lengths
    steps = np.abs(np.diff(faded.audio))
    for s in seam_positions(lengths, FADE_30MS):  # the whole overlap region and a margin around it
        region = steps[s - FADE_30MS - 50: s + FADE_30MS + 50]
        # Quarter-cycle-apart sines are uncorrelated, the case equal power is made for: the seam is
        # as smooth as the inside of a chunk (in-phase sines could bulge by up to sqrt(2)).
        assert region.max() <= INSIDE_STEP * 1.01
    assert steps.max() < 0.1  # the plain join's click was ~0.3


def test_streamed_chunks_are_exactly_the_final_take(worker):
    text = "[pause 0.25s] " + TEXT + "\n\nA new paragraph starts. [pause 0.5s] Last words here."
    for stream_frames in (1, 3):
        result, chunks, lengths = synth(worker, text=text, stream_frames=stream_frames)
        streamed = np.concatenate([c.audio for c in chunks])
        assert np.array_equal(streamed, result.audio)
        assert [c.start_sample for c in chunks] == list(np.cumsum([0] + [len(c.audio) for c in chunks[:-1]]))
        # 5 speech chunks; 3 seams are crossfaded, 2 meet a pause (blank line and [pause 0.5s]).
        assert len(lengths) == 5
        pauses = int(0.25 * SR) + int(0.6 * SR) + int(0.5 * SR)
        assert len(result.audio) == sum(lengths) - 2 * FADE_30MS + pauses
        silences = [c for c in chunks if c.is_silence]
        assert [len(c.audio) for c in silences] == [int(0.25 * SR), int(0.6 * SR), int(0.5 * SR)]
        assert all(not c.audio.any() for c in silences)


def test_pauses_stay_silent_with_only_a_short_ramp(worker):
    text = "One two three four five. [pause 1s] Six seven eight nine ten."
    plain, _, lengths = synth(worker, text=text, crossfade_ms=0)
    pause_start = lengths[0]  # no crossfade before it: the first chunk is whole
    assert abs(plain.audio[pause_start - 1]) > 0.25  # a plain join drops from full swing to silence
    result, chunks, lengths = synth(worker, text=text)
    audio = result.audio
    assert not audio[pause_start: pause_start + SR].any()  # exact, untouched silence
    assert audio[pause_start + SR] == pytest.approx(0, abs=0.02)  # speech ramps in from silence
    ramp = int(SR * 0.005)
    before = audio[pause_start - ramp - 80: pause_start - ramp]
    after = audio[pause_start + SR + ramp: pause_start + SR + ramp + 80]
    # Outside the few-ms ramps the speech is at full level (RMS of a 0.3 sine): no long fade into the pause.
    assert np.sqrt(np.mean(before ** 2)) == pytest.approx(0.3 / np.sqrt(2), rel=0.1)
    assert np.sqrt(np.mean(after ** 2)) == pytest.approx(0.3 / np.sqrt(2), rel=0.1)
    assert abs(audio[pause_start - 1]) < 0.02  # and it reaches silence without a step
    assert len(audio) == sum(lengths) + SR


def test_zero_crossfade_is_plain_concatenation_and_bad_values_fail(worker):
    result, chunks, lengths = synth(worker, crossfade_ms=0)
    assert len(result.audio) == sum(lengths)
    w, _ = worker
    ev = w.run_sync(Synthesize(text=TEXT, crossfade_ms=-5), timeout=10)
    assert isinstance(ev, Failed) and "crossfade" in ev.message and "0-500 ms" in ev.message


def test_recipe_records_the_crossfade_and_rerender_uses_it():
    from dataclasses import replace

    from studio.ui.synthesize.generation import GenerateSettings, build_jobs, request_from_recipe

    (job,) = build_jobs(TEXT, GenerateSettings(seed=3), model_id="m", info=None, voice=None, voice_id=None)
    assert job.recipe.crossfade_ms == job.request.crossfade_ms == 30.0
    assert request_from_recipe(job.recipe, None).crossfade_ms == 30.0
    old = replace(job.recipe, crossfade_ms=0.0)  # a take made before crossfades: re-render joins plainly
    assert request_from_recipe(old, None).crossfade_ms == 0.0


# ---- the joiner alone ------------------------------------------------------------------------

def offline_join(chunks, fade):
    """Reference: join whole chunks with an equal-power overlap of min(fade, len) samples."""
    out = np.zeros(0, np.float32)
    for c in chunks:
        m = min(fade, out.size, c.size)
        if m:
            t = (np.arange(m) + 0.5) / m * np.pi / 2
            mixed = out[out.size - m:] * np.cos(t).astype(np.float32) + c[:m] * np.sin(t).astype(np.float32)
            out = np.concatenate([out[:out.size - m], mixed, c[m:]])
        else:
            out = np.concatenate([out, c])
    return out


@pytest.mark.parametrize("sizes", [[900, 700, 1200], [900, 100, 1200], [50, 30, 2000], [500]])
def test_joiner_streaming_matches_offline_join_for_any_piece_sizes(sizes):
    rng = np.random.default_rng(0)
    chunks = [rng.standard_normal(n).astype(np.float32) for n in sizes]
    joiner, out = SeamJoiner(240), []
    for c in chunks:
        joiner.start_chunk()
        i = 0
        while i < c.size:  # uneven streaming pieces
            step = int(rng.integers(1, 400))
            out.append(joiner.push(c[i:i + step]))
            i += step
        out.append(joiner.end_chunk())
    out.append(joiner.finish())
    joined = np.concatenate(out)
    np.testing.assert_allclose(joined, offline_join(chunks, 240), atol=1e-6)
