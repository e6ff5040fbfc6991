"""DecodeCodes ("hear codebooks 1..k") through the worker: with a fake backend for the job's
contract (what is decoded, clear failures, cancel), and with the tiny random CSM checkpoint for what a
user hears (k=32 is the take, fewer levels lose detail)."""
from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from engine.backends.base import SamplingParams
from engine.jobs import Cancelled, DecodeCodes, DecodedAudio, Done, Failed, LoadModel, Synthesize
from engine.worker import EngineWorker
from tests.engine.test_worker_fake_backend import N_CODEBOOKS, SAMPLES_PER_FRAME, SR, FakeBackend


class LayeredFake(FakeBackend):
    """Each codebook level adds a higher harmonic, so the first k levels are audibly less."""

    def __init__(self, decode_delay_s: float = 0.0, **kw):
        super().__init__(**kw)
        self.decode_delay_s = decode_delay_s
        self.decode_calls: list[tuple[tuple[int, ...], int | None]] = []

    def decode_codes(self, codes, n_codebooks=None):
        self.decode_calls.append((codes.shape, n_codebooks))
        if self.decode_delay_s:
            time.sleep(self.decode_delay_s)
        t = np.arange(codes.shape[1] * SAMPLES_PER_FRAME) / SR
        k = n_codebooks or codes.shape[0]
        return sum(0.2 / (j + 1) * np.sin(2 * np.pi * 200 * (j + 1) * t) for j in range(k)).astype(np.float64)


def make(backend, load=True):
    w = EngineWorker(lambda name: backend).start()
    if load:
        ev = w.run_sync(LoadModel(model_dir=Path(tempfile.mkdtemp()), backend="fake", model_id="m"), timeout=10)
        assert isinstance(ev, Done)
    return w


@pytest.fixture
def fake():
    backend = LayeredFake()
    w = make(backend)
    yield w, backend
    w.shutdown()


def take_codes(n_frames=20):
    return np.random.default_rng(0).integers(0, 2048, size=(N_CODEBOOKS, n_frames))


def test_decodes_the_first_k_levels_into_a_float32_copy_with_its_rate(fake):
    w, backend = fake
    ev = w.run_sync(DecodeCodes(codes=take_codes(), n_codebooks=2, model_id="m"), timeout=10)
    assert isinstance(ev, Done), getattr(ev, "message", ev)
    res = ev.result
    assert isinstance(res, DecodedAudio) and res.sample_rate == SR and res.n_codebooks == 2
    assert res.audio.dtype == np.float32 and res.audio.shape == (20 * SAMPLES_PER_FRAME,)
    assert backend.decode_calls == [((N_CODEBOOKS, 20), 2)]
    full = w.run_sync(DecodeCodes(codes=take_codes(), n_codebooks=N_CODEBOOKS, model_id="m"), timeout=10).result
    spectrum = lambda x: np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(len(res.audio), 1 / SR)
    high = freqs > 500  # levels 3 and 4 (600, 800 Hz) are missing from k=2
    assert spectrum(full.audio)[high].sum() > 10 * spectrum(res.audio)[high].sum()


@pytest.mark.parametrize("k, codes, message", [
    (0, take_codes(), "between 1 and 4"),
    (5, take_codes(), "between 1 and 4"),
    (2, take_codes()[:3], "shape [3, 20]"),
    (2, take_codes()[0], "shape [20]"),
    (2, np.zeros((N_CODEBOOKS, 0), np.int64), "shape [4, 0]"),
    (2, take_codes().astype(np.float32), "integers"),
])
def test_bad_requests_fail_clearly_and_the_engine_goes_on(fake, k, codes, message):
    w, backend = fake
    ev = w.run_sync(DecodeCodes(codes=codes, n_codebooks=k, model_id="m"), timeout=10)
    assert isinstance(ev, Failed) and message in ev.message, ev
    assert backend.decode_calls == []
    assert isinstance(w.run_sync(DecodeCodes(codes=take_codes(), n_codebooks=1, model_id="m"), timeout=10), Done)


