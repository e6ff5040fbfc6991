"""Mel spectrogram view: fixed dB range with a colour bar, X linked to a waveform view.

The image is a slice of a MelPyramid chosen per redraw (at most a few thousand columns), so a
60-minute spectrogram pans and zooms without stalling.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QTimer

from studio.ui.theme import COLORS
from studio.ui.widgets.decimate import MelPyramid
from studio.ui.widgets.waveform import AXIS_WIDTH

# Fixed so two clips compare by eye: mel_db's power dB puts speech at about -80..0 and a
# full-scale sine near +24.
DB_RANGE = (-80.0, 10.0)


class MelView(pg.PlotWidget):
    def __init__(self, parent=None):
        super().__init__(parent, background=COLORS["plot_bg"])
        self.setMinimumHeight(110)
        pi = self.getPlotItem()
        pi.hideButtons()
        pi.setMenuEnabled(False)
        pi.getViewBox().setMouseEnabled(x=True, y=False)
        pi.getAxis("left").setWidth(AXIS_WIDTH)
        pi.getAxis("left").setLabel("mel")
        pi.getAxis("bottom").setStyle(showValues=False)
        for name in ("left", "bottom"):  # no units: auto SI re-lays out the label per range change
            pi.getAxis(name).enableAutoSIPrefix(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=DB_RANGE, colorMap=pg.colormap.get("inferno"),
                                        interactive=False, width=12, label="dB")
        self.colorbar.setImageItem(self.image, insert_in=pi)
        self._pyr: MelPyramid | None = None
        self._hop_s = 0.01
        self._n_mels = 80
        self._placeholder = pg.TextItem("", color=COLORS["text_dim"], anchor=(0.5, 0.5))
        self.addItem(self._placeholder)
        pi.getViewBox().setYRange(0, self._n_mels, padding=0)
        pi.getViewBox().setLimits(yMin=0, yMax=self._n_mels)
        self._redraw = QTimer(self, singleShot=True, interval=30)
        self._redraw.timeout.connect(self._draw_visible)
        pi.getViewBox().sigXRangeChanged.connect(lambda *_: self._redraw.start())
        pi.getViewBox().sigXRangeChanged.connect(lambda *_: self._centre_placeholder())

    def link_to(self, plot: pg.PlotWidget) -> None:
        self.getPlotItem().setXLink(plot.getPlotItem())
        self._partner = plot
        self._partner.getPlotItem().showAxis("right")
        self._partner.getPlotItem().getAxis("right").setStyle(showValues=False)
        self._align = QTimer(self, singleShot=True, interval=0)
        self._align.timeout.connect(self._align_partner)
        self.getPlotItem().getViewBox().sigResized.connect(lambda *_: self._align.start())
        plot.getPlotItem().getViewBox().sigResized.connect(lambda *_: self._align.start())

    def _align_partner(self) -> None:
        """Give the waveform the same right margin the colour bar takes here, so times line up."""
        mine = self.getPlotItem()
        theirs = self._partner.getPlotItem()
        my_margin = mine.geometry().width() - mine.getViewBox().geometry().right()
        their_margin = theirs.geometry().width() - theirs.getViewBox().geometry().right()
        axis = theirs.getAxis("right")
        delta = my_margin - their_margin
        if abs(delta) >= 0.5:
            axis.setWidth(max(0, int(round(axis.width() + delta))))

    def set_pending(self, text: str = "computing spectrogram…") -> None:
        if self._pyr is not None or self.image.image is not None:
            self._pyr = None
            self.image.clear()
        if self._placeholder.toPlainText() != text:  # a text layout costs several ms: only if new
            self._placeholder.setText(text)
        self._centre_placeholder()

    def _centre_placeholder(self) -> None:
        if self._placeholder.toPlainText():
            lo, hi = self.getPlotItem().getViewBox().viewRange()[0]
            self._placeholder.setPos((lo + hi) / 2, self._n_mels / 2)

    def set_mel(self, pyramid: MelPyramid | None, hop_s: float) -> None:
        self._pyr = pyramid
        self._hop_s = hop_s
        self._placeholder.setText("")
        if pyramid is None:
            self.image.clear()
            return
        self._n_mels = pyramid.levels[0][1].shape[0]
        self.getPlotItem().getViewBox().setLimits(yMin=0, yMax=self._n_mels)
        self.getPlotItem().getViewBox().setYRange(0, self._n_mels, padding=0)
        self._draw_visible()

    def has_image(self) -> bool:
        return self._pyr is not None and self.image.image is not None

    def _draw_visible(self) -> None:
        if self._pyr is None:
            return
        lo, hi = self.getPlotItem().getViewBox().viewRange()[0]
        span = hi - lo
        f0 = max(0, int((lo - span / 2) / self._hop_s))
        f1 = int((hi + span / 2) / self._hop_s) + 1
        first, per_col, db = self._pyr.view(f0, f1, max_cols=max(800, 2 * int(self.width())))
        self.image.setImage(np.ascontiguousarray(db), autoLevels=False, levels=DB_RANGE)
        self.image.setRect(QRectF(first * self._hop_s, 0, db.shape[1] * per_col * self._hop_s, self._n_mels))
