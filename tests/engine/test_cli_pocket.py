"""`mynah synth` with Pocket TTS: the backend is read from the folder, no transcript is needed, preset
voices by name, backend options, and clear errors."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from studio.cli import main
from tests.engine.tiny_pocket import build_pocket, test_clip

TEXT = "Hello there, my friend."


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("pocket-cli")
    clip = root / "me.wav"
    sf.write(clip, test_clip(seconds=2.0), 24000)
    return {"clone": build_pocket(root / "clone", "tiny"),
            "presets": build_pocket(root / "presets", "tiny", cloning=False, presets=("alba",)), "clip": clip}


def test_clone_without_a_transcript_with_options(models, tmp_path, capsys):
    out = tmp_path / "a.wav"
    rc = main(["synth", "--model", str(models["clone"]), "--voice", str(models["clip"]), "--text", TEXT,
               "-o", str(out), "--seed", "3", "--max-seconds", "1.2", "--option", "eos_threshold=1e9",
               "--option", "trim_silence=false", "--device", "cpu"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "(pocket)" in err and "on cpu (float32)" in err
    audio, sr = sf.read(out, dtype="float32")
    assert sr == 24000 and len(audio) == 15 * 1920  # 1.2 s = 15 frames: EOS disabled by the option
    again = tmp_path / "b.wav"
    assert main(["synth", "--model", str(models["clone"]), "--voice", str(models["clip"]), "--text", TEXT,
                 "-o", str(again), "--seed", "3", "--max-seconds", "1.2", "--option", "eos_threshold=1e9",
                 "--option", "trim_silence=false", "--stream"]) == 0
    assert np.array_equal(sf.read(again, dtype="float32")[0], audio)  # same seed, same samples


def test_preset_voice_by_name_and_errors(models, tmp_path, capsys):
    out = tmp_path / "p.wav"
    assert main(["synth", "--model", str(models["presets"]), "--preset", "alba", "--text", TEXT, "-o", str(out),
                 "--seed", "1"]) == 0
    assert sf.info(str(out)).duration > 0.3
    capsys.readouterr()
    assert main(["synth", "--model", str(models["presets"]), "--preset", "nobody", "--text", TEXT,
                 "-o", str(tmp_path / "x.wav")]) == 2
    assert "its presets: alba" in capsys.readouterr().err
    assert main(["synth", "--model", str(models["presets"]), "--voice", str(models["clip"]), "--text", TEXT,
                 "-o", str(tmp_path / "y.wav")]) == 1
    err = capsys.readouterr().err
    assert "without voice cloning" in err and "alba" in err and not (tmp_path / "y.wav").exists()
    assert main(["synth", "--model", "kyutai/pocket-tts/english", "--text", TEXT, "-o", str(tmp_path / "z.wav")]) == 2
    assert "is not installed" in capsys.readouterr().err
