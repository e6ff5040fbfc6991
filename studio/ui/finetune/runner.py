"""A training run as a child process (`python -m studio.cli finetune ... --events-json`).

Training is minutes to hours of full-CPU work: in a child process it cannot stall the GUI or the
engine thread, a crash there loses nothing here (checkpoints are on disk), and Pause is a SIGTERM
the CLI turns into "checkpoint after this step, then stop". Events arrive as JSON lines.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, Signal


class TrainingProcess(QObject):
    event = Signal(dict)  # {"event": "StepDone", "step": ..., ...}
    log = Signal(str)  # the CLI's human-readable lines (stderr)
    finished = Signal(int, str)  # exit code, "done" | "paused" | "cancelled" | "failed"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.proc: QProcess | None = None
        self._buf = b""
        self._cancelled = False

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.state() != QProcess.ProcessState.NotRunning

    def start(self, args: list[str], cwd: Path | None = None) -> None:
        if self.running:
            raise RuntimeError("a training run is already going")
        self._buf, self._cancelled = b"", False
        p = QProcess(self)
        p.setProgram(sys.executable)
        p.setArguments(["-m", "studio.cli", "finetune", *args, "--events-json"])
        if cwd is not None:
            p.setWorkingDirectory(str(cwd))
        p.readyReadStandardOutput.connect(self._stdout)
        p.readyReadStandardError.connect(self._stderr)
        p.finished.connect(self._done)
        self.proc = p
        p.start()

    def pause(self) -> None:
        """Checkpoint after the current step, then stop (resume continues from there)."""
        if self.running:
            self.proc.terminate()

    def cancel(self) -> None:
        """Stop now; checkpoints already written stay (nothing the user made is deleted)."""
        if self.running:
            self._cancelled = True
            self.proc.kill()

    def _stdout(self) -> None:
        self._buf += bytes(self.proc.readAllStandardOutput())
        *lines, self._buf = self._buf.split(b"\n")
        for line in lines:
            try:
                self.event.emit(json.loads(line))
            except ValueError:
                if line.strip():
                    self.log.emit(line.decode(errors="replace"))

    def _stderr(self) -> None:
        for line in bytes(self.proc.readAllStandardError()).decode(errors="replace").splitlines():
            if line.strip():
                self.log.emit(line)

    def _done(self, code: int, _status) -> None:
        self._stdout()
        state = "cancelled" if self._cancelled else {0: "done", 130: "paused"}.get(code, "failed")
        self.finished.emit(code, state)
