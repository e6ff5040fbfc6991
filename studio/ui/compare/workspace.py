"""The Compare workspace: what the main window builds as `CompareWorkspace(ctx)`."""
from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from studio.core.takes import TakeStore
from studio.ui.compare.controller import CompareController
from studio.ui.compare.view import CompareView
from studio.ui.compare.watermark import LaneWatermark


class CompareWorkspace(QWidget):
    title = "Compare"

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.takes = TakeStore(ctx.library, ctx.paths)
        self.view = CompareView(self)
        self.controller = CompareController(ctx, self.view, self.takes, self)
        self.watermark = LaneWatermark(self.controller, self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view)

    def showEvent(self, event) -> None:  # new takes may have been made in Synthesize
        super().showEvent(event)
        self.controller.refresh_picker()
        self.controller.refresh_results()  # and scored there (objective columns); empty while blind

    def shutdown(self) -> None:
        self.controller.stop()
        self.watermark.shutdown()
