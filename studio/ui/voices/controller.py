"""Voices workspace wiring: import, record, edit (undoable), readouts, save/list voices.

All decoding, analysis, mel and file writing run on QThreadPool (`run_in_background`); results
come back as queued signals. A generation counter drops results that arrive for a clip state the
user has already replaced (fast undo/redo, a second import).
"""
from __future__ import annotations

import enum
import logging
import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QFileDialog

from engine.audio.formats import file_dialog_filter
from studio.ui.theme import COLORS
from studio.ui.voices import clip_state as cs
from studio.ui.voices.commands import SetClipState
from studio.ui.voices.library_actions import VoiceLibraryActions
from studio.ui.voices.recording_actions import RecordingActions
from studio.ui.voices.view import VoicesView
from studio.ui.widgets.background import analysis_pool, run_in_background
from studio.ui.widgets.transport import format_time

log = logging.getLogger(__name__)

ANALYSIS_DELAY_MS = 60  # see _apply_state
AXIS_DELAY_MS = 30  # a long import's header paints first, then its time axis (see _progress)
AUDIO_FILTER = file_dialog_filter()  # WAV/FLAC/... and the audio of M4A, MP4, MOV, MKV, WebM, WMA, AMR


def _fmt_db(v: float, unit: str = "dBFS") -> str:
    return f"{v:.1f} {unit}" if math.isfinite(v) else f"-inf {unit}"


def _warm_up_imports() -> None:
    import engine.audio.analysis  # noqa: F401  scipy.signal, scipy.stats
    import engine.audio.edit  # noqa: F401
    import engine.audio.mel  # noqa: F401  scipy.fft, scipy.sparse
    import engine.audio.resample  # noqa: F401  soxr


class _Shown(enum.IntEnum):
    NOTHING, HEADER, AXIS, PICTURE, WHOLE = range(5)


