"""Takes & QC: one row per take with its measurements and flag badges, a filter, the retake queue.

QC (and its ASR) runs in the QC child process (`studio.core.qc_worker`), so it cannot hold this
process's GIL; a background thread only hands it the file and stores the result on the take, so the
table fills instantly next time. A take whose QC failed keeps `{"error": ...}` as its QC and shows
"QC failed: ..." until a re-run succeeds.
"""
from __future__ import annotations

import logging
import threading

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QSplitter, QTableView, QVBoxLayout, QWidget)

from studio.ui.dataset.qc_model import COLUMN_WIDTHS, TakeRows
from studio.ui.widgets.background import analysis_pool, run_in_background

log = logging.getLogger(__name__)

FILTERS = ["All takes", "Flagged", "Best takes", "clipping", "quiet", "noise", "silence", "cut_off",
           "duration", "rate", "wer", "silent", "watermark"]


def run_qc(store, dataset_id: int, take_ids: list[int], use_asr: bool, worker=None, report=None,
           asr_args=None, watermark: bool = True) -> int:
    """Background thread: QC each take in the QC process, then re-judge speaking rate over the
    whole session. A take the QC process could not check (it crashed, the file is unreadable) is
    stored as `{"error": message}`; the others go on. Returns how many takes failed. `asr_args`: a
    callable giving the user's recognizer (`studio.core.asr_choice.transcriber_args`)."""
    from studio.core.dataset_qc import TakeQC, flag_rates
    from studio.core.qc_worker import QcWorkerClosed, QcWorkerError, shared_worker

    worker = worker or shared_worker()
    if use_asr and asr_args is not None:
        worker.asr_args = asr_args()
    texts = {p.id: p.text for p in store.prompts(dataset_id)}
    failed = 0
    for tid in take_ids:
        t = store.take(tid)
        if not t.usable or not t.path.exists():
            continue  # e.g. discarded (moved to the trash) while queued
        try:
            qc = worker.measure(t.path, texts.get(t.prompt_id, ""), use_asr=use_asr, watermark=watermark).to_dict()
        except QcWorkerClosed:  # the app is closing: leave the rest unchecked, not failed
            return failed
        except QcWorkerError as exc:
            log.warning("QC of take %s failed: %s", tid, exc)
            qc = {"error": str(exc)}
            failed += 1
        store.set_qc(tid, qc)
        if report is not None:
            report(tid)
    stored = store.stored_qc(dataset_id)  # plain columns: this runs after every take
    reports = [TakeQC.from_dict(q) for _, q in stored]
    flag_rates(reports)
    for (tid, q), r in zip(stored, reports):
        if r.flags != q.get("flags"):
            store.set_qc(tid, r.to_dict())
    return failed


