"""The Dataset workspace: datasets on the left; Record (teleprompter), Takes & QC and Long recording
tabs on the right, the phoneme coverage chart below. Built by the main window as `DatasetWorkspace(ctx)`.
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QSplitter, QTabWidget, QVBoxLayout, QWidget)

from studio.core.asr_choice import transcriber_args
from studio.core.datasets import DatasetStore
from studio.ui.dataset.coverage_chart import CoverageChart
from studio.ui.dataset.long_recording import LongRecordingPanel
from studio.ui.dataset.qc_table import QcPanel
from studio.ui.dataset.teleprompter import Teleprompter
from studio.ui.dataset.watermark import TakeWatermark
from studio.ui.widgets.background import analysis_pool, run_in_background

log = logging.getLogger(__name__)


# prompt text -> (phone counts [39], unknown words, word count); prompts rarely change
_text_phones: dict[str, tuple] = {}


def _coverages(store, dataset_id: int):
    """(script coverage, recorded coverage). Runs after every take: plain text columns from SQL and
    per-prompt phone counts summed with NumPy keep it to a few ms for 1132 prompts (was ~170 ms of
    GIL-holding Python building a Take per row and looking up every word again)."""
    from collections import Counter

    import numpy as np

    from engine.text.phonemes import ARPABET, Coverage, coverage

    def total(texts: list[str]) -> Coverage:
        out = Coverage()
        if not texts:
            return out
        rows = []
        for t in texts:
            m = _text_phones.get(t)
            if m is None:
                c = coverage([t])
                m = _text_phones[t] = (np.array([c.counts[p] for p in ARPABET], np.int64), c.unknown_words, c.words)
            rows.append(m)
            if m[1]:
                out.unknown_words.update(m[1])
        sums = np.sum([m[0] for m in rows], axis=0)
        out.counts = Counter({p: int(n) for p, n in zip(ARPABET, sums) if n})
        out.words = sum(m[2] for m in rows)
        return out

    script, recorded = store.prompt_texts(dataset_id)
    return total(script), total(recorded)


class DatasetWorkspace(QWidget):
    title = "Dataset"
    datasetOpened = Signal(int)

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.setObjectName("datasetWorkspace")
        self.ctx = ctx
        self.store = DatasetStore(ctx.library, ctx.paths)
        self.undo_stack = QUndoStack(self)
        self.dataset = None
        self.export_dialog = None
        self.script_issues: list[str] = []
        # Left: datasets and what to do with them.
        self.list = QListWidget()
        self.list.setObjectName("datasetList")
        self.list.currentItemChanged.connect(self._picked)
        self.new_btn = QPushButton("New dataset…")
        self.new_btn.clicked.connect(self.new_dataset)
        self.arctic_btn = QPushButton("Add CMU ARCTIC prompts")
        self.arctic_btn.clicked.connect(lambda: self.add_builtin_script("cmu_arctic"))
        self.script_btn = QPushButton("Add prompts from file…")
        self.script_btn.clicked.connect(self.choose_script)
        self.export_btn = QPushButton("Export…")
        self.export_btn.clicked.connect(self.open_export)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.info.setObjectName("hint")
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.addWidget(QLabel("Datasets"))
        ll.addWidget(self.list, 1)
        for b in (self.new_btn, self.arctic_btn, self.script_btn, self.export_btn):
            ll.addWidget(b)
        ll.addWidget(self.info)
        # Right: the three ways of working on a dataset.
        self.teleprompter = Teleprompter(ctx, self.store)
        self.qc = QcPanel(self.store)
        self.qc.asr_args = lambda: transcriber_args(ctx.settings, ctx.paths)
        self.watermark = TakeWatermark(self.qc, self)  # "Check for watermark" on the QC table's takes
        self.long = LongRecordingPanel(ctx, self.store, self.undo_stack)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.teleprompter, "Record")
        self.tabs.addTab(self.qc, "Takes && QC")
        self.tabs.addTab(self.long, "Long recording")
        self.tabs.currentChanged.connect(self._tab_changed)
        self.chart = CoverageChart()
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.tabs, 1)
        rl.addWidget(self.chart)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 4)
        split.setSizes([240, 900])
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)
        for sig in (self.teleprompter.message, self.long.message):
            sig.connect(lambda m: self.ctx.status.show(m, 6000))
        self.teleprompter.takeFinished.connect(self._take_finished)
        self.teleprompter.recordingStarted.connect(self.qc.warm_up)
        self.qc.jumpToPrompt.connect(self._jump)
        self.qc.qcFinished.connect(self.teleprompter.refresh)
        self.long.added.connect(lambda n: self.open_dataset(self.dataset.id))
        # Imported segments get QC too (their text came from ASR: no WER), watermark check included.
        self.long.takesAdded.connect(lambda ids: self.qc.run_for(ids, use_asr=False))
        self._update_buttons()
        self.reload_list()

    # ----- datasets ---------------------------------------------------------------------------
    def reload_list(self, select: int | None = None) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for d in self.store.list():
            it = QListWidgetItem(d.name)
            it.setData(Qt.UserRole, d.id)
            self.list.addItem(it)
            if d.id == select:
                self.list.setCurrentItem(it)
        self.list.blockSignals(False)

    def new_dataset(self) -> None:
        from studio.ui.dataset.new_dataset_dialog import NewDatasetDialog

        dlg = NewDatasetDialog(self.store, self.ctx.settings.input_device, self)
        if dlg.exec() and dlg.dataset is not None:
            self.reload_list(dlg.dataset.id)
            self.open_dataset(dlg.dataset.id)

    def _picked(self, item, _prev=None) -> None:
        if item is not None:
            self.open_dataset(item.data(Qt.UserRole))

    def open_dataset(self, dataset_id: int) -> None:
        """Open (or reopen) a dataset: recover takes a crash interrupted, resume at its prompt."""
        recovered = self.store.recover_interrupted(dataset_id)
        self.dataset = self.store.get(dataset_id)
        if self.list.currentItem() is None or self.list.currentItem().data(Qt.UserRole) != dataset_id:
            self.reload_list(dataset_id)
        self.teleprompter.open_dataset(self.dataset)
        self.qc.open_dataset(self.dataset)
        self.long.open_dataset(self.dataset)
        if recovered:
            self.ctx.status.show(f"Recovered {len(recovered)} take(s) interrupted when Mynah last closed", 10000)
            self.qc.run_for([t.id for t in recovered])
        self._update_info()
        self._update_buttons()
        self.refresh_coverage()
        if self.isVisible():
            self.teleprompter.start_monitor()  # meter + noise floor before the first take
        self.datasetOpened.emit(dataset_id)

    def _update_info(self) -> None:
        d = self.dataset
        if d is None:
            self.info.setText("")
            return
        prog = self.store.progress(d.id)  # after every take: aggregates, not a row per take
        self.info.setText(f"{d.speaker or 'unnamed speaker'} · {d.language} · {d.sample_rate / 1000:g} kHz\n"
                          f"{prog.recorded}/{prog.prompts} prompts · {prog.minutes:.1f} of "
                          f"{d.target_minutes:g} min\n{d.gain_notes}")

    def _update_buttons(self) -> None:
        has = self.dataset is not None
        for b in (self.arctic_btn, self.script_btn, self.export_btn):
            b.setEnabled(has)

    # ----- scripts ----------------------------------------------------------------------------
    def add_builtin_script(self, key: str) -> None:
        from engine.text.prompts import builtin_script

        self._add_script(builtin_script(key))

    def choose_script(self) -> None:
        f, _ = QFileDialog.getOpenFileName(self, "Prompt script", "", "Scripts (*.txt *.csv *.tsv);;All (*)")
        if f:
            self.add_script_file(Path(f))

    def add_script_file(self, path: Path) -> None:
        from engine.text.prompts import PromptScriptError, load_script

        try:
            script = load_script(path)
        except PromptScriptError as exc:
            self.ctx.status.error.emit("Prompt script", str(exc))
            self.ctx.status.show(str(exc), 10000)
            return
        self._add_script(script)

    def _add_script(self, script) -> None:
        if self.dataset is None:
            return
        n = self.store.add_prompts(self.dataset.id, script.prompts, script_name=script.name)
        self.script_issues = [i.message for i in script.issues]
        msg = f"Added {n} prompts from {script.name}"
        if script.issues:
            msg += f"; {len(script.issues)} note(s): " + "; ".join(self.script_issues[:3])
        self.ctx.status.show(msg, 10000)
        self.open_dataset(self.dataset.id)

    # ----- sessions, QC, coverage --------------------------------------------------------------
    def _take_finished(self, take_id: int) -> None:
        self.qc.run_for([take_id])
        self._update_info()
        self.refresh_coverage()

    def refresh_coverage(self) -> None:
        if self.dataset is None:
            return
        # Not niced: pure Python that holds the GIL (the first time, ~1 s to read the CMU dictionary);
        # a niced thread preempted while holding it would stall the GUI thread (see background.py).
        run_in_background(_coverages, self.store, self.dataset.id, pool=analysis_pool(), owner=self,
                          on_done=lambda c: self.chart.set_coverage(*c), lower_priority=False)

    def _jump(self, ord_: int) -> None:
        self.tabs.setCurrentWidget(self.teleprompter)
        self.teleprompter.go(ord_)
        self.teleprompter.setFocus()

    def _tab_changed(self, _i: int) -> None:
        if self.tabs.currentWidget() is self.teleprompter:
            self.teleprompter.setFocus()

    def open_export(self):
        from studio.ui.dataset.export_dialog import ExportDialog

        if self.dataset is None:
            return None
        self.export_dialog = ExportDialog(self.store, self.dataset, self.qc.qc_summary(), self)
        self.export_dialog.show()
        return self.export_dialog

    # ----- main-window hooks ------------------------------------------------------------------
    def toggle_record(self) -> None:
        self.tabs.setCurrentWidget(self.teleprompter)
        self.teleprompter.toggle_record()

    def import_files(self, paths: list[Path]) -> None:
        """Dropped/opened files: a script adds prompts, audio goes to the long-recording importer."""
        for p in map(Path, paths):
            if p.suffix.lower() in (".txt", ".csv", ".tsv"):
                self.add_script_file(p)
            else:
                self.tabs.setCurrentWidget(self.long)
                self.long.import_file(p)

    def showEvent(self, ev) -> None:
        super().showEvent(ev)
        self.teleprompter.start_monitor()

    def hideEvent(self, ev) -> None:
        super().hideEvent(ev)
        if not self.teleprompter.is_recording:
            self.teleprompter._stop_monitor()

    def shutdown(self) -> None:
        self.teleprompter.stop_all()
        self.watermark.shutdown()
