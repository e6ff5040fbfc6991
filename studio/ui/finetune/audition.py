"""Audition checkpoints: held-out sentences said by the base model and by each checkpoint, same seed
each, one `mynah synth` child process per take (a checkpoint folder is a model folder: it names its
base, see engine/train/tuned.py), then scored by `mynah eval` (WER, similarity to a training take of
the dataset's speaker, DNSMOS). Jobs queue up: the workspace adds a checkpoint as it is written and
they run one after another in child processes (never on the GUI thread, never in the training
process). The base takes are made once per run and reused.

Files: <run>/auditions/base/<i>.wav (once), <run>/auditions/<checkpoint>/<checkpoint>/<i>.wav, the
base's copied beside them for scoring, scores in <run>/auditions/<checkpoint>/report/report.csv.
The blind Compare's extra takes (more sentences, with a reference clip) use the same queue
(`synth_jobs`)."""
from __future__ import annotations

import json
import shutil
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


def speaker_reference(run_dir: Path) -> tuple[str, str] | None:
    """(audio path, transcript) of the dataset speaker's reference: the first training take."""
    train = _record(run_dir).get("train") or []
    return (train[0][0], train[0][1]) if train else None


def synth_args(model: Path, text: str, wav: Path, max_seconds: float, reference: tuple[str, str] | None = None):
    args = ["-m", "studio.cli", "synth", "--model", str(model), "--text", text, "-o", str(wav),
            "--seed", str(SEED), "--max-seconds", str(max_seconds), "--overwrite"]
    if reference is not None:
        args += ["--voice", reference[0], "--voice-text", reference[1]]
    return args


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
    finished = Signal(bool)  # the queue ran dry; all jobs succeeded

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.proc: QProcess | None = None
        # (label, process args | callable, output path, model folder the job needs)
        self._queue: list[tuple] = []
        self._ok = True
        self._base_made: set[str] = set()  # base wavs queued (per run and sentence)

    def forget_base(self) -> None:
        self._base_made.clear()

    @property
    def running(self) -> bool:
        return bool(self._queue) or (self.proc is not None and self.proc.state() != QProcess.ProcessState.NotRunning)

    def start(self, checkpoint: Path, base_model: Path, run_dir: Path, max_seconds: float = 8.0,
              score: bool = True) -> int:
        """Queue base (once per run) + checkpoint takes of the held-out sentences, then their scores;
        returns how many checkpoint takes. Runs after whatever is already queued."""
        checkpoint, run_dir = Path(checkpoint), Path(run_dir)
        name = checkpoint.name
        out = run_dir / "auditions" / name
        base_dir = run_dir / "auditions" / "base"
        texts = heldout_sentences(run_dir)
        was_idle = not self.running
        jobs = []
        for i, text in enumerate(texts, 1):
            base_wav = base_dir / f"{i}.wav"
            if f"{run_dir}:{i}" not in self._base_made:
                self._base_made.add(f"{run_dir}:{i}")
                jobs.append((f"base {i}", synth_args(base_model, text, base_wav, max_seconds), str(base_wav), None))
            wav = out / name / f"{i}.wav"
            jobs.append((f"{name} {i}", synth_args(checkpoint, text, wav, max_seconds), str(wav), checkpoint))
        n = len(texts)
        ref = speaker_reference(run_dir)
        if score and n and ref:
            def gather(out=out, n=n, texts=texts):  # the base takes beside the checkpoint's, for one report
                (out / "base").mkdir(parents=True, exist_ok=True)
                for i in range(1, n + 1):
                    if (base_dir / f"{i}.wav").is_file():
                        shutil.copy(base_dir / f"{i}.wav", out / "base" / f"{i}.wav")
                (out / "texts.tsv").write_text("".join(f"{i}\t{t}\n" for i, t in enumerate(texts, 1)),
                                               encoding="utf-8")
            jobs.append(("gather", gather, "", None))
            args = ["-m", "studio.cli", "eval", "--audio-dir", str(out), "--texts", str(out / "texts.tsv"),
                    "--reference", ref[0], "-o", str(out / "report"), "--no-plots"]
            jobs.append(("scores", args, str(out / "report" / "report.csv"), None))
        for _label, _args, wav, _m in jobs:
            if wav:
                Path(wav).parent.mkdir(parents=True, exist_ok=True)
        self._queue += jobs
        if was_idle:
            self._ok = True
            self._next()
        return n

    def synth_jobs(self, jobs: list[tuple[str, list[str], str]]) -> None:
        """Queue plain synth jobs (label, args, wav); take_ready for each, finished when done."""
        was_idle = not self.running
        for label, args, wav in jobs:
            Path(wav).parent.mkdir(parents=True, exist_ok=True)
            self._queue.append((label, args, wav, None))
        if was_idle:
            self._ok = True
            self._next()

    def _next(self) -> None:
        while self._queue and callable(self._queue[0][1]):
            label, fn, _wav, _m = self._queue.pop(0)
            try:
                fn()
            except OSError as exc:
                self._ok = False
                self.log.emit(f"audition {label} failed: {exc}")
        if not self._queue:
            self.proc = None
            self.finished.emit(self._ok)
            return
        label, args, wav, needs = self._queue.pop(0)
        if needs is not None and not Path(needs).is_dir():  # pruned before its turn (newest 3 kept)
            self.log.emit(f"audition {label} skipped: {Path(needs).name} was pruned")
            self._next()
            return
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
