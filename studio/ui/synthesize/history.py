"""Take history wiring: list per voice, search, favourites, delete with undo, the take view
(waveform, mel, codes), playback, re-render and export."""
from __future__ import annotations

import html
import logging
from datetime import datetime

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import QListWidgetItem

from studio.core.takes import Take, TakeError, TakeStore
from studio.ui.synthesize.view import SynthesizeView
# The Voices workspace's mel image builder, imported here and not on first use, so the first finished
# take does not pay for the import on the GUI thread (it is light: numpy and the peak helpers).
from studio.ui.voices.clip_state import compute_mel
from studio.ui.widgets.background import run_in_background

log = logging.getLogger(__name__)


class DeleteTakes(QUndoCommand):
    def __init__(self, history: "HistoryController", take_ids: list[str]):
        super().__init__(f"Delete {len(take_ids)} take{'s' if len(take_ids) > 1 else ''}")
        self.history, self.take_ids = history, list(take_ids)

    def redo(self) -> None:
        for t in self.take_ids:
            self.history.takes.delete(t)
        self.history.refresh()

    def undo(self) -> None:
        for t in self.take_ids:
            self.history.takes.restore(t)
        self.history.refresh(select=self.take_ids[0])


class HistoryController(QObject):
    def __init__(self, ctx, view: SynthesizeView, takes: TakeStore, synth, parent=None):
        super().__init__(parent)
        self.ctx, self.view, self.takes, self.synth = ctx, view, takes, synth
        self.undo_stack = QUndoStack(self)
        ctx.undo_group.addStack(self.undo_stack)
        self.current: Take | None = None
        self._mel_gen = 0
        self._search = QTimer(self, singleShot=True, interval=200)
        self._search.timeout.connect(self.refresh)
        v = view
        v.search.textChanged.connect(self._search.start)
        v.favourites_only.toggled.connect(lambda _: self.refresh())
        v.voice_combo.currentIndexChanged.connect(lambda _: self.refresh())
        v.take_list.itemSelectionChanged.connect(self._selection_changed)
        v.take_list.itemDoubleClicked.connect(lambda _: self.play())
        v.play_button.clicked.connect(self.play)
        v.favourite_button.toggled.connect(self.set_favourite)
        v.delete_button.clicked.connect(self.delete_selected)
        v.rerender_button.clicked.connect(self.rerender)
        v.export_button.clicked.connect(self.export_selected)
        v.regenerate_chunk_button.clicked.connect(self.regenerate_chunk)
        v.hear_codebooks_button.clicked.connect(
            lambda: self.current is not None and self.synth.hear_codebooks(self.current, v.codebooks.value()))
        # During a batch only the list grows; the newest take is opened (audio, mel, codes) once the
        # batch is over, so the GUI thread does no heavy drawing while the engine streams.
        synth.takeStored.connect(self._take_stored)
        synth.batchFinished.connect(lambda: self._newest and self.refresh(select=self._newest))
        self._newest: str | None = None
        self.refresh()

    # ---- list ----------------------------------------------------------------------------
    def refresh(self, select: str | None = None, *, show: bool = True) -> None:
        voice_id = self.view.voice_combo.currentData()
        keep = select or (self.current.id if self.current else None)
        lst = self.view.take_list
        lst.blockSignals(True)
        lst.clear()
        for t in self.takes.list(voice_id=voice_id, search=self.view.search.text(),
                                 favourites_only=self.view.favourites_only.isChecked()):
            when = datetime.fromtimestamp(t.created).strftime("%H:%M:%S")
            label = f"{'★ ' if t.favourite else ''}{when} · {t.label()}"
            decorate = getattr(self, "decorate", None)  # scoring.py: best-of-N role, scores
            item = QListWidgetItem(f"{decorate(t, label) if decorate else label}\n{t.recipe.text[:70]}")
            item.setData(Qt.UserRole, t.id)
            lst.addItem(item)
            if t.id == keep:
                item.setSelected(True)
                lst.setCurrentItem(item)
        lst.blockSignals(False)
        if show:
            self._selection_changed()

    def _take_stored(self, take_id: str) -> None:
        self._newest = take_id
        if not self.synth.busy:
            self.refresh(select=take_id)
        else:
            self._list_only()

    def _list_only(self) -> None:
        self.refresh(select=self.current.id if self.current else None, show=False)

    def selected_ids(self) -> list[str]:
        return [i.data(Qt.UserRole) for i in self.view.take_list.selectedItems()]

    def select(self, take_id: str) -> None:
        self.refresh(select=take_id)

    def _selection_changed(self) -> None:
        ids = self.selected_ids()
        try:
            self.current = self.takes.get(ids[0]) if ids else None
        except TakeError:
            self.current = None
        has = self.current is not None
        v = self.view
        for b in (v.play_button, v.favourite_button, v.rerender_button, v.export_button, v.delete_button):
            b.setEnabled(has)
        v.chunk_combo.clear()
        if has:
            for i, text in enumerate(self.current.recipe.chunks[:len(self.current.chunk_spans)]):
                v.chunk_combo.addItem(f"{i + 1}: {text[:60]}", i)
        v.chunk_combo.setEnabled(v.chunk_combo.count() > 0)
        codes = self.takes.load_codes(self.current) if has else None
        v.codebooks.setEnabled(codes is not None)
        v.hear_codebooks_button.setEnabled(codes is not None and self.synth.can_decode_codes())
        if codes is not None:
            v.codebooks.setMaximum(codes.shape[0])
            v.codebooks.setValue(codes.shape[0])
        v.regenerate_chunk_button.setEnabled(v.chunk_combo.count() > 0)
        v.favourite_button.blockSignals(True)
        v.favourite_button.setChecked(bool(has and self.current.favourite))
        v.favourite_button.blockSignals(False)
        self._show(self.current)
        on_current = getattr(self, "on_current", None)  # scoring.py shows the take's scores
        if on_current is not None:
            on_current()

    # ---- take view -----------------------------------------------------------------------
    def _show(self, take: Take | None) -> None:
        v = self.view
        if take is None:
            v.take_info.setText("")
            v.waveform.set_audio(None, 1)
            v.tokens.set_codes(None)
            return
        r = take.recipe
        first = take.timings.get("first_audio_s")
        v.take_info.setText(
            f"<b>{take.status}</b> · {r.model_id} ({r.device}, {r.dtype}) · seed <b>{r.seed}</b> · "
            + (f"T={r.temperature:g}" + "".join(f" {k}={val}" for k, val in r.options.items()
                                                  if k in ("eos_threshold", "decode_steps", "noise_clamp"))
               if r.backend == "pocket" else f"T={r.temperature:g} k={r.top_k} p={r.top_p:g}")
            + "".join(f" · {k} <b>{html.escape(str(r.options[k]))}</b>" for k in ("language", "speaker", "instruct")
                      if r.options.get(k))
            + f" · {take.duration_s:.2f} s"
            + (f" · first audio {first:.2f} s" if first is not None else "")
            + (f" · {len(r.chunks)} chunks" if r.chunks else "")
            + (" · AI watermark" if r.watermark else " · <b>no AI watermark</b>"))
        try:
            audio, sr = self.takes.load_audio(take)
        except TakeError as e:
            v.take_info.setText(str(e))
            return
        v.waveform.set_audio(audio, sr)
        codes = self.takes.load_codes(take)
        if codes is None:  # a Pocket TTS take: its latent frames as a heat map
            codes = self.takes.load_latents(take)
        info = self.synth._infos.get(take.recipe.model_id)
        # Codes exist for speech frames only (pauses are plain silence): the grid places each chunk's
        # frames on its span and keeps the time axis on the whole take.
        v.tokens.set_codes(codes, frame_rate=float(info.frame_rate) if info is not None else 12.5,
                           spans_s=[(a / sr, b / sr) for a, b in take.chunk_spans], duration_s=len(audio) / sr)
        self._mel_gen += 1
        gen = self._mel_gen
        v.mel.set_pending()
        run_in_background(compute_mel, audio, sr,
                          on_done=lambda m: self._mel_done(gen, m),
                          on_error=lambda e: None)

    def _mel_done(self, gen: int, mel) -> None:
        from shiboken6 import isValid

        # The spectrogram may arrive after a newer take was selected or the workspace was closed.
        if gen == self._mel_gen and isValid(self.view) and isValid(self.view.mel):
            self.view.mel.set_mel(mel.pyramid, mel.hop_s)

    # ---- actions -------------------------------------------------------------------------
    def play(self) -> None:
        if self.current is None:
            return
        try:
            audio, sr = self.takes.load_audio(self.current)
            self.ctx.player.play(audio, sr)
        except Exception as e:  # missing file or no output device
            self.synth._say(f"Cannot play: {e}", error=True)

    def set_favourite(self, on: bool) -> None:
        if self.current is not None:
            self.takes.set_favourite(self.current.id, on)
            self.refresh(select=self.current.id)

    def delete_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.undo_stack.push(DeleteTakes(self, ids))
            self.synth._say(f"Deleted {len(ids)} take{'s' if len(ids) > 1 else ''} (Ctrl+Z to undo).")

    def rerender(self) -> None:
        if self.current is not None:
            self.synth.rerender(self.current)

    def regenerate_chunk(self) -> None:
        if self.current is not None and self.view.chunk_combo.currentData() is not None:
            self.synth.regenerate_chunk(self.current, self.view.chunk_combo.currentData())

    def export_selected(self) -> None:
        from studio.ui.synthesize.export_dialog import ExportDialog

        ids = self.selected_ids()
        if ids:
            ExportDialog(self.ctx, self.takes, ids, self.view).open()