class VoicesController(RecordingActions, VoiceLibraryActions, QObject):
    clipChanged = Signal()  # the open clip changed (import, edit, undo)
    melReady = Signal()  # a spectrogram of the whole clip is shown (for long clips: the overview)
    melDetailReady = Signal()  # the 10 ms-hop spectrogram is in (same moment as melReady for short clips)
    previewShown = Signal()  # a long file's waveform started growing on screen while it decodes
    waveformShown = Signal()  # the whole imported file's waveform is drawn (maybe still decoding)
    importFinished = Signal(str, bool)  # path, ok
    voiceSaved = Signal(int)
    recordingChanged = Signal(bool)

    def __init__(self, ctx, view: VoicesView, parent=None):
        super().__init__(parent)
        self.ctx, self.view = ctx, view
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(30)  # each step may hold a full copy of the clip
        ctx.undo_group.addStack(self.undo_stack)
        self.state: cs.ClipState | None = None
        self.report = None
        self.errors: list[str] = []
        self._generation = 0
        self._analysis: list = []
        self._busy = 0
        self._recorder = None
        self._rec_timer = QTimer(self, interval=200)
        self._rec_timer.timeout.connect(self._poll_recorder)
        self._import_queue: list[Path] = []
        self._loading: Path | None = None
        # How far the import in progress is on screen: HEADER (name, banner), AXIS (the file's
        # time axis), PICTURE (the waveform grows), WHOLE (the whole file's waveform is drawn;
        # the samples may still be decoding).
        self._shown = _Shown.NOTHING
        self._importing = False
        v = view
        v.import_action.triggered.connect(self.choose_files)
        v.record_action.triggered.connect(lambda _checked: self.toggle_record())
        v.trim_action.triggered.connect(self.trim_to_selection)
        v.cut_action.triggered.connect(self.cut_selection)
        v.autotrim_action.triggered.connect(self.auto_trim)
        v.normalize_action.triggered.connect(self.normalize)
        v.normalize_mode.currentIndexChanged.connect(self._normalize_mode_changed)
        s = ctx.settings
        v.normalize_mode.setCurrentIndex(0 if s.normalize_mode == "lufs" else 1)
        self._normalize_mode_changed()
        v.waveform.selectionChanged.connect(self._selection_changed)
        v.save_button.clicked.connect(self.save_voice)
        v.add_clip_button.clicked.connect(self.add_clip_to_selected)
        v.open_voice_button.clicked.connect(self.open_selected_voice)
        v.voice_list.itemDoubleClicked.connect(lambda _i: self.open_selected_voice())
        v.rename_voice_button.clicked.connect(self.rename_selected_voice)
        v.duplicate_voice_button.clicked.connect(self.duplicate_selected_voice)
        v.delete_voice_button.clicked.connect(self.delete_selected_voice)
        v.voice_list.itemChanged.connect(self._voice_item_edited)
        v.voice_list.currentRowChanged.connect(lambda _r: self._show_voice_details())
        v.input_picker.set_current(ctx.settings.input_device)
        v.input_picker.deviceChanged.connect(self._input_changed)
        QTimer.singleShot(0, v.input_picker.refresh)  # lists devices off the GUI thread
        v.consent_check.toggled.connect(lambda _c: v.save_error.setText(""))
        self.refresh_library()
        self._update_enabled()
        # Import scipy & co. now, while nothing is on screen to repaint: an import holds the GIL
        # for long stretches, and doing it in the middle of a long file's import (mel, readouts)
        # made every repaint of the growing waveform wait for it.
        run_in_background(_warm_up_imports, pool=analysis_pool(), lower_priority=False)

    def _bg(self, fn, *args, **kwargs):
        return run_in_background(fn, *args, owner=self, **kwargs)

    # ---- import -------------------------------------------------------------------------
    def choose_files(self) -> None:
        start = self.ctx.settings.last_import_dir or str(Path.home())
        files, _ = QFileDialog.getOpenFileNames(self.view, "Import audio", start, AUDIO_FILTER)
        if files:
            self.ctx.settings.last_import_dir = str(Path(files[0]).parent)
            self.import_files([Path(f) for f in files])

    def import_files(self, paths: list[Path]) -> None:
        """Import one after another; each opened clip is one undo step ("Open x.wav")."""
        self._import_queue.extend(Path(p) for p in paths)
        self.errors.clear()
        self._show_banner()
        if not self._importing:
            self._next_import()

    def _next_import(self) -> None:
        if not self._import_queue:
            self._importing = False
            return
        self._importing = True
        path = self._import_queue.pop(0)
        self.ctx.status.show(f"Importing {path.name}…", 0)
        self._set_busy(+1)
        self._loading = path
        # One streaming pass decodes and builds the peak pyramid; a long file's exact envelope
        # grows on screen as it is read (`_progress`).
        self._bg(cs.load_clip, path, lower_priority=False,
                 on_done=lambda st, p=path: self._imported(p, st),
                 on_error=lambda exc, p=path: self._import_failed(p, exc),
                 on_progress=lambda pr, p=path: self._progress(p, pr))

    def _progress(self, path: Path, pr: cs.LoadProgress) -> None:
        """A long import's reports. Each GUI change is its own event, so that none is long: the
        header (name, warnings), then the new time axis, then the growing or whole waveform."""
        if self._loading != path:
            return
        v = self.view
        if self._shown == _Shown.NOTHING:
            self._shown = _Shown.HEADER
            v.mel.set_pending("decoding…")
            v.clip_title.setText(path.name)
            if pr.warnings:
                self._show_banner(" ".join(pr.warnings), warn=True)
            if pr.peaks is None:  # the header alone: the time axis follows once it has painted
                QTimer.singleShot(AXIS_DELAY_MS, self, lambda: self._show_axis(path, pr.duration_s,
                                                                               pr.gui_ready))
        peaks = pr.peaks
        if peaks is None:
            return
        self._show_axis(path, pr.duration_s)
        v.waveform.show_progress(peaks, pr.sample_rate, pr.duration_s)
        if peaks.complete:  # the whole waveform is drawn; the samples (zoom, play, edit) follow
            step = f"decoding {peaks.n_valid / max(1, peaks.total):.0%}"
        else:
            step = f"reading {peaks.extent / max(1, peaks.total):.0%}"
        v.clip_info.setText(f"{format_time(pr.duration_s)} · {step}…")
        if self._shown == _Shown.AXIS:
            self._shown = _Shown.PICTURE
            self.previewShown.emit()
        if peaks.complete and self._shown != _Shown.WHOLE:
            self._shown = _Shown.WHOLE
            self.waveformShown.emit()

    def _show_axis(self, path: Path, duration_s: float, gui_ready=None) -> None:
        if self._loading == path and self._shown == _Shown.HEADER:
            self._shown = _Shown.AXIS
            self.view.waveform.begin(duration_s)
        if gui_ready is not None:  # the worker may read now: after this paint (a posted event)
            QTimer.singleShot(0, gui_ready.set)

    def _imported(self, path: Path, state: cs.ClipState) -> None:
        self._set_busy(-1)
        whole = self._shown == _Shown.WHOLE
        self._loading, self._shown = None, _Shown.NOTHING
        self.undo_stack.push(SetClipState(self._apply_state, self.state, state, f"Open {path.name}"))
        if not whole:  # short files (and other formats) show nothing whole before now
            self.waveformShown.emit()
        msg = f"Imported {path.name} ({format_time(state.duration_s)})"
        if state.warnings:
            self._show_banner(" ".join(state.warnings), warn=True)
            msg += " — " + state.warnings[0]
        self.ctx.status.show(msg)
        self.importFinished.emit(str(path), True)
        self._next_import()

    def _import_failed(self, path: Path, exc: BaseException) -> None:
        self._set_busy(-1)
        if self._loading == path and self._shown != _Shown.NOTHING:
            self._apply_state(self.state)  # drop the preview: what the user had open shows again
        self._loading, self._shown = None, _Shown.NOTHING
        text = str(exc) or f"{path.name} could not be opened ({type(exc).__name__})."
        from engine.audio.io import AudioFileError

        if not isinstance(exc, AudioFileError):
            text = f"{path.name} could not be opened: {text}"
        self.errors.append(text)
        self._show_banner("\n".join(self.errors), warn=False)
        self.ctx.status.show(text, 10000)
        self.importFinished.emit(str(path), False)
        self._next_import()

    def _show_banner(self, text: str = "", warn: bool = False) -> None:
        b = self.view.banner
        color = COLORS["warn"] if warn else COLORS["bad"]
        style = f"background:#2a2320; border:1px solid {color}; color:{color}; padding:6px; border-radius:3px;"
        # Unchanged: touch nothing (a new style sheet re-polishes, a shown/hidden banner
        # re-lays out its column).
        if b.styleSheet() != style:
            b.setStyleSheet(style)
        if b.text() != text:
            b.setText(text)
        if b.isVisibleTo(self.view) != bool(text):
            b.setVisible(bool(text))

    # ---- the open clip ------------------------------------------------------------------
    def _apply_state(self, state: cs.ClipState | None) -> None:
        """Called by undo commands: show `state` and recompute what derives from it."""
        self.state = state
        for task in self._analysis:  # results for the replaced state are no longer wanted
            task.cancel()
        self._analysis = []
        self._generation += 1
        gen = self._generation
        v = self.view
        self.report = None
        if state is None:
            v.waveform.set_audio(None, 1)
            v.mel.set_mel(None, 0.01)
            v.clip_title.setText("No clip open")
            v.clip_info.setText("Import (Ctrl+I), drop a file here, or record (R)")
            self._show_report(None)
        else:
            v.waveform.set_audio(state.samples, state.sample_rate, state.pyramid)
            v.clip_title.setText(state.name)
            v.clip_info.setText(f"{format_time(state.duration_s)} · {state.sample_rate} Hz")
            v.mel.set_pending()
            self._show_report(None)
            # Start the spectrogram and readouts once the new clip has painted: the repaint after
            # a long import (new axes, the banner) is the GUI's biggest, and a worker busy beside
            # it doubled it (GIL hand-offs), measured ~100 ms stalls.
            QTimer.singleShot(ANALYSIS_DELAY_MS, self, lambda g=gen, st=state: self._start_analysis(g, st))
        self._update_enabled()
        self.clipChanged.emit()

    def _start_analysis(self, gen: int, state: cs.ClipState) -> None:
        if gen != self._generation:  # the user moved on meanwhile
            return
        pool = analysis_pool()
        self._analysis = [
            self._bg(cs.compute_mel_progressive, state.samples, state.sample_rate, pool=pool,
                     lower_priority=False,
                     on_done=lambda m, g=gen: self._mel_done(g, m),
                     on_progress=lambda m, g=gen: self._mel_done(g, m),
                     on_error=lambda e, g=gen: self._mel_failed(g, e)),
            self._bg(cs.compute_report, state.samples, state.sample_rate, pool=pool,
                     lower_priority=False,
                     on_done=lambda r, g=gen: self._report_done(g, r)),
        ]

    def _mel_done(self, gen: int, mel: cs.MelImage) -> None:
        if gen != self._generation:
            return
        first = not self.view.mel.has_image()
        self.view.mel.set_mel(mel.pyramid, mel.hop_s)
        if first:
            self.melReady.emit()
        if mel.detail:
            self.melDetailReady.emit()

    def _mel_failed(self, gen: int, exc: BaseException) -> None:
        if gen == self._generation:
            self.view.mel.set_pending(f"spectrogram failed: {exc}")

    def _report_done(self, gen: int, report) -> None:
        if gen == self._generation:
            self.report = report
            self._show_report(report)

    def _show_report(self, r) -> None:
        ro = self.view.readouts
        if r is None:
            for lab in ro.values():
                if lab.text() != "—":  # style sheets re-polish even when unchanged: skip
                    lab.setText("—")
                    lab.setStyleSheet("")
            self.view.report_notes.setText("")
            return

        def paint(key: str, text: str, good: bool | None) -> None:
            ro[key].setText(text)
            color = "" if good is None else (COLORS["ok"] if good else COLORS["warn"])
            ro[key].setStyleSheet(f"color:{color};" if color else "")

        paint("duration", f"{r.duration_s:.2f} s" + ("  ✓" if r.in_sweet_spot else "  (5–15 s best)"),
              r.in_sweet_spot)
        paint("peak", _fmt_db(r.peak_dbfs), r.peak_dbfs <= -0.5)
        paint("clipped", f"{r.clipped_samples}", r.clipped_samples == 0)
        paint("lufs", _fmt_db(r.lufs, "LUFS"), None)
        paint("noise", _fmt_db(r.noise_floor_dbfs), None)
        paint("snr", f"{r.snr_db:.1f} dB" if math.isfinite(r.snr_db) else "—", r.snr_db >= 30 if math.isfinite(r.snr_db) else None)
        paint("dc", f"{r.dc_offset:+.4f}", abs(r.dc_offset) < 0.01)
        self.view.report_notes.setText("\n".join(f"• {n}" for n in r.notes))

    def _selection_changed(self, a: float, b: float) -> None:
        self.view.selection_label.setText(f"sel {format_time(a)} – {format_time(b)}  ({b - a:.2f} s)"
                                          if b > a else "")
        self._update_enabled()

    def _update_enabled(self) -> None:
        v = self.view
        has = self.state is not None and not self._busy
        sel = has and v.waveform.selection() is not None
        v.trim_action.setEnabled(sel)
        v.cut_action.setEnabled(sel)
        v.autotrim_action.setEnabled(has)
        v.normalize_action.setEnabled(has)
        v.save_button.setEnabled(self.state is not None)
        row = v.voice_list.currentItem() is not None
        v.add_clip_button.setEnabled(self.state is not None and row)
        for b in (v.open_voice_button, v.rename_voice_button, v.duplicate_voice_button, v.delete_voice_button):
            b.setEnabled(row)

    def _set_busy(self, delta: int) -> None:
        self._busy = max(0, self._busy + delta)
        self._update_enabled()

    # ---- edits (computed off the GUI thread, applied as one undo step) ----------------------
    def _selection_samples(self) -> tuple[int, int] | None:
        sel = self.view.waveform.selection()
        if sel is None or self.state is None:
            return None
        sr = self.state.sample_rate
        return int(round(sel[0] * sr)), int(round(sel[1] * sr))

    def _run_edit(self, label: str, fn) -> None:
        state = self.state
        if state is None:
            return
        self._set_busy(+1)

        def work():
            return state.with_samples(fn(state.samples, state.sample_rate))

        def done(new_state: cs.ClipState) -> None:
            self._set_busy(-1)
            if self.state is not state:  # the user moved on meanwhile; do not clobber
                return
            if new_state.samples.size == 0:
                self.ctx.status.show(f"{label}: the result would be empty; nothing changed.", 8000)
                return
            self.undo_stack.push(SetClipState(self._apply_state, state, new_state, label))
            self.ctx.status.show(f"{label} (Ctrl+Z to undo)")

        def failed(exc: BaseException) -> None:
            self._set_busy(-1)
            self.ctx.status.show(f"{label} failed: {exc}", 10000)

        self._bg(work, on_done=done, on_error=failed, lower_priority=False)

    def trim_to_selection(self) -> None:
        rng = self._selection_samples()
        if rng is None:
            self.ctx.status.show("Select a region first (drag on the waveform).")
            return
        from engine.audio.edit import trim

        self._run_edit("Trim to selection", lambda x, sr: trim(x, *rng))

    def cut_selection(self) -> None:
        rng = self._selection_samples()
        if rng is None:
            self.ctx.status.show("Select a region first (drag on the waveform).")
            return
        from engine.audio.edit import cut

        self._run_edit("Cut selection", lambda x, sr: cut(x, *rng))

    def auto_trim(self) -> None:
        from engine.audio.edit import auto_trim

        self._run_edit("Auto-trim silence", lambda x, sr: auto_trim(x, sr)[0])

    def normalize(self) -> None:
        from engine.audio.loudness import normalize_lufs, normalize_peak

        target = float(self.view.normalize_target.value())
        if self.view.normalize_mode.currentData() == "lufs":
            self.ctx.settings.normalize_lufs = target
            self._run_edit(f"Normalize to {target:.1f} LUFS", lambda x, sr: normalize_lufs(x, sr, target))
        else:
            self.ctx.settings.normalize_peak_dbfs = target
            self._run_edit(f"Normalize peak to {target:.1f} dBFS", lambda x, sr: normalize_peak(x, target))

    def _normalize_mode_changed(self) -> None:
        s = self.ctx.settings
        mode = self.view.normalize_mode.currentData()
        s.normalize_mode = mode
        self.view.normalize_target.setValue(s.normalize_lufs if mode == "lufs" else s.normalize_peak_dbfs)

    # ---- playback -----------------------------------------------------------------------
    def playback_source(self) -> tuple[np.ndarray, int, float] | None:
        if self.state is None:
            return None
        sel = self.view.waveform.selection()
        start = sel[0] if sel else float(self.view.waveform.playhead.value())
        if start >= self.state.duration_s - 0.01:
            start = 0.0
        return self.state.samples, self.state.sample_rate, start
