"""The Voices workspace: what the main window builds as `VoicesWorkspace(ctx)`.

Optional workspace hooks the main window calls when present (other workspaces may offer them too):
`undo_stack`, `import_files(paths)`, `toggle_record()`, `playback_source()`, `set_playhead(s)`,
`save_state() -> dict[str, str]`, `restore_state(dict)`, `shutdown()`.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QVBoxLayout, QWidget

from studio.ui.voices.controller import VoicesController
from studio.ui.voices.view import VoicesView


class VoicesWorkspace(QWidget):
    title = "Voices"

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.view = VoicesView(self)
        self.controller = VoicesController(ctx, self.view, self)
        self.undo_stack = self.controller.undo_stack
        from studio.ui.voices.clip_scores import ClipScoring  # "good enough to clone?" + Transcribe

        self.clip_scores = ClipScoring(ctx, self.view, self.controller, self)
        from studio.ui.voices.provenance import ClipProvenance  # AI watermark + content credentials

        self.provenance = ClipProvenance(ctx, self.view, self.controller, self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view)
        self.design_dialog = None
        self.view.design_voice_button.clicked.connect(self.design_voice)

    def design_voice(self):
        """Open (or raise) the VoiceDesign dialog; a kept voice appears in the library."""
        from studio.ui.voices.design_dialog import DesignVoiceDialog

        if self.design_dialog is None:
            self.design_dialog = DesignVoiceDialog(self.ctx, self)
            self.design_dialog.kept.connect(lambda _id: self.controller.refresh_library())
        self.design_dialog.show()
        self.design_dialog.raise_()
        return self.design_dialog

    def import_files(self, paths: list[Path]) -> None:
        self.controller.import_files([Path(p) for p in paths])

    def choose_files(self) -> None:
        self.controller.choose_files()

    def toggle_record(self) -> None:
        self.controller.toggle_record()

    def playback_source(self):
        return self.controller.playback_source()

    def set_playhead(self, seconds: float) -> None:
        self.view.waveform.set_playhead(seconds)

    def save_state(self) -> dict[str, str]:
        return {"splitter": bytes(self.view.splitter.saveState().toBase64()).decode(),
                "plots": bytes(self.view.plots.saveState().toBase64()).decode()}

    def restore_state(self, state: dict[str, str]) -> None:
        for key, splitter in (("splitter", self.view.splitter), ("plots", self.view.plots)):
            if state.get(key):
                splitter.restoreState(QByteArray.fromBase64(state[key].encode()))

    def shutdown(self) -> None:
        self.clip_scores.shutdown()
        self.provenance.shutdown()
        if self.controller.is_recording:
            self.controller.stop_recording()
