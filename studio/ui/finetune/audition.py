"""Audition a checkpoint: its held-out sentences said by the base model and by the checkpoint, same
seed each, one `mynah synth` child process per take (a checkpoint folder is a model folder: it
names its base, see engine/train/tuned.py). Files land in <run>/auditions/<checkpoint>/."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, Signal

SEED = 1234
MAX_SENTENCES = 2


def heldout_sentences(run_dir: Path, n: int = MAX_SENTENCES) -> list[str]:
    try:
        record = json.loads((Path(run_dir) / "run.json").read_text())
    except (OSError, ValueError):
        return []
    texts = [t for _p, t, _k in record.get("heldout", [])] or [t for _p, t, _k in record.get("train", [])]
    return texts[:n]


class Auditioner(QObject):
    take_ready = Signal(str, str)  # label ("base 1" / "step-000020 1"), wav path
    log = Signal(str)
    finished = Signal(bool)  # all takes made

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.proc: QProcess | None = None
        self._queue: list[tuple[str, list[str], str]] = []
        self._ok = True

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.state() != QProcess.ProcessState.NotRunning

    def start(self, checkpoint: Path, base_model: Path, run_dir: Path, max_seconds: float = 8.0) -> int:
        """Queue base + checkpoint takes of the held-out sentences; returns how many takes."""
        out = Path(run_dir) / "auditions" / Path(checkpoint).name
        out.mkdir(parents=True, exist_ok=True)
        self._queue, self._ok = [], True
        for i, text in enumerate(heldout_sentences(run_dir), 1):
            for label, model in (("base", base_model), (Path(checkpoint).name, checkpoint)):
                wav = out / f"{label}-{i}.wav"
                args = ["-m", "studio.cli", "synth", "--model", str(model), "--text", text, "-o", str(wav),
                        "--seed", str(SEED), "--max-seconds", str(max_seconds)]
                self._queue.append((f"{label} {i}", args, str(wav)))
        n = len(self._queue)
        self._next()
        return n

    def _next(self) -> None:
        if not self._queue:
            self.finished.emit(self._ok)
            return
        label, args, wav = self._queue.pop(0)
        p = QProcess(self)
        p.setProgram(sys.executable)
        p.setArguments(args)
        p.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)

        def done(code, _status, p=p, label=label, wav=wav):
            text = bytes(p.readAll()).decode(errors="replace").strip().splitlines()
            if code == 0 and Path(wav).is_file():
                self.take_ready.emit(label, wav)
            else:
                self._ok = False
                self.log.emit(f"audition {label} failed: {text[-1] if text else f'exit {code}'}")
            self._next()

        p.finished.connect(done)
        self.proc = p
        p.start()
