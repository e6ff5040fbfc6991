"""Long recording -> segments: VAD segmentation and ASR in the background, then a proofreading table
(play, edit text, merge with next, split at the playhead, delete; all undoable) over the waveform,
and "Add to dataset" which writes each segment as a take of a new prompt."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import (QCheckBox, QDoubleSpinBox, QFileDialog, QHBoxLayout, QLabel, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from engine.audio import segment as S
from engine.audio.formats import file_dialog_filter
from studio.ui.widgets.background import run_in_background
from studio.ui.widgets.waveform import WaveformView

log = logging.getLogger(__name__)
MAX_MINUTES = 60.0


def analyse_long(path: Path, opts: S.SegmentOptions, use_asr: bool, report=None, asr_args: dict | None = None):
    """Worker: load, segment, transcribe with the user's recognizer (`asr_args`, see
    `studio.core.asr_choice.transcriber_args`). Reports ("stage", done, total)."""
    from engine.audio.io import read_audio

    a = read_audio(path, mono=True)
    minutes = len(a.samples) / a.sample_rate / 60
    if minutes > MAX_MINUTES:
        raise ValueError(f"{path.name} is {minutes:.0f} minutes long; import at most {MAX_MINUTES:.0f} minutes at a time")
    if report:
        report(("Checking for an AI watermark", 0, 1))
    from engine.provenance import warning_for

    flag = warning_for(a.samples, a.sample_rate)  # generated speech is no recording to train on
    if report:
        report(("Finding pauses", 0, 1))
    segs, _ = S.segment_audio(a.samples, a.sample_rate, opts)
    note = ""
    if use_asr:
        from studio.core.dataset_qc import find_transcriber

        tr = find_transcriber(**(asr_args or {}))
        if tr is None:
            note = "No ASR model is installed: type the text of each segment."
        else:
            segs = S.transcribe_segments(a.samples, a.sample_rate, segs, tr,
                                         progress=lambda d, n: report and report(("Transcribing", d, n)))
    return a.samples, a.sample_rate, segs, " ".join(t for t in (flag, note) if t)


def add_segments_to_dataset(store, dataset_id: int, samples: np.ndarray, sr: int, segs, stem: str) -> list[int]:
    """Worker: each segment becomes a prompt with one (best) take. Returns the new take ids (the
    workspace runs their QC, watermark check included, so a generated passage is flagged per take)."""
    import soundfile as sf

    from engine.text.prompts import Prompt

    folder = store.takes_folder(dataset_id)
    existing = {p.key for p in store.prompts(dataset_id)}
    ids = []
    for i, s in enumerate(segs, 1):
        key = f"{stem}_{i:04d}"
        k = 2
        while key in existing:
            key, k = f"{stem}_{i:04d}-{k}", k + 1
        existing.add(key)
        x = samples[int(s.start_s * sr): int(s.end_s * sr)]
        path = folder / f"{key}.wav"
        sf.write(str(path), x, sr, subtype="PCM_24")
        store.add_prompts(dataset_id, [Prompt(key, s.text or "")])
        pid = next(p.id for p in store.prompts(dataset_id) if p.key == key)
        t = store.begin_take(dataset_id, pid, key)
        store.finish_take(t, path, duration_s=len(x) / sr, sample_rate=sr)
        ids.append(t)
    return ids


class _SetSegments(QUndoCommand):
    def __init__(self, panel, before, after, text):
        super().__init__(text)
        self.panel, self.before, self.after = panel, list(before), list(after)

    def redo(self):
        self.panel._set(self.after)

    def undo(self):
        self.panel._set(self.before)


class LongRecordingPanel(QWidget):
    segmented = Signal(int)  # number of segments
    added = Signal(int)
    takesAdded = Signal(list)  # the new take ids
    message = Signal(str)

    def __init__(self, ctx, store, undo_stack: QUndoStack, parent=None):
        super().__init__(parent)
        self.ctx, self.store, self.undo = ctx, store, undo_stack
        self.dataset = None
        self.samples: np.ndarray | None = None
        self.sr = 0
        self.source: Path | None = None
        self.segments: list[S.Segment] = []
        self.playhead_s = 0.0
        self._filling = False
        self.import_btn = QPushButton("Import long recording…")
        self.import_btn.clicked.connect(self.choose_file)
        self.min_s = QDoubleSpinBox(minimum=0.5, maximum=10, value=1.0, suffix=" s min")
        self.max_s = QDoubleSpinBox(minimum=2, maximum=30, value=12.0, suffix=" s max")
        self.pad = QDoubleSpinBox(minimum=0, maximum=1, singleStep=0.05, value=0.15, suffix=" s padding")
        self.asr = QCheckBox("Transcribe (ASR)")
        self.asr.setChecked(True)
        self.status = QLabel("Import a 1-60 minute recording of one speaker.")
        self.wave = WaveformView()
        self.wave.setMinimumHeight(110)
        self.wave.seekRequested.connect(self._seek)
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("proofreadTable")
        self.table.setHorizontalHeaderLabels(["Start", "End", "Length", "Text (editable)"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.itemChanged.connect(self._text_edited)
        self.table.currentCellChanged.connect(lambda r, *_: self._show_row(r))
        buttons = QHBoxLayout()
        self.play_btn = QPushButton("Play")
        self.merge_btn = QPushButton("Merge with next")
        self.split_btn = QPushButton("Split at playhead")
        self.delete_btn = QPushButton("Delete")
        self.add_btn = QPushButton("Add to dataset")
        for b, fn in ((self.play_btn, self.play_selected), (self.merge_btn, self.merge_selected),
                      (self.split_btn, self.split_selected), (self.delete_btn, self.delete_selected),
                      (self.add_btn, self.add_to_dataset)):
            b.clicked.connect(fn)
            buttons.addWidget(b)
        buttons.addStretch(1)
        top = QHBoxLayout()
        for w in (self.import_btn, self.min_s, self.max_s, self.pad, self.asr):
            top.addWidget(w)
        top.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.status)
        lay.addWidget(self.wave)
        lay.addWidget(self.table, 1)
        lay.addLayout(buttons)
        self._playhead_timer = QTimer(self, interval=50)
        self._playhead_timer.timeout.connect(self._follow_player)
        self._play_offset = 0.0

    def open_dataset(self, dataset) -> None:
        self.dataset = dataset

    # ----- import -----------------------------------------------------------------------------
    def choose_file(self) -> None:
        f, _ = QFileDialog.getOpenFileName(self, "Long recording", "", file_dialog_filter())
        if f:
            self.import_file(Path(f))

    def import_file(self, path: Path) -> None:
        opts = S.SegmentOptions(min_s=self.min_s.value(), max_s=self.max_s.value(), pad_s=self.pad.value())
        self.source = Path(path)
        self.import_btn.setEnabled(False)
        self.status.setText(f"Reading {self.source.name}…")
        from studio.core.asr_choice import transcriber_args

        asr_args = transcriber_args(self.ctx.settings, self.ctx.paths) if self.asr.isChecked() else None
        run_in_background(analyse_long, self.source, opts, self.asr.isChecked(), asr_args=asr_args,
                          on_done=self._analysed,
                          on_error=self._failed, on_progress=self._progress, owner=self)

    def _progress(self, p) -> None:
        stage, done, total = p
        self.status.setText(f"{stage}… {done}/{total}" if total > 1 else f"{stage}…")

    def _failed(self, exc) -> None:
        self.import_btn.setEnabled(True)
        self.status.setText(f"Could not segment the recording: {exc}")
        self.message.emit(str(exc))

    def _analysed(self, result) -> None:
        self.samples, self.sr, segs, note = result
        self.import_btn.setEnabled(True)
        self.undo.clear()
        self.wave.set_audio(self.samples, self.sr)
        self._set(segs)
        total = len(self.samples) / self.sr
        self.status.setText(f"{self.source.name}: {total / 60:.1f} min → {len(segs)} segments. {note}".strip())
        if "AI watermark" in note:
            self.message.emit(note)
        self.segmented.emit(len(segs))

    # ----- table ------------------------------------------------------------------------------
    def _set(self, segs) -> None:
        self.segments = list(segs)
        self._filling = True
        self.table.setRowCount(len(segs))
        for r, s in enumerate(segs):
            for c, v in enumerate((f"{s.start_s:.2f}", f"{s.end_s:.2f}", f"{s.duration_s:.2f}", s.text)):
                it = QTableWidgetItem(v)
                if c < 3:
                    it.setFlags(it.flags() & ~Qt.ItemIsEditable)
                self.table.setItem(r, c, it)
        self._filling = False

    def _text_edited(self, item) -> None:
        if self._filling or item.column() != 3:
            return
        r = item.row()
        old = self.segments[r]
        if item.text() != old.text:
            new = list(self.segments)
            new[r] = S.Segment(old.start_s, old.end_s, item.text())
            self.undo.push(_SetSegments(self, self.segments, new, f"Edit text of segment {r + 1}"))

    def _row(self) -> int:
        return self.table.currentRow()

    def _show_row(self, r: int) -> None:
        if 0 <= r < len(self.segments):
            s = self.segments[r]
            self.wave.set_selection(s.start_s, s.end_s)
            self.playhead_s = s.start_s

    def _seek(self, t: float) -> None:
        self.playhead_s = t
        self.wave.set_playhead(t)

    def _edit(self, fn, text: str) -> None:
        r = self._row()
        if r < 0:
            self.message.emit("Select a segment first")
            return
        try:
            new = fn(r)
        except (ValueError, IndexError) as exc:
            self.message.emit(str(exc))
            return
        self.undo.push(_SetSegments(self, self.segments, new, text))
        self.table.setCurrentCell(min(r, len(new) - 1), 3)

    def merge_selected(self) -> None:
        self._edit(lambda r: S.merge_with_next(self.segments, r), "Merge segments")

    def split_selected(self) -> None:
        self._edit(lambda r: S.split_at(self.segments, r, self.playhead_s), "Split segment")

    def delete_selected(self) -> None:
        self._edit(lambda r: S.delete(self.segments, r), "Delete segment")

    def play_selected(self) -> None:
        r = self._row()
        if r < 0 or self.samples is None:
            return
        s = self.segments[r]
        self._play_offset = s.start_s
        self.ctx.player.play(self.samples[int(s.start_s * self.sr): int(s.end_s * self.sr)], self.sr)
        self._playhead_timer.start()

    def _follow_player(self) -> None:
        try:
            pos, playing = self.ctx.player.position_s, self.ctx.player.is_playing
        except Exception:
            playing = False
            pos = 0.0
        self.playhead_s = self._play_offset + pos
        self.wave.set_playhead(self.playhead_s)
        if not playing:
            self._playhead_timer.stop()

    # ----- into the dataset -------------------------------------------------------------------
    def add_to_dataset(self) -> None:
        if self.dataset is None or self.samples is None or not self.segments:
            self.message.emit("Import and segment a recording first")
            return
        empty = sum(1 for s in self.segments if not s.text.strip())
        if empty:
            self.message.emit(f"{empty} segment(s) have no text yet; they are added with empty prompts")
        self.add_btn.setEnabled(False)
        run_in_background(add_segments_to_dataset, self.store, self.dataset.id, self.samples, self.sr,
                          list(self.segments), self.source.stem, on_done=self._added, on_error=self._failed,
                          owner=self)

    def _added(self, ids: list[int]) -> None:
        self.add_btn.setEnabled(True)
        self.status.setText(f"Added {len(ids)} segments to {self.dataset.name}")
        self.added.emit(len(ids))
        self.takesAdded.emit(ids)
