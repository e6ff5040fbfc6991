"""The voice library panel of the Voices workspace: list, save, add clip, open, rename,
duplicate, delete (the last three undoable).

Mixed into VoicesController; uses its `ctx`, `view`, `state`, `undo_stack`, `_bg`,
`import_files`, `_update_enabled` and `voiceSaved`.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QListWidgetItem

from studio.ui.voices.commands import DeleteVoice, DuplicateVoice, RenameVoice


class VoiceLibraryActions:
    # Called before the open clip becomes a clone reference (save / add); False stops it.
    # studio/ui/voices/provenance.py sets it: a clip carrying the AI watermark asks first.
    reference_guard = None

    def refresh_library(self) -> None:
        lst = self.view.voice_list
        current = lst.currentItem().data(Qt.UserRole) if lst.currentItem() else None
        lst.blockSignals(True)
        lst.clear()
        for voice in self.ctx.voices.list():
            total = sum(c.duration_s for c in voice.clips)
            item = QListWidgetItem(voice.name)
            item.setData(Qt.UserRole, voice.id)
            item.setToolTip(f"{len(voice.clips)} clip(s), {total:.1f} s\n{voice.transcript[:200]}"
                            + (f"\nDesigned from: {voice.designed[:200]}" if voice.designed else ""))
            item.setFlags(item.flags() | Qt.ItemIsEditable)
            lst.addItem(item)
            if voice.id == current:
                lst.setCurrentItem(item)
        lst.blockSignals(False)
        self._show_voice_details()

    def _show_voice_details(self) -> None:
        vid = self._selected_voice_id()
        text = ""
        if vid is not None:
            try:
                voice = self.ctx.voices.get(vid)
            except KeyError:
                voice = None
            if voice is not None:
                total = sum(c.duration_s for c in voice.clips)
                text = f"{len(voice.clips)} clip{'s' if len(voice.clips) != 1 else ''} · {total:.1f} s"
                if voice.designed:
                    d = voice.designed if len(voice.designed) < 90 else voice.designed[:87] + "…"
                    text += f"\nDesigned, not recorded: “{d}”"
                if voice.notes:
                    text += f"\n{voice.notes}"
                if voice.transcript:
                    t = voice.transcript if len(voice.transcript) < 90 else voice.transcript[:87] + "…"
                    text += f"\n“{t}”"
        self.view.voice_details.setText(text)
        self._update_enabled()

    def _selected_voice_id(self) -> int | None:
        item = self.view.voice_list.currentItem()
        return None if item is None else int(item.data(Qt.UserRole))

    def save_voice(self) -> None:
        v = self.view
        state = self.state
        if state is None:
            v.save_error.setText("Open or record a clip first.")
            return
        name = v.name_edit.text().strip()
        if not name:
            v.save_error.setText("Give the voice a name.")
            v.name_edit.setFocus()
            return
        if not v.consent_check.isChecked():
            v.save_error.setText("Tick the consent box: only clone your own voice or one you have permission for.")
            return
        if self.reference_guard is not None and not self.reference_guard():
            v.save_error.setText("Not saved: the clip carries an AI watermark (generated speech).")
            return
        v.save_error.setText("")
        transcript, notes = v.transcript_edit.toPlainText().strip(), v.notes_edit.text().strip()
        store = self.ctx.voices
        v.save_button.setEnabled(False)

        def work():
            return store.create(name, transcript=transcript, consent=True, notes=notes,
                                samples=state.samples, sample_rate=state.sample_rate, original=state.original)

        def done(voice) -> None:
            self.refresh_library()
            self._update_enabled()
            self.ctx.status.show(f"Saved voice '{voice.name}'.")
            self.voiceSaved.emit(voice.id)

        def failed(exc: BaseException) -> None:
            self._update_enabled()
            v.save_error.setText(f"Not saved: {exc}")  # the form keeps everything the user typed

        self._bg(work, on_done=done, on_error=failed)

    def add_clip_to_selected(self) -> None:
        vid, state = self._selected_voice_id(), self.state
        if vid is None or state is None:
            return
        if self.reference_guard is not None and not self.reference_guard():
            self.view.save_error.setText("Not added: the clip carries an AI watermark (generated speech).")
            return
        store = self.ctx.voices
        self._bg(lambda: store.add_clip(vid, state.samples, state.sample_rate, original=state.original,
                                                 transcript=self.view.transcript_edit.toPlainText().strip()),
                          on_done=lambda _c: (self.refresh_library(), self.ctx.status.show("Clip added.")),
                          on_error=lambda e: self.view.save_error.setText(f"Not added: {e}"))

    def open_selected_voice(self) -> None:
        vid = self._selected_voice_id()
        if vid is None:
            return
        voice = self.ctx.voices.get(vid)
        if not voice.clips:
            self.ctx.status.show(f"'{voice.name}' has no clips.")
            return
        v = self.view
        v.name_edit.setText(voice.name)
        v.transcript_edit.setPlainText(voice.transcript)
        v.notes_edit.setText(voice.notes)
        v.consent_check.setChecked(voice.consent)
        self.import_files([voice.clips[0].working_path])

    def rename_selected_voice(self) -> None:
        item = self.view.voice_list.currentItem()
        if item is not None:
            self.view.voice_list.editItem(item)

    def _voice_item_edited(self, item: QListWidgetItem) -> None:
        vid = int(item.data(Qt.UserRole))
        old = self.ctx.voices.get(vid).name
        new = item.text().strip()
        if not new or new == old:
            QTimer.singleShot(0, self.refresh_library)  # put the old name back
            return
        QTimer.singleShot(0, lambda: self.undo_stack.push(RenameVoice(self.ctx.voices, vid, old, new,
                                                                      self.refresh_library)))

    def rename_voice(self, voice_id: int, new_name: str) -> None:
        old = self.ctx.voices.get(voice_id).name
        self.undo_stack.push(RenameVoice(self.ctx.voices, voice_id, old, new_name, self.refresh_library))

    def duplicate_selected_voice(self) -> None:
        vid = self._selected_voice_id()
        if vid is not None:
            name = self.ctx.voices.get(vid).name
            self.undo_stack.push(DuplicateVoice(self.ctx.voices, vid, name, self.refresh_library))

    def delete_selected_voice(self) -> None:
        vid = self._selected_voice_id()
        if vid is not None:
            name = self.ctx.voices.get(vid).name
            self.undo_stack.push(DeleteVoice(self.ctx.voices, vid, name, self.refresh_library))
            self.ctx.status.show(f"Deleted '{name}' (Ctrl+Z to undo).")
