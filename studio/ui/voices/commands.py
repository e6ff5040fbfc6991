"""Undoable actions of the Voices workspace (one QUndoStack per workspace; Ctrl+Z)."""
from __future__ import annotations

from typing import Callable

from PySide6.QtGui import QUndoCommand

from studio.core.voices import VoiceStore
from studio.ui.voices.clip_state import ClipState


class SetClipState(QUndoCommand):
    """Open a clip or apply an edit: swaps the editor's ClipState (both directions are instant)."""

    def __init__(self, apply: Callable[[ClipState | None], None], before: ClipState | None,
                 after: ClipState, label: str):
        super().__init__(label)
        self._apply, self.before, self.after = apply, before, after

    def redo(self) -> None:
        self._apply(self.after)

    def undo(self) -> None:
        self._apply(self.before)


class DeleteVoice(QUndoCommand):
    def __init__(self, store: VoiceStore, voice_id: int, name: str, changed: Callable[[], None]):
        super().__init__(f"Delete voice '{name}'")
        self._store, self._id, self._changed = store, voice_id, changed

    def redo(self) -> None:
        self._store.delete(self._id)
        self._changed()

    def undo(self) -> None:
        self._store.restore(self._id)
        self._changed()


class RenameVoice(QUndoCommand):
    def __init__(self, store: VoiceStore, voice_id: int, old: str, new: str, changed: Callable[[], None]):
        super().__init__(f"Rename voice '{old}' to '{new}'")
        self._store, self._id, self._old, self._new, self._changed = store, voice_id, old, new, changed

    def redo(self) -> None:
        self._store.rename(self._id, self._new)
        self._changed()

    def undo(self) -> None:
        self._store.rename(self._id, self._old)
        self._changed()


class DuplicateVoice(QUndoCommand):
    """Redo after undo restores the same copy (soft-deleted on undo) instead of copying files again."""

    def __init__(self, store: VoiceStore, voice_id: int, name: str, changed: Callable[[], None]):
        super().__init__(f"Duplicate voice '{name}'")
        self._store, self._src, self._changed = store, voice_id, changed
        self.copy_id: int | None = None

    def redo(self) -> None:
        if self.copy_id is None:
            self.copy_id = self._store.duplicate(self._src).id
        else:
            self._store.restore(self.copy_id)
        self._changed()

    def undo(self) -> None:
        if self.copy_id is not None:
            self._store.delete(self.copy_id)
        self._changed()
