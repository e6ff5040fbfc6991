"""The Perth watermark: our torch re-implementation against Resemble AI's package, and the edges."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from engine.audio.resample import resample



@pytest.fixture(scope="module")
def clips32(speech_clips):
    """Two real speech clips (one per corpus) at the net's own rate, 32 kHz."""
    picked = [c for c in speech_clips if c["file"].startswith("cmuarctic")][:1] + \
             [c for c in speech_clips if c["file"].startswith("librispeech")][:1]
    out = []
    for c in picked:
        x, sr = sf.read(str(c["path"]), dtype="float32")
        out.append(resample(x, sr, 32000))
    return out


def test_embed_and_detect_equal_resemble_perth(clips32):
    """Same input to the net (32 kHz): marked audio and scores equal the package's within 1e-4."""
    import engine.provenance as wm
    from tests.engine.perth_reference import reference_watermarker

    with reference_watermarker() as ref:
        for x in clips32:
            theirs = ref.apply_watermark(x, sample_rate=32000)  # torchaudio's istft: a whole number of hops
            ours = wm.embed(x, 32000)
            assert ours.shape == x.shape  # ours keeps the length
            assert np.abs(ours[:theirs.size] - theirs).max() < 1e-4
            assert np.abs(ours - x).max() > 1e-3  # a mark was added at all
            for audio in (x, theirs):
                ref_score = float(ref.get_watermark(audio, sample_rate=32000, round=False))
                assert abs(wm.detect(audio, 32000) - ref_score) < 1e-4
            assert wm.detect(ours, 32000) > 0.95 and wm.detect(x, 32000) < 0.05


def test_any_sample_rate_and_channels(clips32):
    import engine.provenance as wm

    x = clips32[0]
    for sr in (24000, 44100, 48000):
        y = resample(x, 32000, sr)
        marked = wm.embed(y, sr)
        assert marked.shape == y.shape and marked.dtype == np.float32
        assert wm.detect(marked, sr) > 0.95 and wm.detect(y, sr) < 0.05
    stereo = np.stack([x, 0.5 * x], axis=1)  # [T, 2]
    marked = wm.embed(stereo, 32000)
    assert marked.shape == stereo.shape
    assert wm.detect(marked, 32000) > 0.95 and wm.detect(marked[:, 1], 32000) > 0.95


def test_silence_and_tiny_clips_pass_through():
    import engine.provenance as wm

    for audio in (np.zeros(24000, np.float32), np.full(100, 0.1, np.float32), np.zeros(0, np.float32)):
        out = wm.embed(audio, 24000)
        assert np.array_equal(out, audio)
        assert wm.detect(audio, 24000) == 0.0


def test_spans_find_a_marked_passage_in_a_long_recording(clips32):
    import engine.provenance as wm

    x = np.tile(clips32[1], 10)[: 32000 * 34]  # 34 s of clean speech
    mixed = x.copy()
    mixed[32000 * 20:] = wm.embed(x[32000 * 20:], 32000)  # 20-34 s generated
    det = wm.detect_spans(mixed, 32000)
    scores = {round(a): s for a, _, s in det.spans}
    assert sorted(scores) == [0, 10, 20]  # the 4 s tail joins the last span
    assert scores[20] > 0.95 and scores[0] < 0.05 and scores[10] < 0.05
    assert det.marked


def test_missing_weights_say_what_to_install(tmp_path, monkeypatch):
    from engine.provenance.weights import WatermarkUnavailable, find_weights

    monkeypatch.setenv("MYNAH_WATERMARK_DIR", str(tmp_path))
    with pytest.raises(WatermarkUnavailable, match="perth_net"):
        find_weights()


def test_importing_provenance_does_not_import_torch():
    code = "import sys, engine.provenance; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_first_use_from_several_threads_loads_once_and_agrees(clips32, monkeypatch):
    """The engine thread and pool threads may reach for the net at the same moment."""
    import threading

    from engine.provenance import watermark as w

    built = []
    real = w._Model

    class Counting(real):
        def __init__(self):
            built.append(1)
            super().__init__()

    monkeypatch.setattr(w, "_model", None)
    monkeypatch.setattr(w, "_Model", Counting)
    x = clips32[0]
    results, start = [], threading.Barrier(4)

    def work(i):
        start.wait()
        results.append(w.detect(x, 32000) if i % 2 else float(w.detect(w.embed(x, 32000), 32000)))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1 and len(results) == 4
    clean = [r for r in results if r < 0.5]
    assert len(clean) == 2 and clean[0] == clean[1] and all(r > 0.95 for r in results if r >= 0.5)


def test_long_audio_is_marked_in_windows_that_join_without_a_gap(clips32):
    import engine.provenance as wm
    from engine.provenance import watermark as w

    x = np.tile(clips32[1], 20)[: 32000 * 75]  # 75 s: three 30 s windows
    assert len(w._windows(x.size, 32000)) == 3
    marked = wm.embed(x, 32000)
    det = wm.detect_spans(marked, 32000)
    assert len(det.spans) == 8 and all(s > 0.95 for *_, s in det.spans)
    assert wm.detect(marked, 32000) > 0.95 and wm.detect(x, 32000) < 0.05
    # Across a window seam (30 s) the mark is as small as anywhere else: no click, no hole.
    mark = marked - x
    seam = np.abs(mark[32000 * 29:32000 * 31]).max()
    assert seam < 2 * np.abs(mark[32000 * 10:32000 * 20]).max()
