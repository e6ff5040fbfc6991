"""The Fine-tune workspace: dataset + base model + preset (every hyperparameter visible) -> a run in
a child process (runner.py) with live loss curves, speed, ETA and memory, checkpoints, and
"promote" to a tuned voice (a model folder usable in Synthesize, Compare and `mynah synth`).

No torch here: presets come from engine/train/config.py (torch-free); the hardware guess is
whether `nvidia-smi` exists.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QListWidget, QMessageBox, QPlainTextEdit, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from engine.train.config import PRESETS
from studio.ui.finetune.audition import Auditioner
from studio.ui.finetune.checkpoint_list import CheckpointList
from studio.ui.finetune.runner import TrainingProcess


def default_preset() -> str:
    return "gpu-standard" if shutil.which("nvidia-smi") else "cpu-quick"


class FinetuneWorkspace(QWidget):
    title = "Fine-tune"

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.runner = TrainingProcess(self)
        self.runner.event.connect(self._on_event)
        self.runner.log.connect(lambda s: self.log.appendPlainText(s))
        self.runner.finished.connect(self._on_finished)
        self.run_dir: Path | None = None
        self.base_model: str = ""
        self._train, self._held = ([], []), ([], [])
        self._last_stats = ""

        # -- what to train on, and how ---------------------------------------------------------
        self.dataset = QComboBox()
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("or a folder of clips with transcripts")
        pick_folder = QPushButton("Folder…")
        pick_folder.clicked.connect(self._pick_folder)
        self.all_qc = QCheckBox("include takes (or folder clips) whose QC or ASR transcript check found issues")
        self.model = QLineEdit()
        self.model.setPlaceholderText("base model folder (CSM-1B)")
        pick_model = QPushButton("Browse…")
        pick_model.clicked.connect(self._pick_model)
        self.name = QLineEdit()
        self.name.setPlaceholderText("tuned voice name (default: the dataset's)")
        self.preset = QComboBox()
        self.preset.addItems(list(PRESETS))
        self.preset.currentTextChanged.connect(self._apply_preset)
        self.rank, self.alpha = QSpinBox(), QDoubleSpinBox()
        self.rank.setRange(1, 256)
        self.alpha.setRange(1, 1024)
        self.targets = QLineEdit()
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(6)
        self.lr.setRange(1e-6, 1.0)
        self.lr.setSingleStep(1e-4)
        self.epochs = QDoubleSpinBox()
        self.epochs.setRange(0.1, 100)
        self.max_steps = QSpinBox()
        self.max_steps.setRange(0, 1_000_000)
        self.max_steps.setSpecialValueText("by epochs")
        self.batch = QSpinBox()
        self.batch.setRange(1, 256)
        self.depth = QDoubleSpinBox()
        self.depth.setDecimals(4)
        self.depth.setRange(0.001, 1.0)
        self.ckpt_every, self.eval_every = QSpinBox(), QSpinBox()
        self.ckpt_every.setRange(1, 100_000)
        self.eval_every.setRange(0, 100_000)
        self.max_clip = QDoubleSpinBox()
        self.max_clip.setRange(0, 600)
        self.max_clip.setSpecialValueText("no limit")
        self.heldout = QDoubleSpinBox()
        self.heldout.setRange(0, 0.5)
        self.heldout.setSingleStep(0.05)

        form = QFormLayout()
        form.addRow("Dataset", self.dataset)
        row = QHBoxLayout()
        row.addWidget(self.folder)
        row.addWidget(pick_folder)
        form.addRow("", row)
        form.addRow("", self.all_qc)
        row = QHBoxLayout()
        row.addWidget(self.model)
        row.addWidget(pick_model)
        form.addRow("Base model", row)
        form.addRow("Name", self.name)
        form.addRow("Preset", self.preset)
        for label, w in (("LoRA rank", self.rank), ("LoRA alpha", self.alpha), ("Targets", self.targets),
                         ("Learning rate", self.lr), ("Epochs", self.epochs), ("Max steps", self.max_steps),
                         ("Batch size", self.batch), ("Depth-loss frames", self.depth),
                         ("Checkpoint every", self.ckpt_every), ("Held-out loss every", self.eval_every),
                         ("Max clip seconds", self.max_clip), ("Held-out share", self.heldout)):
            form.addRow(label, w)

        self.start_btn, self.pause_btn = QPushButton("Start"), QPushButton("Pause")
        self.resume_btn, self.cancel_btn = QPushButton("Resume"), QPushButton("Cancel")
        self.start_btn.clicked.connect(self.start)
        self.pause_btn.clicked.connect(self.runner.pause)
        self.resume_btn.clicked.connect(self.resume)
        self.cancel_btn.clicked.connect(self.runner.cancel)
        buttons = QHBoxLayout()
        for b in (self.start_btn, self.pause_btn, self.resume_btn, self.cancel_btn):
            buttons.addWidget(b)

        # -- progress ---------------------------------------------------------------------------
        self.stats = QLabel("Not started")
        self.plot = pg.PlotWidget()
        self.plot.addLegend()
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "loss")
        self.train_curve = self.plot.plot([], [], name="train", pen=pg.mkPen("#4c9be8", width=1))
        self.held_curve = self.plot.plot([], [], name="held out", pen=pg.mkPen("#e8a04c", width=2),
                                         symbol="o", symbolSize=5)
        self.checkpoints = CheckpointList()
        self.auto_audition = QCheckBox("Audition each checkpoint as it is written (held-out sentences, scored; "
                                       "child processes beside training: turn off on a busy CPU)")
        self.auto_audition.setChecked(True)
        self.promote_btn = QPushButton("Promote checkpoint to a tuned voice")
        self.promote_btn.clicked.connect(self.promote)
        self.audition_btn = QPushButton("Audition (held-out sentences, base vs checkpoint)")
        self.audition_btn.clicked.connect(self.audition)
        self.auditions = QListWidget()
        self.auditions.itemDoubleClicked.connect(self._play)
        self.auditioner = Auditioner(self)
        self.auditioner.take_ready.connect(self._take_ready)
        self.auditioner.log.connect(lambda s: self.log.appendPlainText(s))
        self.auditioner.finished.connect(self._auditions_done)
        self.auditioner.scored.connect(self._show_scores)
        self.compare_btn = QPushButton("Blind compare base vs tuned (held-out sentences, with and without a reference)")
        self.compare_btn.setEnabled(False)
        self.compare_btn.clicked.connect(lambda: self.blind_compare())
        self._hashes: dict[str, str] = {}
        self._compare_pending = None  # (compare workspace, planned takes, checkpoint) while its takes are made
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)

        left = QVBoxLayout()
        left.addLayout(form)
        left.addLayout(buttons)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.stats)
        right.addWidget(self.plot, 3)
        right.addWidget(QLabel("Checkpoints (scores: mean over the held-out auditions; pick the best, promote it)"))
        right.addWidget(self.checkpoints, 1)
        right.addWidget(self.auto_audition)
        row = QHBoxLayout()
        row.addWidget(self.promote_btn)
        row.addWidget(self.audition_btn)
        right.addLayout(row)
        right.addWidget(QLabel("Auditions (double-click to play; same seed for base and checkpoint)"))
        right.addWidget(self.auditions, 1)
        right.addWidget(self.compare_btn)
        right.addWidget(self.log, 1)
        lay = QHBoxLayout(self)
        lay.addLayout(left, 2)
        lay.addLayout(right, 3)

        self.preset.setCurrentText(default_preset())
        self._apply_preset(self.preset.currentText())
        self.refresh_datasets()
        self._find_last_run()
        self._update_buttons()

    def _find_last_run(self) -> None:
        """After a restart or a crash: the newest run with a checkpoint can be resumed."""
        runs = self._models() / "runs"
        found = sorted((p for p in runs.glob("*/checkpoints/latest.json")), key=lambda p: p.stat().st_mtime)
        if found:
            self.run_dir = found[-1].parent.parent
            try:
                import json

                self.base_model = json.loads((self.run_dir / "run.json").read_text()).get("model_dir", "")
            except (OSError, ValueError):
                pass
            self.stats.setText(f"Last run: {self.run_dir.name} (Resume continues from its last checkpoint)")

    # -- form -------------------------------------------------------------------------------------
    def refresh_datasets(self) -> None:
        from studio.core.datasets import DatasetStore

        self.dataset.clear()
        self.dataset.addItem("(folder below)", None)
        try:
            for d in DatasetStore(self.ctx.library, self.ctx.paths).list():
                self.dataset.addItem(d.name, d.name)
        except Exception as exc:  # an unreadable library must not block the workspace
            self.log.appendPlainText(f"datasets could not be listed: {exc}")
        if self.dataset.count() > 1:
            self.dataset.setCurrentIndex(1)

    def _apply_preset(self, name: str) -> None:
        cfg = PRESETS[name]
        self.rank.setValue(cfg.lora.rank)
        self.alpha.setValue(cfg.lora.alpha)
        self.targets.setText(",".join(cfg.lora.targets))
        self.lr.setValue(cfg.lr)
        self.epochs.setValue(cfg.epochs)
        self.max_steps.setValue(cfg.max_steps or 0)
        self.batch.setValue(cfg.batch_size)
        self.depth.setValue(cfg.depth_fraction)
        self.ckpt_every.setValue(cfg.checkpoint_every)
        self.eval_every.setValue(cfg.eval_every)
        self.max_clip.setValue(cfg.max_clip_seconds or 0)
        self.heldout.setValue(cfg.heldout_fraction)

    def _pick_folder(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Folder of clips")
        if d:
            self.folder.setText(d)
            self.dataset.setCurrentIndex(0)

    def _pick_model(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Base model folder")
        if d:
            self.model.setText(d)

    def arguments(self) -> list[str]:
        """The CLI arguments for what the form shows (every hyperparameter explicit)."""
        source = self.dataset.currentData()
        name = self.name.text().strip() or (source or Path(self.folder.text()).name or "tuned")
        args = ["--model", self.model.text().strip(), "--name", name, "--out", str(self._run_dir(name)),
                "--tuned-dir", str(self._models() / "tuned"),
                "--preset", self.preset.currentText(), "--rank", str(self.rank.value()),
                "--alpha", str(self.alpha.value()), "--targets", self.targets.text().strip(),
                "--lr", repr(self.lr.value()), "--epochs", str(self.epochs.value()),
                "--batch-size", str(self.batch.value()), "--depth-fraction", repr(self.depth.value()),
                "--checkpoint-every", str(self.ckpt_every.value()), "--eval-every", str(self.eval_every.value()),
                "--heldout", str(self.heldout.value())]
        args += ["--dataset", source] if source else ["--folder", self.folder.text().strip()]
        if self.max_steps.value():
            args += ["--max-steps", str(self.max_steps.value())]
        if self.max_clip.value():
            args += ["--max-clip-seconds", str(self.max_clip.value())]
        if self.all_qc.isChecked():
            args.append("--keep-mismatched" if not source else "--all-qc")
        return args

    def _models(self) -> Path:
        from studio.ui.models.controller import models_root

        return models_root(self.ctx)

    def _run_dir(self, name: str) -> Path:
        return self._models() / "runs" / name

    # -- actions ------------------------------------------------------------------------------------
    def start(self) -> None:
        if not self.model.text().strip():
            QMessageBox.warning(self, "Fine-tune", "Choose the base model folder first.")
            return
        if not self.dataset.currentData() and not self.folder.text().strip():
            QMessageBox.warning(self, "Fine-tune", "Choose a dataset or a folder of clips.")
            return
        args = self.arguments()
        self.run_dir = Path(args[args.index("--out") + 1])
        self.base_model = self.model.text().strip()
        self._train, self._held = ([], []), ([], [])
        self.train_curve.setData([], [])
        self.held_curve.setData([], [])
        self.checkpoints.clear()
        self.auditioner.forget_base()  # a new run: its held-out sentences may differ
        self.stats.setText("Starting (loading the model, encoding clips once) …")
        self.runner.start(args)
        self._update_buttons()

    def resume(self) -> None:
        if self.run_dir is None:
            return
        self.stats.setText("Resuming from the last checkpoint …")
        self.runner.start(["--resume", str(self.run_dir), "--tuned-dir", str(self._models() / "tuned")])
        self._update_buttons()

    def promote(self) -> None:
        from engine.train.tuned import promote

        ckpt = self._selected_checkpoint()
        if ckpt is None or self.run_dir is None:
            return
        name = f"{self.run_dir.name}-{ckpt.name}"
        try:
            dest = promote(ckpt, self._models() / "tuned", name, Path(self.base_model))
        except (ValueError, OSError) as exc:
            QMessageBox.warning(self, "Fine-tune", str(exc))
            return
        (ckpt / "promoted").write_text(str(dest))  # kept when older checkpoints are pruned
        self.log.appendPlainText(f"tuned voice: {dest} (use it as a model in Synthesize / Compare)")

    def _selected_checkpoint(self) -> Path | None:
        path = self.checkpoints.selected_path()
        return Path(path) if path else None

    def audition(self, ckpt: Path | None = None) -> None:
        """Queue auditions of a checkpoint (the selected one by default); they run after any queued."""
        ckpt = ckpt or self._selected_checkpoint()
        if ckpt is None or self.run_dir is None:
            return
        if self.auditioner.start(ckpt, Path(self.base_model), self.run_dir):
            self.audition_btn.setEnabled(False)

    def _auditions_done(self, ok: bool) -> None:
        self.audition_btn.setEnabled(True)
        self.compare_btn.setEnabled(self.checkpoints.count() > 0)
        if self._compare_pending is not None:
            compare_ws, items, ckpt = self._compare_pending
            self._compare_pending = None
            self._start_compare(compare_ws, items, ckpt)

    def blind_compare(self, compare_ws=None) -> None:
        """Base vs the selected checkpoint as a blind Compare: every held-out sentence (up to 6), same
        seeds, without and with the speaker's reference clip; missing takes are made first."""
        from studio.ui.finetune import compare_setup as C

        ckpt = self._selected_checkpoint()
        if self.run_dir is None or ckpt is None:
            return
        if compare_ws is None:
            win = self.window()
            compare_ws = win.show_workspace("Compare") if hasattr(win, "show_workspace") else None
        if compare_ws is None:
            QMessageBox.information(self, "Fine-tune", "The Compare workspace is needed.")
            return
        items = C.plan(self.run_dir, ckpt)
        jobs = C.synth_jobs(items, self.run_dir, ckpt, Path(self.base_model))
        if not jobs:
            self._start_compare(compare_ws, items, ckpt)
            return
        self._compare_pending = (compare_ws, items, ckpt)
        self.compare_btn.setEnabled(False)
        self.log.appendPlainText(f"making {len(jobs)} takes for the blind compare …")
        self.auditioner.synth_jobs(jobs)

    def _start_compare(self, compare_ws, items, ckpt: Path) -> None:
        from studio.ui.finetune import compare_setup as C

        rounds = C.store_takes(self.ctx, self.run_dir, items, self._hashes.get(ckpt.name, ""))
        if not rounds:
            QMessageBox.information(self, "Fine-tune", "No takes could be made for the comparison (see the log).")
            return
        C.start_blind_compare(compare_ws, rounds)

    def _show_scores(self, rows: dict) -> None:
        """WER, similarity to the dataset's speaker and DNSMOS beside each audition and as the
        checkpoint's columns."""
        self.checkpoints.set_scores(rows)
        def num(v, fmt):
            try:
                return fmt.format(float(v))
            except (TypeError, ValueError):
                return "–"

        for i in range(self.auditions.count()):
            item = self.auditions.item(i)
            system, _, idx = item.text().split("  —  ")[0].rpartition(" ")
            r = rows.get((system, idx))
            if r is not None:
                item.setText(f"{system} {idx}  —  WER {num(r.get('wer'), '{:.0%}')}  similarity "
                             f"{num(r.get('similarity'), '{:.2f}')}  DNSMOS {num(r.get('dnsmos_ovr'), '{:.2f}')}")

    def _take_ready(self, label: str, wav: str) -> None:
        self.auditions.addItem(f"{label}  —  {Path(wav).parent.name}/{Path(wav).name}")
        self.auditions.item(self.auditions.count() - 1).setData(256, wav)

    def _play(self, item) -> None:
        import soundfile as sf

        x, sr = sf.read(item.data(256), dtype="float32")  # a few seconds: milliseconds to read
        self.ctx.player.play(x, sr)

    # -- events ------------------------------------------------------------------------------------
    def _on_event(self, e: dict) -> None:
        kind = e.get("event")
        if kind == "StepDone":
            self._train[0].append(e["step"])
            self._train[1].append(e["loss"])
            self.train_curve.setData(*self._train)
            eta = f"{e['eta_s'] / 60:.1f} min" if e.get("eta_s") is not None else "measuring"
            self._last_stats = (f"step {e['step']}/{e['total_steps']}  loss {e['loss']:.3f}  "
                                f"{e['steps_per_s']:.2f} steps/s  ETA {eta}  "
                                f"memory {e['peak_memory_bytes'] / 2**30:.1f} GiB")
            self.stats.setText(self._last_stats)
        elif kind == "HeldOutLoss":
            self._held[0].append(e["step"])
            self._held[1].append(e["loss"])
            self.held_curve.setData(*self._held)
        elif kind == "CheckpointSaved":
            self._hashes[Path(e["path"]).name] = e["adapter_hash"]
            self.checkpoints.add(Path(e["path"]).name, e["path"], e["adapter_hash"])
            self.compare_btn.setEnabled(True)
            if self.auto_audition.isChecked() and self.run_dir is not None:
                self.audition(Path(e["path"]))  # queued: child processes, training goes on
        elif kind == "TrainFinished":
            self.stats.setText(f"{e['reason']}: {e['message']}  ·  {self._last_stats}")

    def _on_finished(self, code: int, state: str) -> None:
        if state != "done":
            self.stats.setText(f"{state} (exit {code}): " + self.stats.text())
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.runner.running
        self.start_btn.setEnabled(not running)
        self.pause_btn.setEnabled(running)
        self.cancel_btn.setEnabled(running)
        self.resume_btn.setEnabled(not running and self.run_dir is not None)

    def shutdown(self) -> None:
        """The studio closes: ask for a checkpoint after the current step and give it a moment (a
        CPU step of the real model takes about a minute; past the wait the run resumes from the
        previous checkpoint)."""
        if self.runner.running:
            self.runner.pause()
            self.runner.proc.waitForFinished(10_000)
