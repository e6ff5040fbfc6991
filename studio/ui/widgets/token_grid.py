"""Codec tokens as an image: time (frames) across, codebook down (codebook 0 at the top).

Token ids are categorical, so the colour is a hash of the id (neighbouring ids get unrelated
colours); repeated tokens show up as horizontal stripes, a stuck generation as a solid band.
A continuous-latent model's frames (Pocket TTS: float [latent_dim] per frame) are drawn as a heat map
instead (viridis over a fixed -3..3 range: the latents are normalised); the dtype decides which.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer

from studio.ui.theme import COLORS
from studio.ui.widgets.waveform import AXIS_WIDTH


def token_colors(codes: np.ndarray) -> np.ndarray:
    """[n_codebooks, T] int -> [T, n_codebooks, 3] uint8 (ImageItem wants x first)."""
    h = (np.asarray(codes, dtype=np.int64) * 2654435761) & 0xFFFFFF  # Knuth multiplicative hash
    rgb = np.stack([(h >> 16) & 255, (h >> 8) & 255, h & 255], axis=-1).astype(np.uint8)  # [K, T, 3]
    rgb = (rgb // 2 + 64).astype(np.uint8)  # muted, so the grid does not shout over the waveform
    return np.ascontiguousarray(rgb.transpose(1, 0, 2))  # [T, K, 3]


LATENT_RANGE = 3.0  # normalised latents: +-3 sigma covers nearly every value


def latent_colors(latents: np.ndarray) -> np.ndarray:
    """[latent_dim, T] float -> [T, latent_dim, 3] uint8 heat map (fixed levels: frames stay comparable)."""
    x = np.clip((np.asarray(latents, dtype=np.float32) + LATENT_RANGE) / (2 * LATENT_RANGE), 0.0, 1.0)
    lut = _viridis()
    rgb = lut[np.round(x * (len(lut) - 1)).astype(np.int64)]  # [D, T, 3]
    return np.ascontiguousarray(rgb.transpose(1, 0, 2))


_LUT: np.ndarray | None = None


def _viridis() -> np.ndarray:
    global _LUT
    if _LUT is None:
        _LUT = pg.colormap.get("viridis").getLookupTable(0.0, 1.0, 256, alpha=False).astype(np.uint8)  # [256, 3]
    return _LUT


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
        pi.getAxis("left").enableAutoSIPrefix(False)  # codebook numbers, never "(x0.001)"
        pi.setYRange(0, 32, padding=0)  # an empty grid still reads as Mimi's 32 codebooks
        pi.setXRange(0, 1, padding=0)  # ...and starts at 0 s (pyqtgraph's default centres on 0)
        pi.getAxis("bottom").setLabel("time", units="s")
        pi.invertY(True)  # codebook 0 (the semantic one, for Mimi) at the top
        self.image = pg.ImageItem(axisOrder="col-major")
        self.addItem(self.image)
        self.codes: np.ndarray | None = None  # [n_codebooks, n_frames] shown (a view of _codes)
        self._codes = np.zeros((0, 0), np.int64)  # [n_codebooks, capacity]
        self._rgb = np.zeros((0, 0, 3), np.uint8)  # [capacity, n_codebooks, 3] colours of _codes
        self._n = 0  # frames filled
        self._shown_s = 0.0  # right end of the time axis
        self._placed: np.ndarray | None = None  # [columns, K, 4] chunk-placed image of a finished take
        self._duration_s = 0.0  # the take's length (with pauses): the time axis covers it all
        self.latent = False  # showing continuous latents (heat map), not codes

    def _set_kind(self, latent: bool) -> None:
        if latent != self.latent or self._n == 0:
            self._n = 0
            self._codes = np.zeros((0, 0), np.float32 if latent else np.int64)
        self.latent = latent
        self.getPlotItem().getAxis("left").setLabel("latent dim" if latent else "codebook")

    def match_right_margin(self, plot: pg.PlotWidget) -> None:
        """Keep `plot`'s right margin (the waveform's, which matches the mel's colour bar): X-linked
        views align by pixel, so a wider grid would show a longer time range than the waveform."""
        self._partner = plot
        pi = self.getPlotItem()
        pi.showAxis("right")
        pi.getAxis("right").setStyle(showValues=False)
        self._align = QTimer(self, singleShot=True, interval=0)
        self._align.timeout.connect(self._align_right)
        pi.getViewBox().sigResized.connect(lambda *_: self._align.start())
        plot.getPlotItem().getViewBox().sigResized.connect(lambda *_: self._align.start())

    def _align_right(self) -> None:
        mine, theirs = self.getPlotItem(), self._partner.getPlotItem()
        delta = (theirs.geometry().width() - theirs.getViewBox().geometry().right()) - \
            (mine.geometry().width() - mine.getViewBox().geometry().right())
        axis = mine.getAxis("right")
        if abs(delta) >= 0.5:
            axis.setWidth(max(0, int(round(axis.width() + delta))))

    def set_codes(self, codes: np.ndarray | None, frame_rate: float | None = None, *,
                  spans_s: list[tuple[float, float]] | None = None, duration_s: float | None = None) -> None:
        """Show a finished take's codes. Codes exist for speech only; with the take's chunk spans
        (seconds, pauses excluded) each chunk's frames are drawn where its audio is, so the grid
        lines up with the waveform, and `duration_s` keeps the shared time axis on the whole take."""
        if frame_rate:
            self.frame_rate = frame_rate
        self._n = 0
        self._shown_s = 0.0
        self._placed = None
        self._duration_s = duration_s or 0.0
        if codes is None or np.asarray(codes).size == 0:
            self.codes = None
            self.image.clear()
            return
        codes = np.asarray(codes)
        self._set_kind(np.issubdtype(codes.dtype, np.floating))
        if codes.ndim == 1:
            codes = codes[:, None]  # one frame
        self._grow(codes.shape[0], codes.shape[1])
        self._put(codes)
        if spans_s and len(spans_s) > 1:
            self._placed = self._place(spans_s)
        self._show(exact_range=True)

    def _place(self, spans_s: list[tuple[float, float]]) -> np.ndarray:
        """[columns, n_codebooks, 4] RGBA over the whole take: each chunk's frames at its start,
        pauses transparent. A chunk's frame count is its length in frames (seams crossfade, so
        lengths are rounded); the last chunk takes what is left."""
        fr, n = self.frame_rate, self._n
        total = max(int(round(max(b for _, b in spans_s) * fr)), n)
        out = np.zeros((total, self._codes.shape[0], 4), np.uint8)  # [columns, K, RGBA]
        used = 0
        for i, (a, b) in enumerate(spans_s):
            k = n - used if i == len(spans_s) - 1 else min(n - used, int(round((b - a) * fr)))
            at = min(int(round(a * fr)), total - k)
            out[at:at + k, :, :3] = self._rgb[used:used + k]
            out[at:at + k, :, 3] = 255
            used += k
        return out

    def append_frames(self, frames: np.ndarray) -> None:
        """Streaming: add [n_codebooks, n] (or one [n_codebooks]) frames to the right.

        Only the new columns are coloured (into a buffer that doubles when full), and the time axis
        grows in steps, not per call: a range change relays out every X-linked plot (waveform, mel,
        chunk strip), which cost far more GUI time than the image itself.
        """
        frames = np.asarray(frames)
        if frames.ndim == 1:
            frames = frames[:, None]
        if frames.size == 0:
            return
        latent = np.issubdtype(frames.dtype, np.floating)
        if self.codes is None or self._codes.shape[0] != frames.shape[0] or latent != self.latent:
            self.set_codes(None)
            self._set_kind(latent)
        self._grow(frames.shape[0], self._n + frames.shape[1])
        self._put(frames)
        self._show(exact_range=False)

    def append_frame(self, frame: np.ndarray) -> None:
        """Streaming: add one [n_codebooks] frame to the right."""
        self.append_frames(np.asarray(frame).reshape(-1, 1))

    def _grow(self, n_cb: int, need: int) -> None:
        if self._n == 0 or self._codes.shape[0] != n_cb or need > self._codes.shape[1] or \
                (self._codes.dtype.kind == "f") != self.latent:
            cap = max(need, 2 * (self._codes.shape[1] if self._n else 0), 64)
            codes = np.zeros((n_cb, cap), np.float32 if self.latent else np.int64)  # [n_codebooks, capacity]
            rgb = np.zeros((cap, n_cb, 3), np.uint8)  # [capacity, n_codebooks, 3]
            if self._n:
                codes[:, :self._n] = self._codes[:, :self._n]
                rgb[:self._n] = self._rgb[:self._n]
            self._codes, self._rgb = codes, rgb

    def _put(self, frames: np.ndarray) -> None:
        n = frames.shape[1]
        self._codes[:, self._n:self._n + n] = frames
        self._rgb[self._n:self._n + n] = latent_colors(frames) if self.latent else token_colors(frames)
        self._n += n
        self.codes = self._codes[:, :self._n]  # [n_codebooks, n_frames], a view

    def _show(self, exact_range: bool) -> None:
        n_cb, n_frames = self._codes.shape[0], self._n
        placed = self._placed if exact_range else None
        if placed is not None:
            seconds = len(placed) / self.frame_rate
            self.image.setImage(placed, autoLevels=False, levels=(0, 255))
        else:
            seconds = n_frames / self.frame_rate
            self.image.setImage(self._rgb[:n_frames], autoLevels=False, levels=(0, 255))
        self.image.setRect(0.0, 0.0, seconds, float(n_cb))
        if exact_range:
            self._shown_s = max(seconds, self._duration_s, 1e-3)
        elif seconds > self._shown_s:  # streaming: room for 50% more before the axis moves again
            self._shown_s = max(1.5 * seconds, 2.0)
        else:
            return
        self.getPlotItem().setXRange(0, self._shown_s, padding=0)
        self.getPlotItem().setYRange(0, n_cb, padding=0)
