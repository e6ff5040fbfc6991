"""Crash recovery: a recording interrupted by a crash comes back with all its audio."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.audio.io import read_audio
from studio.core.paths import get_paths
from studio.core.player import Player
from studio.core.recorder_wav import StreamingWavWriter
from studio.core.recovery import Sidecar, discard, find_incomplete, recover
from tests.studio.test_recorder_support import dominant_hz

REPO = Path(__file__).resolve().parents[2]


def _crashed_recording(frames_synced=24000, frames_after=12000, sidecar=True, dest=None):
    """Simulate a crash: audio written after the last header sync, then the process 'dies'."""
    inc = get_paths().incomplete
    wav = inc / "20260101-120000-abcd1234.wav"
    w = StreamingWavWriter(wav, 24000, 1)
    t = np.arange(frames_synced + frames_after) / 24000
    x = (0.25 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    w.write(x[:frames_synced])
    w.sync()
    w.write(x[frames_synced:])
    w._f.flush()  # the OS has the bytes; the header was never updated (the crash)
    w._f.close()
    if sidecar:
        Sidecar(sample_rate=24000, channels=1, started="2026-01-01T12:00:00", name="My take",
                dest_dir=str(dest) if dest else None, owner="dataset", owner_ref="take-7",
                pid=999999).save(wav.with_suffix(".json"))
    return wav, x


def test_stale_header_recovered_from_real_file_size(tmp_path):
    wav, x = _crashed_recording(dest=tmp_path / "ds")
    assert sf.info(str(wav)).frames == 24000, "the header is stale, as after a crash"
    [rec] = find_incomplete()
    assert rec.frames == len(x) and rec.header_frames == 24000
    assert rec.owner == "dataset" and rec.sidecar.owner_ref == "take-7" and rec.name == "My take"
    out = recover(rec)
    assert out == tmp_path / "ds" / "My take.wav"
    got = read_audio(out)
    assert np.allclose(got.samples, x), "every sample written before the crash is back"
    assert find_incomplete() == [] and not wav.with_suffix(".json").exists()


def test_missing_sidecar_and_torn_last_frame(tmp_path):
    wav, x = _crashed_recording(sidecar=False)
    with open(wav, "ab") as f:
        f.write(b"\x01\x02")  # half a float sample: the write the crash interrupted
    [rec] = find_incomplete()
    assert rec.frames == len(x) and rec.name.startswith("recovered")
    out = recover(rec, dest_dir=tmp_path)
    assert out.parent == tmp_path and len(read_audio(out).samples) == len(x)


def test_discard_goes_to_trash_and_live_recordings_are_not_offered():
    wav, _ = _crashed_recording()
    [rec] = find_incomplete()
    trashed = discard(rec)
    assert trashed.parent == get_paths().trash and trashed.exists()
    wav2, _ = _crashed_recording()
    side = json.loads(wav2.with_suffix(".json").read_text())
    side["pid"] = os.getpid()  # this very process is still recording it
    wav2.with_suffix(".json").write_text(json.dumps(side))
    assert find_incomplete() == []


def test_header_less_garbage_and_empty_recordings_are_not_offered():
    inc = get_paths().incomplete
    (inc / "junk.wav").write_bytes(b"RIF")
    (inc / "torn.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x03\x00")
    StreamingWavWriter(inc / "empty.wav", 48000, 1).close()  # crashed before the first block
    assert find_incomplete() == []


_CHILD = r"""
import sys, time
from studio.core.recorder import Recorder
rec = Recorder(samplerate=48000, name="crashed take", owner="voices")
rec.start()
while True:
    print(rec.frames_written, flush=True)
    time.sleep(0.05)
"""


def test_sigkill_mid_recording_recovers_audio_up_to_the_kill(pulse_sink, mynah_home):
    sr = 48000
    t = np.arange(8 * sr) / sr
    player = Player()
    player.play((0.3 * np.sin(2 * np.pi * 660 * t)).astype(np.float32), sr)
    env = dict(os.environ, MYNAH_HOME=str(mynah_home), PYTHONPATH=str(REPO))
    child = subprocess.Popen([sys.executable, "-c", _CHILD], stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)
    last = [0]

    def read():
        for line in child.stdout:
            last[0] = int(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 20
    while last[0] < int(2.5 * sr) and time.monotonic() < deadline:
        time.sleep(0.05)
    at_kill = last[0]
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    player.stop()
    assert at_kill >= int(2.5 * sr), "the child recorded"

    [rec] = find_incomplete()
    assert rec.owner == "voices" and rec.name == "crashed take"
    lost_s = (at_kill - rec.frames) / sr
    assert lost_s < 1.0, f"{lost_s:.2f} s lost"
    assert rec.frames <= at_kill + sr // 5  # nothing invented (it printed at most 50 ms before the kill)
    out = recover(rec)
    assert out.parent == get_paths().recordings
    got = read_audio(out)
    assert len(got.samples) == rec.frames
    assert dominant_hz(got.samples[-sr // 2:], sr) == pytest.approx(660, abs=5), "audio right up to the kill"
