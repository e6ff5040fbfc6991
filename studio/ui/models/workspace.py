"""The Models workspace: what the main window builds as `ModelsWorkspace(ctx)`."""
from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from studio.ui.models.controller import ModelsController
from studio.ui.models.view import ModelsView


class ModelsWorkspace(QWidget):
    title = "Models"

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.view = ModelsView(self)
        self.controller = ModelsController(ctx, self.view, self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view)

    def shutdown(self) -> None:
        self.controller.cancel()
