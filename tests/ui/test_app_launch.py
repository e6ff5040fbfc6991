"""Start the real app in a new process, as a user would."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(args, mynah_home, extra_env=None, timeout=120):
    env = {**os.environ, "MYNAH_HOME": str(mynah_home), "QT_QPA_PLATFORM": "offscreen", **(extra_env or {})}
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_window_shows_before_torch_is_imported_and_logs_to_file(mynah_home):
    out = _run(["-m", "studio"], mynah_home, {"MYNAH_SMOKE_EXIT": "300"})
    assert out.returncode == 0, out.stderr
    line = [l for l in out.stdout.splitlines() if l.startswith("MYNAH_SHOWN")][0]
    assert "torch=False" in line and "visible=True" in line
    log = mynah_home / "logs" / "mynah.log"
    assert "starting Mynah" in log.read_text()
    assert (mynah_home / "settings.json").exists()  # window state saved on close


def test_many_signal_emits_do_not_crash_the_process(mynah_home):
    # PySide6 6.12.0 drops a reference to True on every Signal.emit() and to None on every Python
    # slot call, and the interpreter aborts after a few hundred emits: pyproject excludes it.
    script = textwrap.dedent("""
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from studio.ui.app import create_window
        w = create_window()
        for i in range(5000):
            w.ctx.status.show(f"message {i}")
        # Python slots called from Qt (a timer, like the meter's) lose a reference to None each.
        from PySide6.QtCore import QTimer
        ticks = []
        t = QTimer(interval=0)
        t.timeout.connect(lambda: ticks.append(1) if len(ticks) < 20000 else app.quit())
        t.start()
        app.exec()
        import gc; gc.collect()
        print("alive", w.statusBar().currentMessage())
    """)
    out = _run(["-c", script], mynah_home)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "alive message 4999" in out.stdout


def test_files_from_the_desktops_open_with_are_imported_not_qt_options(tmp_path):
    from studio.ui.app import startup_files

    memo = tmp_path / "voice memo.m4a"
    argv = ["-style", "fusion", str(memo), "-platform", "xcb", "~/take.wav"]
    assert startup_files(argv) == [memo, Path("~/take.wav").expanduser()]
    assert startup_files([]) == [] and startup_files(None) == []
