"""Per-chunk strip under the waveform: for a long take, one cell per text chunk, placed on the
chunk's time span (X linked to the waveform), top row similarity, bottom row WER, so a chunk that
drifted to another voice or dropped words stands out."""
from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg

from studio.ui.widgets.score_view import cell_colour


@dataclass
class ChunkCell:
    start_s: float
    end_s: float
    similarity: float | None
    wer: float | None


class ChunkStrip(pg.PlotWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFixedHeight(56)
        self.setMouseEnabled(x=True, y=False)
        self.hideButtons()
        pi = self.getPlotItem()
        pi.setYRange(0, 2, padding=0)
        pi.enableAutoRange(x=False, y=False)  # X follows the waveform it is linked to
        pi.getAxis("left").setTicks([[(1.5, "sim"), (0.5, "WER")]])
        pi.getAxis("bottom").setStyle(showValues=False)
        self.cells: list[ChunkCell] = []
        self._items = []

    def set_cells(self, cells: list[ChunkCell]) -> None:
        self.cells = list(cells)
        for it in self._items:
            self.removeItem(it)
        self._items = []
        self.setVisible(len(cells) > 1)  # one chunk: the take's own scores say it all
        for row, (attr, good, bad, fmt) in enumerate((("wer", 0.0, 0.5, "{:.0%}"),
                                                      ("similarity", 0.9, 0.6, "{:.2f}"))):
            for c in cells:
                v = getattr(c, attr)
                bar = pg.BarGraphItem(x0=[c.start_s], x1=[c.end_s], y0=[row + 0.05], y1=[row + 0.95],
                                      brushes=[pg.mkBrush(cell_colour(v, good, bad))], pen=pg.mkPen("#222"))
                txt = pg.TextItem("…" if v is None else fmt.format(v), color="w", anchor=(0.5, 0.5))
                txt.setPos((c.start_s + c.end_s) / 2, row + 0.5)
                for it in (bar, txt):
                    self.addItem(it)
                    self._items.append(it)
