"""A small dialog to tune the best-of-N ranking weights (engine.eval.best_of_n.RankWeights)."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel

_LABELS = {"intelligibility": "Intelligibility (1 − WER)", "similarity": "Similarity to the voice",
           "naturalness": "Naturalness (DNSMOS)", "qc": "Signal QC"}


class WeightsDialog(QDialog):
    def __init__(self, weights, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Best-of-N weights")
        form = QFormLayout(self)
        form.addRow(QLabel("Weights are relative: they are normalized over the metrics that could be scored."))
        self.spins: dict[str, QDoubleSpinBox] = {}
        for name, value in weights.as_dict().items():
            s = QDoubleSpinBox()
            s.setRange(0.0, 1.0)
            s.setSingleStep(0.05)
            s.setValue(value)
            self.spins[name] = s
            form.addRow(_LABELS[name], s)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel | QDialogButtonBox.RestoreDefaults)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.RestoreDefaults).clicked.connect(self._defaults)
        form.addRow(buttons)

    def _defaults(self) -> None:
        from engine.eval.best_of_n import RankWeights

        for name, value in RankWeights().as_dict().items():
            self.spins[name].setValue(value)

    def weights(self):
        from engine.eval.best_of_n import RankWeights

        return RankWeights(**{k: s.value() for k, s in self.spins.items()})
