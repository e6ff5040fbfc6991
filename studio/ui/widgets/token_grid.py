"""Codec tokens as an image: time (frames) across, codebook down (codebook 0 at the top).

Token ids are categorical, so the colour is a hash of the id (neighbouring ids get unrelated
colours); repeated tokens show up as horizontal stripes, a stuck generation as a solid band.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from studio.ui.theme import COLORS
from studio.ui.widgets.waveform import AXIS_WIDTH


def token_colors(codes: np.ndarray) -> np.ndarray:
    """[n_codebooks, T] int -> [T, n_codebooks, 3] uint8 (ImageItem wants x first)."""
    h = (np.asarray(codes, dtype=np.int64) * 2654435761) & 0xFFFFFF  # Knuth multiplicative hash
    rgb = np.stack([(h >> 16) & 255, (h >> 8) & 255, h & 255], axis=-1).astype(np.uint8)  # [K, T, 3]
    rgb = (rgb // 2 + 64).astype(np.uint8)  # muted, so the grid does not shout over the waveform
    return np.ascontiguousarray(rgb.transpose(1, 0, 2))  # [T, K, 3]


class TokenGrid(pg.PlotWidget):
    """Shows [n_codebooks, T] codes; x is in seconds when `frame_rate` is given."""

    def __init__(self, parent=None, frame_rate: float = 12.5):
        super().__init__(parent, background=COLORS["plot_bg"])
        self.frame_rate = frame_rate
        self.setMinimumHeight(90)
        pi = self.getPlotItem()
        pi.hideButtons()
        pi.setMouseEnabled(x=True, y=False)
        pi.getAxis("left").setLabel("codebook")
        pi.getAxis("left").setWidth(AXIS_WIDTH)  # lines up with the waveform above it
        pi.getAxis("bottom").setLabel("time", units="s")
        pi.invertY(True)  # codebook 0 (the semantic one, for Mimi) at the top
        self.image = pg.ImageItem(axisOrder="col-major")
        self.addItem(self.image)
        self.codes: np.ndarray | None = None

    def set_codes(self, codes: np.ndarray | None, frame_rate: float | None = None) -> None:
        if frame_rate:
            self.frame_rate = frame_rate
        if codes is None or np.asarray(codes).size == 0:
            self.codes = None
            self.image.clear()
            return
        codes = np.asarray(codes)
        if codes.ndim == 1:
            codes = codes[:, None]  # one frame
        self.codes = codes
        n_cb, n_frames = codes.shape
        self.image.setImage(token_colors(codes), autoLevels=False, levels=(0, 255))
        self.image.setRect(0.0, 0.0, n_frames / self.frame_rate, float(n_cb))
        self.getPlotItem().setXRange(0, max(n_frames / self.frame_rate, 1e-3), padding=0)
        self.getPlotItem().setYRange(0, n_cb, padding=0)

    def append_frame(self, frame: np.ndarray) -> None:
        """Streaming: add one [n_codebooks] frame to the right."""
        frame = np.asarray(frame).reshape(-1, 1)
        if self.codes is None or self.codes.shape[0] != frame.shape[0]:
            self.set_codes(frame)
        else:
            self.set_codes(np.concatenate([self.codes, frame], axis=1))