class QcPanel(QWidget):
    jumpToPrompt = Signal(int)  # prompt ord
    qcFinished = Signal()

    def __init__(self, store, parent=None, *, worker=None):
        super().__init__(parent)
        self.store = store
        self.worker = worker  # a QcWorker; None: the app's shared one
        self.dataset = None
        self.model = TakeRows(self)
        self.table = QTableView()
        self.table.setObjectName("qcTable")
        self.table.setModel(self.model)
        self.table.setEditTriggers(QTableView.NoEditTriggers)
        self.table.setSelectionBehavior(QTableView.SelectRows)
        self.table.verticalHeader().setDefaultSectionSize(22)
        # Fixed starting widths the user can drag: sizing to contents asks the model for every
        # cell of every row on each refill (5.6 s for 1000 takes).
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.Interactive)
        header.setStretchLastSection(True)
        for c, w in enumerate(COLUMN_WIDTHS):
            self.table.setColumnWidth(c, w)
        self.table.doubleClicked.connect(lambda ix: self._row_jump(ix.row(), ix.column()))
        self.filter = QComboBox()
        self.filter.addItems(FILTERS)
        self.filter.currentIndexChanged.connect(self.refresh)
        self.use_asr = QCheckBox("ASR (WER) in QC")
        self.use_asr.setToolTip("Transcribe each take and compare with its prompt (slower; needs the Whisper model)")
        self.use_asr.setChecked(True)
        self.rerun = QPushButton("Re-run QC")
        self.rerun.clicked.connect(lambda: self.run_for(None))
        self.summary = QLabel("")
        self.queue = QListWidget()
        self.queue.setObjectName("retakeQueue")
        self.queue.itemDoubleClicked.connect(lambda it: self.jumpToPrompt.emit(it.data(Qt.UserRole)))
        top = QHBoxLayout()
        top.addWidget(QLabel("Show:"))
        top.addWidget(self.filter)
        top.addWidget(self.use_asr)
        top.addWidget(self.rerun)
        top.addStretch(1)
        top.addWidget(self.summary)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(QLabel("Retake queue (double-click to record again)"))
        rl.addWidget(self.queue)
        split = QSplitter()
        split.addWidget(self.table)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        self._pending = 0
        self._stale = False
        self._warmed = self._warmed_asr = False
        self.asr_args = None  # callable -> the user's recognizer; the Dataset workspace sets it

    def open_dataset(self, dataset) -> None:
        self.dataset = dataset
        self.refresh_when_seen()

    def run_for(self, take_ids: list[int] | None, *, use_asr: bool | None = None) -> None:
        """Start QC in the background for these takes (None: every take, as "Re-run QC" does). Every
        take's QC includes the AI-watermark check (in the QC process). `use_asr` overrides the box."""
        if self.dataset is None:
            return
        if take_ids is None:
            take_ids = [t.id for t in self.store.takes(self.dataset.id)]
        self._pending += 1
        self.summary.setText("Checking takes…")
        # Not niced: this thread only waits on the QC process and writes the result; a niced thread
        # preempted while holding the GIL (or the library lock) would stall the GUI thread.
        asr = self.use_asr.isChecked() if use_asr is None else use_asr
        run_in_background(run_qc, self.store, self.dataset.id, take_ids, asr, self.worker,
                          asr_args=self.asr_args, on_done=self._done, on_error=self._failed, on_progress=lambda _: self.refresh_when_seen(),
                          pool=analysis_pool(), owner=self, lower_priority=False)

    def warm_up(self) -> None:
        """Start the QC process (and load the ASR model) while the first take is recorded, so its
        QC is quick. (Starting it when a dataset opens measured no smoother while recording, and
        rougher while the dataset opened.) A plain thread, not a pool's: it only waits on a pipe
        (seconds), and it does the first import of the client module (~40 ms) off the GUI thread."""
        panel_worker, use_asr, asr_args = self.worker, self.use_asr.isChecked(), self.asr_args
        if self._warmed_asr or (self._warmed and not use_asr):
            return  # already started with what this take's QC needs (a crashed child restarts by itself)
        self._warmed, self._warmed_asr = True, use_asr

        def warm():
            from studio.core.qc_worker import QcWorkerError, shared_worker

            try:
                w = panel_worker or shared_worker()
                if use_asr and asr_args is not None:
                    w.asr_args = asr_args()
                w.warm_up(use_asr=use_asr, watermark=True)
            except QcWorkerError as exc:  # the take's own QC will report it
                log.warning("warming up the QC process: %s", exc)
        threading.Thread(target=warm, daemon=True, name="qc-warm-up").start()

    def _done(self, failed: int) -> None:
        self._pending -= 1
        self.refresh_when_seen()
        if failed and not self.busy:
            self.summary.setText(f"QC failed on {failed} take(s): see the QC column; Re-run QC to try again")
        self.qcFinished.emit()

    def _failed(self, exc) -> None:
        self._pending -= 1
        self.summary.setText(f"QC failed: {exc}")
        self.qcFinished.emit()

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def _row_jump(self, row: int, _col: int) -> None:
        ord_ = self.model.index(row, 0).data(Qt.UserRole)
        if ord_ is not None:
            self.jumpToPrompt.emit(ord_)

    def refresh_when_seen(self) -> None:
        """Refresh now if the table is on screen, else when it is shown: while the user records,
        the table is hidden and a refill after every take would only cost GUI time."""
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def showEvent(self, ev) -> None:
        super().showEvent(ev)
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        self._stale = False
        if self.dataset is None:
            return
        prompts = {p.id: p for p in self.store.prompts(self.dataset.id)}
        takes = self.store.takes(self.dataset.id)
        per_prompt: dict[int, int] = {}
        mode = self.filter.currentText()
        rows = []
        flagged_prompts: dict[int, list[str]] = {}
        failed = 0
        for t in takes:
            per_prompt[t.prompt_id] = per_prompt.get(t.prompt_id, 0) + 1
            flags = t.qc.get("flags", [])
            failed += "error" in t.qc
            if t.is_best and flags:
                flagged_prompts[t.prompt_id] = flags
            needs_look = bool(flags) or "error" in t.qc
            if (mode == "Flagged" and not needs_look) or (mode == "Best takes" and not t.is_best) or \
                    (mode not in FILTERS[:3] and mode not in flags):
                continue
            rows.append((t, per_prompt[t.prompt_id], prompts.get(t.prompt_id)))
        self.model.set_rows(rows)
        self.queue.clear()
        for pid, flags in flagged_prompts.items():
            p = prompts[pid]
            it = QListWidgetItem(f"{p.key}: {', '.join(flags)}")
            it.setData(Qt.UserRole, p.ord)
            self.queue.addItem(it)
        if not self.busy:
            self.summary.setText(f"{len(takes)} takes · {len(flagged_prompts)} prompts to retake"
                                 + (f" · QC failed on {failed}" if failed else ""))

    def qc_summary(self) -> dict[str, int]:
        out: dict[str, int] = {}
        if self.dataset is None:
            return out
        for t in self.store.best_takes(self.dataset.id).values():
            for f in t.qc.get("flags", []):
                out[f] = out.get(f, 0) + 1
        return out
