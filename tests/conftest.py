"""Shared fixtures. Every test gets its own MYNAH_HOME, so no test touches a real user directory."""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
# Real human speech with transcripts and licences (tests/data/speech/LICENSES.md): part of the
# repository, so a bare clone runs every test that needs it.
SPEECH_DIR = REPO / "tests" / "data" / "speech"


@pytest.fixture(autouse=True)
def mynah_home(tmp_path_factory, monkeypatch) -> Path:
    home = tmp_path_factory.mktemp("mynah-home")
    monkeypatch.setenv("MYNAH_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def speech_dir() -> Path:
    if not (SPEECH_DIR / "transcripts.tsv").is_file():
        pytest.fail(f"the speech test data is part of the repository but {SPEECH_DIR} is incomplete "
                    "(a sparse or LFS checkout?)")
    return SPEECH_DIR


@pytest.fixture(scope="session")
def speech_clips(speech_dir) -> list[dict]:
    """Rows of transcripts.tsv (file, speaker, transcript, ...) with an absolute `path`."""
    with open(speech_dir / "transcripts.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for r in rows:
        r["path"] = speech_dir / r["file"]
    return rows


def _pulse_running() -> bool:
    if shutil.which("pactl") is None:
        return False
    try:
        out = subprocess.run(["pactl", "list", "short", "sinks"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and "mynah_sink" in out.stdout


@pytest.fixture
def pulse_sink():
    """The private PulseAudio null sink started by `make test`; skips where there is none.

    Holds an inter-process lock for the test's duration: the sink is one shared loopback, so two
    recording tests (even from two pytest processes) must not play into it at once.
    """
    import fcntl

    if not _pulse_running():
        if os.environ.get("CI"):
            pytest.fail("PulseAudio null sink 'mynah_sink' is not running (make test starts it)")
        pytest.skip("PulseAudio null sink 'mynah_sink' is not running (run through `make test`)")
    with open("/tmp/mynah-pulse-sink.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield "mynah_sink"
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
