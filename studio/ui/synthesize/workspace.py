"""The Synthesize workspace: what the main window builds as `SynthesizeWorkspace(ctx)`."""
from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from studio.core.takes import TakeStore
from studio.ui.synthesize.controller import SynthesizeController
from studio.ui.synthesize.history import HistoryController
from studio.ui.synthesize.provenance import TakeWatermarkCheck, WatermarkSwitch
from studio.ui.synthesize.scoring import TakeScoring
from studio.ui.synthesize.view import SynthesizeView


class SynthesizeWorkspace(QWidget):
    title = "Synthesize"

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.takes = TakeStore(ctx.library, ctx.paths)
        self.view = SynthesizeView(self)
        self.controller = SynthesizeController(ctx, self.view, self.takes, self)
        self.history = HistoryController(ctx, self.view, self.takes, self.controller, self)
        self.undo_stack = self.history.undo_stack
        self.scoring = TakeScoring(ctx, self.view, self.takes, self.controller, self.history, self)
        self.watermark = WatermarkSwitch(ctx, self.view.watermark_box, self)
        self.watermark_check = TakeWatermarkCheck(self.view, self.takes, self.history, self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view)

    def showEvent(self, event) -> None:  # voices/models may have changed in another workspace
        super().showEvent(event)
        if not self.controller.busy:
            self.controller.refresh_voices()
            self.controller.refresh_models()

    def shutdown(self) -> None:
        self.controller.stop()
        self.scoring.shutdown()
        self.watermark_check.shutdown()