def test_no_model_loaded_fails_clearly():
    w = make(LayeredFake(), load=False)
    try:
        ev = w.run_sync(DecodeCodes(codes=take_codes(), n_codebooks=2, model_id="csm-1b"), timeout=10)
        assert isinstance(ev, Failed) and "'csm-1b' is not loaded" in ev.message
    finally:
        w.shutdown()


def test_cancel_while_decoding_or_queued():
    backend = LayeredFake(decode_delay_s=0.5)
    w = make(backend)
    try:
        running = DecodeCodes(codes=take_codes(), n_codebooks=2, model_id="m")
        queued = DecodeCodes(codes=take_codes(), n_codebooks=3, model_id="m")
        ends: dict[str, object] = {}
        finished = threading.Event()

        def listen(ev):
            if isinstance(ev, (Done, Failed, Cancelled)) and ev.job_id in (running.job_id, queued.job_id):
                ends[ev.job_id] = ev
                if len(ends) == 2:
                    finished.set()
        w.add_listener(listen)
        w.submit(running)
        w.submit(queued)
        deadline = time.time() + 5
        while w.current_job != running.job_id and time.time() < deadline:
            time.sleep(0.01)
        w.cancel(running.job_id)
        w.cancel(queued.job_id)
        assert finished.wait(10)
        assert isinstance(ends[running.job_id], Cancelled) and isinstance(ends[queued.job_id], Cancelled)
        assert len(backend.decode_calls) == 1  # the queued one never started
    finally:
        w.shutdown()


# ---- the tiny random CSM (real Mimi decoder) ---------------------------------------------------

@pytest.fixture(scope="module")
def csm_worker():
    pytest.importorskip("transformers", reason="tiny CSM checkpoints are written with transformers")
    import torch

    from engine.backends import get_backend
    from tests.engine.tiny_csm import cached_tiny_csm
    from tests.engine.tiny_mimi import cached_tiny_mimi

    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny model: thread fan-out only costs on a shared 2-core box
    w = EngineWorker(get_backend).start()
    # The tiny CSM's own codec has all-zero codebooks (a fresh random init), so its audio does not
    # depend on the codes at all; the tiny Mimi checkpoint spreads its codebooks like real ones.
    codec_dir, _ = cached_tiny_mimi()
    ev = w.run_sync(LoadModel(model_dir=cached_tiny_csm(), model_id="tiny-csm", device="cpu",
                              codec_dir=codec_dir), timeout=300)
    assert isinstance(ev, Done), getattr(ev, "traceback", ev)
    yield w
    w.shutdown()
    torch.set_num_threads(before)


def test_tiny_csm_take_decoded_with_fewer_codebooks_loses_detail(csm_worker):
    w = csm_worker
    done = w.run_sync(Synthesize(text="Hello there, this is a tiny test voice.", model_id="tiny-csm",
                                 params=SamplingParams(seed=1, max_audio_seconds=1.2), stream_frames=4,
                                 watermark=False),  # decoding the codes gives the unmarked take
                      timeout=300)
    assert isinstance(done, Done), getattr(done, "traceback", done)
    take = done.result
    assert take.codes.shape[0] == 32 and take.codes.shape[1] >= 2
    decoded = {}
    for k in (32, 16, 1):
        ev = w.run_sync(DecodeCodes(codes=take.codes, n_codebooks=k, model_id="tiny-csm"), timeout=120)
        assert isinstance(ev, Done), getattr(ev, "traceback", ev)
        assert ev.result.sample_rate == take.sample_rate
        decoded[k] = ev.result.audio
    n = len(take.audio)  # the backend may trim a silent tail from the take, never its start
    assert n <= len(decoded[32])
    np.testing.assert_allclose(decoded[32][:n], take.audio, atol=1e-4)  # all levels: the take itself
    assert np.isfinite(decoded[1]).all() and not np.allclose(decoded[1], decoded[32], atol=1e-3)
    err = {k: float(np.sqrt(np.mean((decoded[k] - decoded[32]) ** 2))) for k in (16, 1)}
    assert err[1] > err[16] > 0  # the fewer levels, the further from the full take
    ev = w.run_sync(DecodeCodes(codes=take.codes, n_codebooks=33, model_id="tiny-csm"), timeout=30)
    assert isinstance(ev, Failed) and "between 1 and 32" in ev.message
