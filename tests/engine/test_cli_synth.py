"""`mynah synth` end to end over the engine worker, with the fake backend as a plugin."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from studio.cli import main
from tests.engine.test_worker_fake_backend import SR

FAKE = "tests.engine.test_worker_fake_backend:FakeBackend"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def setup(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    ref = tmp_path / "ref.wav"
    t = np.arange(SR * 3) / SR
    sf.write(ref, 0.4 * np.sin(2 * np.pi * 140 * t), SR)
    return model, ref, tmp_path


def synth(model, ref, out, *extra, text="Hello from the command line. [pause 0.5s] Second sentence here."):
    argv = ["synth", "--backend", FAKE, "--model", str(model), "--voice", str(ref),
            "--voice-text", "the reference words", "-o", str(out), "--seed", "4", *extra]
    if text is not None:
        argv += ["--text", text]
    return main(argv)


def test_writes_the_take_with_a_progress_bar(setup, capsys):
    model, ref, tmp = setup
    out = tmp / "out.wav"
    assert synth(model, ref, out) == 0
    audio, sr = sf.read(out)
    assert sr == SR and len(audio) / sr > 1.0 and np.abs(audio).max() > 0.1
    err = capsys.readouterr().err
    assert "Generating: 100%" in err and f"Wrote {out}" in err and "first audio after" in err


def test_stream_writes_the_same_take_as_it_arrives(setup):
    model, ref, tmp = setup
    assert synth(model, ref, tmp / "whole.wav") == 0
    assert synth(model, ref, tmp / "streamed.wav", "--stream") == 0
    whole, _ = sf.read(tmp / "whole.wav")
    streamed, _ = sf.read(tmp / "streamed.wav")
    assert len(streamed) == len(whole) and np.allclose(streamed, whole, atol=1e-4)


def test_text_from_a_file(setup):
    model, ref, tmp = setup
    script = tmp / "script.txt"
    script.write_text("First paragraph.\n\nSecond paragraph after a pause.", encoding="utf-8")
    assert synth(model, ref, tmp / "f.wav", "--text-file", str(script), text=None) == 0
    audio, sr = sf.read(tmp / "f.wav")
    # The paragraph break is 0.6 s of digital silence somewhere in the middle.
    silent = np.flatnonzero(audio == 0)
    assert len(silent) >= int(0.6 * sr)


@pytest.mark.parametrize("case, expected", [
    ("model", "model folder not found"),
    ("voice_missing", "voice file not found"),
    ("voice_junk", "voice file is not readable audio"),
    ("no_voice_text", "--voice needs --voice-text"),
    ("empty_text", "empty text"),
    ("only_pause", "empty text"),
    ("bad_ext", "cannot write .xyz"),
])
def test_bad_input_gets_a_clear_message(setup, capsys, case, expected):
    model, ref, tmp = setup
    out = tmp / "o.wav"
    if case == "model":
        rc = synth(tmp / "no-such-model", ref, out)
    elif case == "voice_missing":
        rc = synth(model, tmp / "nope.wav", out)
    elif case == "voice_junk":
        junk = tmp / "junk.wav"
        junk.write_text("this is not audio")
        rc = synth(model, junk, out)
    elif case == "no_voice_text":
        rc = main(["synth", "--backend", FAKE, "--model", str(model), "--voice", str(ref), "--text", "hi",
                   "-o", str(out)])
    elif case == "empty_text":
        rc = synth(model, ref, out, text="   ")
    elif case == "only_pause":
        rc = synth(model, ref, out, text="[pause 2s]")
    else:
        rc = synth(model, ref, tmp / "o.xyz")
    assert rc == 2
    err = capsys.readouterr().err
    assert f"mynah synth: error: {expected}" in err and "Traceback" not in err
    assert not out.exists()


def test_an_existing_output_is_never_overwritten_silently(setup, capsys):
    model, ref, tmp = setup
    out = tmp / "mine.wav"
    sf.write(out, np.full(100, 0.5), SR)
    assert synth(model, ref, out) == 2
    assert "already exists" in capsys.readouterr().err
    assert len(sf.read(out)[0]) == 100  # the user's file is untouched
    assert synth(model, ref, out, "--overwrite") == 0
    assert len(sf.read(out)[0]) > 100


def test_engine_failure_is_one_line_and_logged(setup, capsys, monkeypatch, mynah_home):
    from tests.engine import test_worker_fake_backend as fake

    orig = fake.FakeBackend.__init__

    def failing_init(self, **kw):
        orig(self, fail_at_frame=6)

    monkeypatch.setattr(fake.FakeBackend, "__init__", failing_init)
    model, ref, tmp = setup
    out = tmp / "fail.wav"
    assert synth(model, ref, out, "--stream") == 1
    err = capsys.readouterr().err
    assert "mynah synth: error: RuntimeError: fake backend exploded at frame 6" in err
    assert "Traceback" not in err
    assert "kept in" in err and len(sf.read(out)[0]) > 0  # what streamed before the failure stays
    assert "Traceback" in (mynah_home / "logs" / "cli.log").read_text()


def test_play_streams_to_the_audio_device(setup, pulse_sink):
    model, ref, tmp = setup
    assert synth(model, ref, tmp / "p.wav", "--play", text="short one") == 0


def test_entry_point_runs_as_a_process(setup):
    model, ref, tmp = setup
    out = tmp / "proc.wav"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "studio", "synth", "--backend", FAKE, "--model", str(model),
                           "--text", "no voice needed here", "-o", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert sf.info(str(out)).duration > 0.5
