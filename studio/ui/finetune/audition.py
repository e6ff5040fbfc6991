"""Audition a checkpoint: its held-out sentences said by the base model and by the checkpoint, same
seed each, one `mynah synth` child process per take (a checkpoint folder is a model folder: it
names its base, see engine/train/tuned.py), then scored by `mynah eval` (WER, similarity to a
training take of the dataset's speaker, DNSMOS). Files: <run>/auditions/<checkpoint>/<system>/<i>.wav,
scores in .../report/report.csv."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, Signal

SEED = 1234
MAX_SENTENCES = 2


def _record(run_dir: Path) -> dict:
    try:
        return json.loads((Path(run_dir) / "run.json").read_text())
    except (OSError, ValueError):
        return {}


def heldout_sentences(run_dir: Path, n: int = MAX_SENTENCES) -> list[str]:
    record = _record(run_dir)
    texts = [t for _p, t, _k in record.get("heldout", [])] or [t for _p, t, _k in record.get("train", [])]
    return texts[:n]


def read_scores(report_csv: Path) -> dict[tuple[str, str], dict]:
    """(system, prompt id) -> the report row (wer, similarity, dnsmos_ovr ...)."""
    import csv

    try:
        with open(report_csv, newline="", encoding="utf-8") as f:
            return {(r["system"], r["prompt_id"]): r for r in csv.DictReader(f)}
    except OSError:
        return {}


class Auditioner(QObject):
    take_ready = Signal(str, str)  # label ("base 1" / "step-000020 1"), wav path
    scored = Signal(object)  # {(system, prompt id): report row} (tuple keys: not a QVariantMap)
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

    def start(self, checkpoint: Path, base_model: Path, run_dir: Path, max_seconds: float = 8.0,
              score: bool = True) -> int:
        """Queue base + checkpoint takes of the held-out sentences (then their scores); returns
        how many takes."""
        out = Path(run_dir) / "auditions" / Path(checkpoint).name
        self._queue, self._ok = [], True
        texts = heldout_sentences(run_dir)
        for i, text in enumerate(texts, 1):
            for label, model in (("base", base_model), (Path(checkpoint).name, checkpoint)):
                wav = out / label / f"{i}.wav"
                wav.parent.mkdir(parents=True, exist_ok=True)
                args = ["-m", "studio.cli", "synth", "--model", str(model), "--text", text, "-o", str(wav),
                        "--seed", str(SEED), "--max-seconds", str(max_seconds)]
                self._queue.append((f"{label} {i}", args, str(wav)))
        n = len(self._queue)
        train = _record(run_dir).get("train") or []
        if score and n and train:
            (out / "texts.tsv").write_text("".join(f"{i}\t{t}\n" for i, t in enumerate(texts, 1)), encoding="utf-8")
            args = ["-m", "studio.cli", "eval", "--audio-dir", str(out), "--texts", str(out / "texts.tsv"),
                    "--reference", train[0][0], "-o", str(out / "report"), "--no-plots"]
            self._queue.append(("scores", args, str(out / "report" / "report.csv")))
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
                if label == "scores":
                    self.scored.emit(read_scores(Path(wav)))
                else:
                    self.take_ready.emit(label, wav)
            else:
                self._ok = False
                self.log.emit(f"audition {label} failed: {text[-1] if text else f'exit {code}'}")
            self._next()

        p.finished.connect(done)
        self.proc = p
        p.start()
