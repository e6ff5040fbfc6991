"""Our Qwen3-TTS speaker encoder (log-mel + ECAPA-TDNN) equals the reference's on real speech."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from engine.audio.resample import resample
from engine.backends.qwen3_speaker import load_speaker_encoder, log_mel, slaney_mel_filterbank
from engine.hub.checkpoint import open_checkpoint, read_json
from tests.engine.qwen3_ref import tiny
from tests.engine.tiny_csm import single_thread

pytestmark = pytest.mark.slow  # runs the reference environment
_threads = pytest.fixture(scope="module", autouse=True)(single_thread)


@pytest.fixture(scope="module")
def clip(speech_clips):
    x, sr = sf.read(str(speech_clips[0]["path"]), dtype="float32")
    return resample(x, sr, 24000)[: 24000 * 3]


@pytest.fixture(scope="module")
def ref(tmp_path_factory, clip):
    folder = tiny.write_model_dir(tmp_path_factory.mktemp("qwen3-spk"), "0.6b")
    return folder, tiny.reference_speaker(folder, clip, folder / "spk.npz")


def test_mel_filterbank_is_librosas_slaney():
    fb = slaney_mel_filterbank(24000, 1024, 128, 0, 12000)
    assert fb.shape == (128, 513) and np.all(fb.sum(1) > 0)  # no empty band at 24 kHz / 1024
    # Slaney-normalised: each triangle's area is 1 over its width in Hz (2 / (hi - lo) tall)
    assert 0.0 < fb.max() < 0.05


def test_log_mel_and_embedding_equal_the_reference(ref, clip):
    folder, expected = ref
    mel = log_mel(torch.from_numpy(clip))
    np.testing.assert_allclose(mel.numpy(), expected["mel"], atol=1e-4, rtol=0)
    enc = load_speaker_encoder(open_checkpoint(folder), read_json(folder / "config.json")["speaker_encoder_config"],
                               torch.device("cpu"), torch.float32)
    emb = enc.embed(clip)
    assert emb.shape == (tiny.SHAPES["0.6b"]["talker"],)
    np.testing.assert_allclose(emb.numpy(), expected["embedding"], atol=1e-4, rtol=0)
    other = enc.embed(clip[::-1].copy())  # the same sounds backwards: a different embedding
    assert np.abs(other.numpy() - emb.numpy()).max() > 1e-3
