"""QC per take: what a user would want flagged is flagged, a clean take is not."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from studio.core.dataset_qc import TakeQC, flag_rates, measure_take, retake_queue
from studio.core.qc_worker import QcWorker, QcWorkerError


def _speech(speech_clips, name="ljspeech_lj_LJ001-0003.wav"):
    row = next(r for r in speech_clips if r["file"] == name)
    x, sr = sf.read(str(row["path"]), dtype="float32")
    pad = np.zeros(int(0.3 * sr), np.float32)
    return np.concatenate([pad, x, pad]), sr, row["transcript"]


def test_clean_take_has_no_flags(speech_clips):
    x, sr, text = _speech(speech_clips)
    qc = measure_take(x, sr, text)
    assert qc.flags == [], qc.notes
    assert -40 < qc.lufs < -10 and qc.snr_db > 25 and 0.1 < qc.lead_silence_s < 0.6


def test_problems_are_flagged(speech_clips):
    x, sr, text = _speech(speech_clips)
    assert "clipping" in measure_take(np.clip(x * 8, -1, 1), sr, text).flags
    assert "silent" in measure_take(np.zeros_like(x), sr, text).flags
    assert "quiet" in measure_take(x * 0.01, sr, text).flags
    noisy = x + 0.05 * np.random.default_rng(0).standard_normal(len(x)).astype(np.float32)
    assert "noise" in measure_take(noisy, sr, text).flags
    long_air = np.concatenate([np.zeros(2 * sr, np.float32), x])
    assert "silence" in measure_take(long_air, sr, text).flags
    assert "duration" in measure_take(x[: int(0.8 * sr)], sr, text).flags
    assert "cut_off" in measure_take(x[int(0.5 * sr):], sr, text).flags


def test_speaking_rate_judged_against_the_session(speech_clips):
    reports = []
    for name in ("ljspeech_lj_LJ001-0003.wav", "ljspeech_lj_LJ001-0004.wav", "ljspeech_lj_LJ001-0005.wav"):
        x, sr, text = _speech(speech_clips, name)
        reports.append(measure_take(x, sr, text))
    x, sr, text = _speech(speech_clips, "ljspeech_lj_LJ001-0006.wav")
    # The same audio claimed to read three times the words: far faster than this reader's median.
    reports.append(measure_take(x, sr, " ".join([text] * 3)))
    flag_rates(reports)
    assert ["rate" in r.flags for r in reports] == [False, False, False, True]
    assert retake_queue(enumerate(reports)) == [3]
    again = TakeQC.from_dict(reports[3].to_dict())
    assert again.flags == reports[3].flags


def test_asr_wer_flags_a_wrong_reading(speech_clips):
    x, sr, text = _speech(speech_clips)
    heard = {"text": text}
    qc = measure_take(x, sr, text, transcriber=lambda a, s: heard["text"])
    assert qc.wer == 0.0 and "wer" not in qc.flags
    qc = measure_take(x, sr, text, transcriber=lambda a, s: "something else entirely was said here")
    assert qc.wer > 0.5 and "wer" in qc.flags
    def broken(a, s):
        raise RuntimeError("model missing")
    qc = measure_take(x, sr, text, transcriber=broken)
    assert qc.wer is None and any("ASR failed" in n for n in qc.notes)


# ----- the QC process ---------------------------------------------------------------------------

posix_only = pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="stops/kills the child with POSIX signals")


@pytest.fixture
def qc_worker():
    w = QcWorker()
    yield w
    w.close()


def test_qc_process_measures_like_in_process(qc_worker, speech_clips, tmp_path):
    x, sr, text = _speech(speech_clips)
    clipped = tmp_path / "clipped.wav"
    sf.write(str(clipped), np.clip(x * 8, -1, 1), sr)
    remote = qc_worker.measure(clipped, text, use_asr=False)
    local = measure_take(np.clip(x * 8, -1, 1), sr, text)
    assert remote.flags == local.flags and "clipping" in remote.flags
    assert remote.lufs == pytest.approx(local.lufs, abs=0.05) and remote.clipped_samples == local.clipped_samples
    # A file the child cannot read is that take's error, not the end of the child.
    with pytest.raises(QcWorkerError, match="missing.wav"):
        qc_worker.measure(tmp_path / "missing.wav", text, use_asr=False)
    assert qc_worker.measure(clipped, text, use_asr=False).flags == remote.flags


@posix_only
def test_qc_process_exits_when_the_app_dies():
    code = ("from studio.core.qc_worker import shared_worker\n"
            "w = shared_worker(); w.start(); print(w.pid, flush=True)\n"
            "import time; time.sleep(60)\n")
    app = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                           cwd=str(Path(__file__).resolve().parents[2]))
    try:
        child = int(app.stdout.readline())
    finally:
        app.kill()  # like a crash: no atexit, nothing closes the pipe on purpose
        app.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():  # Linux: a zombie waiting for init to reap it has exited
        try:
            return stat.read_text().split(")")[-1].split()[0] != "Z"
        except FileNotFoundError:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
