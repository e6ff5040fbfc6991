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

    def select_model(self, model_id: str) -> None:
        """Select a catalog entry's row (the first-run guide points at the model for this machine)."""
        from engine.hub.catalog import CATALOG

        for row, entry in enumerate(CATALOG):  # the table lists the catalog in order
            if entry.model_id == model_id:
                self.view.table.selectRow(row)
                return

    def shutdown(self) -> None:
        self.controller.cancel()
