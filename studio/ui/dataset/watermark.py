""""Check for watermark" on dataset takes in the Takes & QC table (button and right-click menu).

Every take's QC already carries its watermark score (the QC process checks each recorded or imported
take); this action checks the selected takes again on demand, off the GUI thread with the shared
helper, shows the verdict under the table, and writes the score and the "watermark" flag into the
take's stored QC so the table, the filter and the retake queue agree with what was just found.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QLabel, QMenu, QPushButton

from engine.provenance.watermark import MESSAGE
from studio.ui.theme import COLORS
from studio.ui.widgets.watermark_check import CHECKING, WatermarkCheck, verdict


class TakeWatermark(QObject):
    def __init__(self, panel, parent=None):
        super().__init__(parent)
        self.panel = panel
        self.checks = WatermarkCheck(self)  # keyed by take id
        self.checks.checked.connect(self._checked)
        self.checks.failed.connect(lambda _k, msg: self._say(msg))
        self.button = QPushButton("Check for watermark")
        self.button.setToolTip("Look for the inaudible AI watermark in the selected takes "
                               "(generated speech, e.g. a take played into the microphone)")
        self.button.clicked.connect(self.check_selected)
        self.result = QLabel("")
        self.result.setObjectName("watermarkResult")
        self.result.setWordWrap(True)
        self.result.setVisible(False)
        top = panel.layout().itemAt(0).layout()  # the filter row
        top.insertWidget(top.indexOf(panel.rerun) + 1, self.button)
        panel.layout().insertWidget(1, self.result)
        t = panel.table
        t.setContextMenuPolicy(Qt.CustomContextMenu)
        t.customContextMenuRequested.connect(self._menu)
        self._names: dict[int, str] = {}

    def selected_takes(self) -> list:
        rows = sorted({ix.row() for ix in self.panel.table.selectionModel().selectedRows()})
        if not rows and self.panel.table.currentIndex().isValid():
            rows = [self.panel.table.currentIndex().row()]
        return [(self.panel.model.rows[r][0], self.panel.model.index(r, 0).data()) for r in rows]

    def check_selected(self) -> None:
        takes = self.selected_takes()
        if not takes:
            self._say("Select a take to check for an AI watermark.")
            return
        for take, prompt_key in takes:
            self._names[take.id] = f"{prompt_key} (take {take.id})"
            self.checks.check_file(take.id, take.path)
        self._say(CHECKING)

    def menu(self) -> QMenu:
        """The QC table's right-click menu (for the selected takes)."""
        menu = QMenu(self.panel.table)
        menu.addAction("Check for watermark", self.check_selected)
        return menu

    def _menu(self, pos) -> None:
        if self.panel.table.indexAt(pos).isValid():
            self.menu().exec(self.panel.table.viewport().mapToGlobal(pos))

    def _checked(self, take_id: int, det) -> None:
        self._store(take_id, det)
        text = f"{self._names.get(take_id, take_id)}: {verdict(det)}"
        self._say(text, det.marked)
        self.panel.refresh_when_seen()

    def _store(self, take_id: int, det) -> None:
        """The verdict into the take's QC (a take never QC'd, or whose QC failed, keeps it as it is)."""
        qc = dict(self.panel.store.take(take_id).qc)
        if not qc or "error" in qc:
            return
        flags, notes = list(qc.get("flags", [])), list(qc.get("notes", []))
        if "watermark" in flags:
            i = flags.index("watermark")
            del flags[i]
            if i < len(notes):
                del notes[i]  # flags and notes are appended in step (dataset_qc.measure_take)
        if det.marked:
            flags.append("watermark")
            notes.append(f"{MESSAGE} (score {det.score:.2f})")
        qc.update(watermark=round(float(det.score), 3), flags=flags, notes=notes)
        self.panel.store.set_qc(take_id, qc)

    def _say(self, text: str, flagged: bool = False) -> None:
        self.result.setText(text)
        self.result.setProperty("flagged", flagged)
        self.result.setStyleSheet(f"color:{COLORS['bad']}; font-weight:600;" if flagged else "")
        self.result.setVisible(True)

    def shutdown(self) -> None:
        self.checks.shutdown()
