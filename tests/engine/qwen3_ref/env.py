"""The reference `qwen-tts` package in its own cached virtual environment.

qwen-tts pins transformers 4.57.3 and declares gradio, sox, onnxruntime and torchaudio (torchaudio
has no build for our torch 2.13). Its 12 Hz model and tokenizer code need only transformers,
librosa (mel filters), soundfile, numpy and torch, so the environment holds exactly those:
torch from this machine's wheel store first, then `qwen-tts --no-deps`, then the rest.

Created once per machine under ~/.cache/mynah-test-venvs (MYNAH_TEST_VENVS moves it), reused by
every later run: a marker written last says it is complete, and a lock keeps two pytest workers
from building it at once. `creation_seconds()` reports what building it cost (CI pays it once).
"""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

QWEN_TTS = "0.1.1"
TRANSFORMERS = "4.57.3"
TORCH = "2.13.0"
# Imported by the package's own code paths we run (12 Hz tokenizer, talker, speaker encoder).
EXTRAS = [f"transformers=={TRANSFORMERS}", "librosa", "soundfile", "einops", "safetensors"]


def cache_root() -> Path:
    return Path(os.environ.get("MYNAH_TEST_VENVS", Path.home() / ".cache" / "mynah-test-venvs"))


def env_dir() -> Path:
    return cache_root() / f"qwen-tts-{QWEN_TTS}-tf{TRANSFORMERS}-torch{TORCH}"


def python() -> Path:
    return env_dir() / "bin" / "python"


def _pip(*args: str) -> None:
    subprocess.run([str(python()), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args],
                   check=True)


def ensure() -> Path:
    """The reference environment's python, built if missing (minutes, once)."""
    d = env_dir()
    done = d / ".complete"
    if done.exists():
        return python()
    d.parent.mkdir(parents=True, exist_ok=True)
    with open(d.parent / (d.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return python()
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(d)], check=True)
        _pip(f"torch=={TORCH}")  # this machine's wheel store (pip's find-links) before any index
        _pip("--no-deps", f"qwen-tts=={QWEN_TTS}")
        _pip(*EXTRAS)
        (d / ".created_seconds").write_text(f"{time.monotonic() - t0:.1f}\n")
        done.write_text("ok\n")
    return python()


def creation_seconds() -> float | None:
    f = env_dir() / ".created_seconds"
    return float(f.read_text()) if f.exists() else None


if __name__ == "__main__":
    print(ensure(), creation_seconds(), "s to create")
