"""Waveform view: long-file-safe drawing, zoom/pan on X, drag to select, click to seek, playhead.

Drawing goes through a peak pyramid (`engine.audio.peaks`): each redraw takes the exact min/max
envelope at ~2 points per pixel from the level that fits (raw samples only when zoomed in to a few
samples per pixel), so a repaint never touches more than a few thousand points whatever the file
length, and no peak is ever missed. While a long file is still decoding the envelope grows left to
right (`show_progress`).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Qt, Signal

from studio.ui.theme import COLORS
from engine.audio.peaks import BASE_SPAN, PeakPyramid, build_peaks

pg.setConfigOptions(antialias=False, imageAxisOrder="row-major")

AXIS_WIDTH = 52  # fixed so the waveform and mel X axes line up pixel for pixel


class _SelectViewBox(pg.ViewBox):
    """Left drag selects a time range, left click seeks; wheel zooms X; right/middle drag pans."""

    def __init__(self, owner: "WaveformView"):
        super().__init__(enableMenu=False)
        self._owner = owner
        self.setMouseEnabled(x=True, y=False)

    def mouseDragEvent(self, ev, axis=None):
        if ev.button() != Qt.LeftButton:
            return super().mouseDragEvent(ev, axis)
        ev.accept()
        a = self.mapSceneToView(ev.buttonDownScenePos()).x()
        b = self.mapSceneToView(ev.scenePos()).x()
        self._owner.set_selection(min(a, b), max(a, b))

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.LeftButton:
            ev.accept()
            self._owner.clear_selection()
            self._owner.seekRequested.emit(max(0.0, self.mapSceneToView(ev.scenePos()).x()))
        else:
            super().mouseClickEvent(ev)


class WaveformView(pg.PlotWidget):
    selectionChanged = Signal(float, float)  # seconds; (0, 0) = no selection
    seekRequested = Signal(float)

    def __init__(self, parent=None):
        self._vb = _SelectViewBox(self)
        super().__init__(parent, viewBox=self._vb, background=COLORS["plot_bg"])
        self.setMinimumHeight(120)
        pi = self.getPlotItem()
        pi.hideButtons()
        # No grid: pyqtgraph draws it from the axes across the whole plot, which made every
        # repaint of the waveform repaint all axes too (~4x the paint cost, measured).
        pi.getAxis("left").setWidth(AXIS_WIDTH)
        pi.getAxis("left").setTicks([[(-1, "-1"), (-0.5, ""), (0, "0"), (0.5, ""), (1, "1")]])
        pi.getAxis("bottom").setLabel("time (s)")
        pi.getAxis("bottom").enableAutoSIPrefix(False)  # "ms"/"µs" relabelling confuses on zoom
        for name in ("left", "right"):  # no units: auto SI re-lays out the label (setHtml) per range change
            pi.getAxis(name).enableAutoSIPrefix(False)
        self.curve = pg.PlotDataItem(pen=pg.mkPen(COLORS["wave"], width=1))
        # No pyqtgraph downsampling/clipping: the pyramid already hands over only what is drawn.
        self.curve.setDownsampling(auto=False)
        self.curve.setClipToView(False)
        self.addItem(self.curve)
        self.region = pg.LinearRegionItem(brush=pg.mkBrush(79, 179, 191, 50),
                                          pen=pg.mkPen(COLORS["accent"], width=1))
        self.region.setZValue(10)
        self.region.hide()
        self.region.sigRegionChanged.connect(self._region_moved)
        self.addItem(self.region)
        self.playhead = pg.InfiniteLine(0, angle=90, pen=pg.mkPen(COLORS["playhead"], width=1.5))
        self.playhead.setZValue(20)
        self.addItem(self.playhead)
        self._pyramid: PeakPyramid | None = None
        self._drawn: tuple[np.ndarray, tuple] | None = None  # (data, key) of the curve on screen
        self.sample_rate = 1
        self.duration_s = 0.0
        self._redraw = QTimer(self, singleShot=True, interval=15)
        self._redraw.timeout.connect(self._draw_visible)
        self._vb.sigXRangeChanged.connect(lambda *_: self._redraw.start())
        self._vb.setYRange(-1.05, 1.05, padding=0)
        self._vb.setXRange(0, 10, padding=0)  # an empty view still reads as "seconds of audio"

    # ---- data ---------------------------------------------------------------------------
    def set_audio(self, samples: np.ndarray | None, sample_rate: int, pyramid: PeakPyramid | None = None,
                  *, keep_view: bool = False) -> None:
        """Show new audio; pass a prebuilt pyramid for long files (built off the GUI thread)."""
        if samples is None or len(samples) == 0:
            self._pyramid, self.duration_s, self._drawn = None, 0.0, None
            self.curve.setData([], [])
            self.clear_selection()
            return
        self._pyramid = pyramid if pyramid is not None else build_peaks(samples)
        self.sample_rate = int(sample_rate)
        self.duration_s = len(samples) / float(sample_rate)
        self._vb.setLimits(xMin=0, xMax=max(self.duration_s, 1e-3), yMin=-1.1, yMax=1.1,
                           minXRange=min(0.005, self.duration_s))
        if keep_view:
            lo, hi = self._vb.viewRange()[0]
            if hi > self.duration_s:
                self._vb.setXRange(0, self.duration_s, padding=0)
        else:
            self._vb.setXRange(0, self.duration_s, padding=0)
        self._vb.setYRange(-1.05, 1.05, padding=0)
        self.clear_selection()
        self._draw_visible()

    def begin(self, duration_s: float) -> None:
        """A long file starts loading: empty plot, the new file's whole time axis. (Its own GUI
        event: new axes are the costliest repaint, better not together with the first curve.)"""
        self._pyramid, self._drawn, self.duration_s = None, None, float(duration_s)
        self.curve.setData([], [])
        self._vb.setLimits(xMin=0, xMax=max(duration_s, 1e-3), yMin=-1.1, yMax=1.1,
                           minXRange=min(0.005, duration_s))
        self._vb.setXRange(0, duration_s, padding=0)
        self._vb.setYRange(-1.05, 1.05, padding=0)
        self.clear_selection()

    def show_progress(self, peaks: PeakPyramid, sample_rate: int, duration_s: float) -> None:
        """A long file still loading: draw the exact envelope of what has been read so far over
        the whole file's time axis (the rest stays empty); set_audio replaces it when done."""
        if self.duration_s != duration_s:
            self.begin(duration_s)
        self._pyramid, self.sample_rate = peaks, int(sample_rate)
        self._draw_visible()

    def _draw_visible(self) -> None:
        p = self._pyramid
        if p is None:
            return
        lo, hi = self._vb.viewRange()[0]
        sr = self.sample_rate
        width_px = max(200, int(self._vb.width()))
        span = (hi - lo) * sr
        # A margin of half a screen each side so small pans do not show an empty edge.
        s0 = max(0, int(lo * sr - span / 2))
        s1 = min(p.extent, int(hi * sr + span / 2) + 1)
        # What the picture depends on: the same key draws the same curve, so a progress report
        # that changes nothing visible (a long file's samples decoding behind its finished
        # overview) and the import's final set_audio cost no curve update and no repaint.
        fine = s1 - s0 < 2 * width_px * BASE_SPAN  # drawn from raw samples where decoded
        key = (s0, s1, width_px, -1 if p.complete else p.extent, p.n_valid if fine else -1)
        data = p.levels[0].mins if p.levels else p.samples  # the builder's array: same data
        if self._drawn is not None and self._drawn[0] is data and key == self._drawn[1]:
            return
        if s1 <= s0:
            self.curve.setData([], [])
        elif s1 - s0 <= 4 * width_px and s1 <= p.n_valid:  # a few samples per pixel: the samples
            self.curve.setData(np.arange(s0, s1, dtype=np.float64) / sr, p.samples[s0:s1],
                               skipFiniteCheck=True)
        else:
            # 0.5-1 (min, max) pair = 1-2 points per pixel over the visible part (the range is two
            # screens wide): every pixel column still gets its exact extremes.
            c, mins, maxs = p.envelope(s0, s1, max_pairs=2 * width_px)
            x = np.repeat(c / sr, 2)
            y = np.empty(2 * c.size, np.float32)
            y[0::2], y[1::2] = mins, maxs
            self.curve.setData(x, y, skipFiniteCheck=True)
        self._drawn = (data, key)

    # ---- selection / playhead ------------------------------------------------------------
    def set_selection(self, start_s: float, end_s: float) -> None:
        start_s = max(0.0, min(start_s, self.duration_s))
        end_s = max(0.0, min(end_s, self.duration_s))
        self.region.setVisible(end_s > start_s)  # before setRegion: listeners ask selection()
        self.region.setRegion((start_s, end_s))
        self.selectionChanged.emit(start_s, end_s) if end_s > start_s else None

    def clear_selection(self) -> None:
        if self.region.isVisible():
            self.region.hide()
            self.selectionChanged.emit(0.0, 0.0)

    def selection(self) -> tuple[float, float] | None:
        if not self.region.isVisible():
            return None
        a, b = self.region.getRegion()
        return (a, b) if b > a else None

    def _region_moved(self) -> None:
        a, b = self.region.getRegion()
        self.selectionChanged.emit(float(a), float(b))

    def set_playhead(self, seconds: float) -> None:
        self.playhead.setValue(seconds)

    def zoom_to(self, start_s: float, end_s: float) -> None:
        self._vb.setXRange(start_s, end_s, padding=0)

    def visible_range(self) -> tuple[float, float]:
        lo, hi = self._vb.viewRange()[0]
        return float(lo), float(hi)
