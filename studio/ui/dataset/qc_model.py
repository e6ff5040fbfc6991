"""The rows of the Takes & QC table as a Qt model.

A model, not a QTableWidget: the table is refilled after every take's QC, and building a
QTableWidgetItem per cell (with columns sized to their contents) took 1.6 s for a 1132-take ARCTIC
session on the GUI thread. Here a refill is a list swap; cells are formatted only when painted.
"""
from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor

from studio.ui.theme import COLORS

COLUMNS = ["Prompt", "Take", "Best", "Duration", "LUFS", "Peak", "SNR", "Lead/trail", "WER", "QC"]
COLUMN_WIDTHS = [100, 38, 38, 66, 50, 50, 54, 76, 46]  # px; the QC column stretches
QC_COLUMN = len(COLUMNS) - 1


def qc_text(qc: dict) -> str:
    """What the QC column says for a take's stored QC."""
    if "error" in qc:
        return f"QC failed: {qc['error']}"
    return "  ".join(qc.get("flags", [])) or ("ok" if qc else "…")


class TakeRows(QAbstractTableModel):
    """(take, its number within the prompt, the prompt) per row."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[tuple] = []

    def set_rows(self, rows: list[tuple]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt's name
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        t, n, p = self.rows[index.row()]
        c, q = index.column(), t.qc
        if role == Qt.DisplayRole:
            return _cell(c, t, n, p)
        if role == Qt.UserRole and c == 0 and p is not None:
            return p.ord
        if role == Qt.ToolTipRole:
            if c == 0 and p is not None:
                return p.text
            if c == QC_COLUMN and q:
                return q["error"] if "error" in q else "\n".join(q.get("notes", []))
        if role == Qt.ForegroundRole and c == QC_COLUMN and q:
            return QColor(COLORS["warn"] if q.get("flags") or "error" in q else COLORS["ok"])
        return None


def _cell(c: int, t, n: int, p) -> str:
    q = t.qc
    if c == 0:
        return p.key if p else "?"
    if c == 1:
        return str(n)
    if c == 2:
        return "★" if t.is_best else ""
    if c == 3:
        return f"{t.duration_s or 0:.2f} s"
    if c == 4:
        return _num(q.get("lufs"), "{:.1f}")
    if c == 5:
        return _num(q.get("peak_dbfs"), "{:.1f}")
    if c == 6:
        return _num(q.get("snr_db"), "{:.0f} dB")
    if c == 7:
        return f"{q['lead_silence_s']:.2f}/{q['trail_silence_s']:.2f}" if "lead_silence_s" in q else ""
    if c == 8:
        return _num(q.get("wer"), "{:.0%}")
    return qc_text(q)


def _num(v, fmt: str) -> str:
    return "" if v is None else fmt.format(v)
