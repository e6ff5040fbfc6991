"""Takes & QC: one row per take with its measurements and flag badges, a filter, the retake queue.

QC runs on the analysis pool (one thread), never on the GUI thread; results are stored on the take
so the table fills instantly next time.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from studio.ui.theme import COLORS
from studio.ui.widgets.background import analysis_pool, run_in_background

log = logging.getLogger(__name__)

COLUMNS = ["Prompt", "Take", "Best", "Duration", "LUFS", "Peak", "SNR", "Lead/trail", "WER", "QC"]
FILTERS = ["All takes", "Flagged", "Best takes", "clipping", "quiet", "noise", "silence", "cut_off",
           "duration", "rate", "wer", "silent"]


def run_qc(store, dataset_id: int, take_ids: list[int], use_asr: bool, report=None) -> int:
    """Worker: measure each take, then re-judge speaking rate over the whole session."""
    from studio.core.dataset_qc import TakeQC, find_transcriber, flag_rates, qc_file

    transcriber = find_transcriber() if use_asr else None
    texts = {p.id: p.text for p in store.prompts(dataset_id)}
    for tid in take_ids:
        t = store.take(tid)
        if not t.usable or not t.path.exists():
            continue
        try:
            qc = qc_file(t.path, texts.get(t.prompt_id, ""), transcriber=transcriber)
        except Exception as exc:  # e.g. discarded (moved to the trash) while queued: skip, keep going
            log.warning("QC of take %s skipped: %s", tid, exc)
            continue
        store.set_qc(tid, qc.to_dict())
        if report is not None:
            report(tid)
    takes = [t for t in store.takes(dataset_id) if t.qc]
    reports = [TakeQC.from_dict(t.qc) for t in takes]
    flag_rates(reports)
    for t, r in zip(takes, reports):
        if r.flags != t.qc.get("flags"):
            store.set_qc(t.id, r.to_dict())
    return len(take_ids)


class QcPanel(QWidget):
    jumpToPrompt = Signal(int)  # prompt ord
    qcFinished = Signal()

    def __init__(self, store, parent=None):
        super().__init__(parent)
        self.store = store
        self.dataset = None
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("qcTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellDoubleClicked.connect(self._row_jump)
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

    def open_dataset(self, dataset) -> None:
        self.dataset = dataset
        self.refresh()

    def run_for(self, take_ids: list[int] | None) -> None:
        """Start QC in the background for these takes (None: every take without QC or all on re-run)."""
        if self.dataset is None:
            return
        if take_ids is None:
            take_ids = [t.id for t in self.store.takes(self.dataset.id)]
        self._pending += 1
        self.summary.setText("Checking takes…")
        run_in_background(run_qc, self.store, self.dataset.id, take_ids, self.use_asr.isChecked(),
                          on_done=self._done, on_error=self._failed, on_progress=lambda _: self.refresh(),
                          pool=analysis_pool(), owner=self)

    def _done(self, _n) -> None:
        self._pending -= 1
        self.refresh()
        self.qcFinished.emit()

    def _failed(self, exc) -> None:
        self._pending -= 1
        self.summary.setText(f"QC failed: {exc}")
        self.qcFinished.emit()

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def _row_jump(self, row: int, _col: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.jumpToPrompt.emit(item.data(Qt.UserRole))

    def refresh(self) -> None:
        if self.dataset is None:
            return
        prompts = {p.id: p for p in self.store.prompts(self.dataset.id)}
        takes = self.store.takes(self.dataset.id)
        per_prompt: dict[int, int] = {}
        mode = self.filter.currentText()
        rows = []
        flagged_prompts: dict[int, list[str]] = {}
        for t in takes:
            per_prompt[t.prompt_id] = per_prompt.get(t.prompt_id, 0) + 1
            flags = t.qc.get("flags", [])
            if t.is_best and flags:
                flagged_prompts[t.prompt_id] = flags
            if (mode == "Flagged" and not flags) or (mode == "Best takes" and not t.is_best) or \
                    (mode not in FILTERS[:3] and mode not in flags):
                continue
            rows.append((t, per_prompt[t.prompt_id]))
        self.table.setRowCount(len(rows))
        for r, (t, n) in enumerate(rows):
            p = prompts.get(t.prompt_id)
            q = t.qc
            vals = [p.key if p else "?", str(n), "★" if t.is_best else "", f"{t.duration_s or 0:.2f} s",
                    _num(q.get("lufs"), "{:.1f}"), _num(q.get("peak_dbfs"), "{:.1f}"), _num(q.get("snr_db"), "{:.0f} dB"),
                    f"{q['lead_silence_s']:.2f}/{q['trail_silence_s']:.2f}" if "lead_silence_s" in q else "",
                    _num(q.get("wer"), "{:.0%}"), "  ".join(q.get("flags", [])) or ("ok" if q else "…")]
            for c, v in enumerate(vals):
                it = QTableWidgetItem(v)
                if c == 0 and p is not None:
                    it.setData(Qt.UserRole, p.ord)
                    it.setToolTip(p.text)
                if c == len(vals) - 1 and q:
                    it.setForeground(QColor(COLORS["warn"] if q.get("flags") else COLORS["ok"]))
                    it.setToolTip("\n".join(q.get("notes", [])))
                self.table.setItem(r, c, it)
        self.queue.clear()
        for pid, flags in flagged_prompts.items():
            p = prompts[pid]
            it = QListWidgetItem(f"{p.key}: {', '.join(flags)}")
            it.setData(Qt.UserRole, p.ord)
            self.queue.addItem(it)
        if not self.busy:
            self.summary.setText(f"{len(takes)} takes · {len(flagged_prompts)} prompts to retake")

    def qc_summary(self) -> dict[str, int]:
        out: dict[str, int] = {}
        if self.dataset is None:
            return out
        for t in self.store.best_takes(self.dataset.id).values():
            for f in t.qc.get("flags", []):
                out[f] = out.get(f, 0) + 1
        return out


def _num(v, fmt: str) -> str:
    return "" if v is None else fmt.format(v)
