"""The checkpoint list of the Fine-tune workspace: one row per checkpoint with its adapter hash and,
once its auditions are scored, the mean WER, similarity to the dataset's speaker and DNSMOS of its
held-out takes (the base model's row beside them for reference), so the best one can be picked and
promoted."""
from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem

COLUMNS = ("Checkpoint", "Adapter", "WER", "Similarity", "DNSMOS")
PATH_ROLE = 256


def _mean(rows: list[dict], key: str) -> float | None:
    vals = []
    for r in rows:
        try:
            v = float(r.get(key))
        except (TypeError, ValueError):
            continue
        if v == v:
            vals.append(v)
    return sum(vals) / len(vals) if vals else None


class CheckpointList(QTreeWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(COLUMNS)
        self.setRootIsDecorated(False)
        self.setSelectionMode(QAbstractItemView.SingleSelection)

    def count(self) -> int:
        return self.topLevelItemCount()

    def item(self, i: int) -> QTreeWidgetItem | None:
        return self.topLevelItem(i)

    def row(self, name: str) -> QTreeWidgetItem | None:
        return next((self.item(i) for i in range(self.count()) if self.item(i).text(0) == name), None)

    def add(self, name: str, path: str | None, adapter_hash: str) -> QTreeWidgetItem:
        item = self.row(name)
        if item is None:
            item = QTreeWidgetItem([name, adapter_hash, "…" if path else "", "", ""])
            self.addTopLevelItem(item)
        item.setData(0, PATH_ROLE, path)
        return item

    def selected_path(self) -> str | None:
        item = self.currentItem()
        if item is None or not item.data(0, PATH_ROLE):  # the base row has no checkpoint
            rows = [self.item(i) for i in range(self.count()) if self.item(i).data(0, PATH_ROLE)]
            item = rows[-1] if rows else None
        return item.data(0, PATH_ROLE) if item is not None else None

    def set_scores(self, rows: dict) -> None:
        """Report rows {(system, prompt id): row} -> mean scores on each system's row."""
        by_system: dict[str, list[dict]] = {}
        for (system, _pid), r in rows.items():
            by_system.setdefault(system, []).append(r)
        for system, rs in by_system.items():
            item = self.row(system) or (self.add("base", None, "") if system == "base" else None)
            if item is None:
                continue
            for col, key, fmt in ((2, "wer", "{:.0%}"), (3, "similarity", "{:.2f}"), (4, "dnsmos_ovr", "{:.2f}")):
                v = _mean(rs, key)
                item.setText(col, "–" if v is None else fmt.format(v))
        if self.row("base") is not None:  # the reference row stays on top
            base = self.takeTopLevelItem(self.indexOfTopLevelItem(self.row("base")))
            self.insertTopLevelItem(0, base)
        for c in range(len(COLUMNS)):
            self.resizeColumnToContents(c)

    def scores(self, name: str) -> tuple[str, str, str]:
        item = self.row(name)
        return (item.text(2), item.text(3), item.text(4)) if item is not None else ("", "", "")
