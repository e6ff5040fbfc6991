"""Transport wiring: play/pause/stop of the current workspace's audio and the moving playhead."""
from __future__ import annotations

import logging
from typing import Callable

from PySide6.QtCore import QObject, QTimer

from studio.ui.widgets.transport import TransportBar

log = logging.getLogger(__name__)


class PlaybackController(QObject):
    def __init__(self, ctx, transport: TransportBar, current_workspace: Callable[[], object], parent=None):
        super().__init__(parent)
        self.ctx, self.transport, self._current = ctx, transport, current_workspace
        self._paused = False
        self._duration = 0.0
        self._target = None  # the workspace whose audio is playing
        self._timer = QTimer(self, interval=33)  # ~30 Hz playhead, pulled from the Player
        self._timer.timeout.connect(self._tick)
        # While stopped the readout still names the clip: where Play would start / how long it is.
        self._idle = QTimer(self, interval=250)
        self._idle.timeout.connect(self._show_idle)
        self._idle.start()
        transport.playPauseClicked.connect(self.play_pause)
        transport.stopClicked.connect(self.stop)

    def play_pause(self) -> None:
        try:
            player = self.ctx.player
        except Exception as exc:
            self.ctx.status.show(f"Playback unavailable: {exc}", 10000)
            return
        try:
            if player.is_playing:
                player.pause()
                self._paused = True
                self._set_playing(False)
                return
            if self._paused and self._target is self._current():
                player.resume()
                self._paused = False
                self._set_playing(True)
                return
            w = self._current()
            src = w.playback_source() if w is not None and hasattr(w, "playback_source") else None
            if src is None:
                self.ctx.status.show("Nothing to play here.")
                return
            samples, sr, start = src
            player.play(samples, sr, start_s=start)
            self._target, self._paused = w, False
            self._duration = len(samples) / float(sr)
            self._set_playing(True)
        except Exception as exc:  # device lost / busy: say so, keep the app alive
            log.exception("playback")
            self.ctx.status.show(f"Playback failed: {exc}", 10000)
            self._set_playing(False)

    def stop(self) -> None:
        p = self.ctx._player
        if p is not None:
            try:
                p.stop()
            except Exception:
                log.exception("stop")
        self._paused = False
        self._set_playing(False)

    def _set_playing(self, on: bool) -> None:
        self.transport.set_playing(on)
        if on:
            self._timer.start()
        else:
            self._timer.stop()
            self._tick()

    def _tick(self) -> None:
        p = self.ctx._player
        if p is None:
            return
        pos = float(getattr(p, "position_s", 0.0) or 0.0)
        self.transport.set_position(pos, self._duration)
        if self._target is not None and hasattr(self._target, "set_playhead"):
            self._target.set_playhead(pos)
        err = getattr(p, "error", None)
        if err:
            self.ctx.status.show(f"Playback stopped: {err}", 10000)
        if self._timer.isActive() and not p.is_playing and not self._paused:
            self._set_playing(False)

    def _show_idle(self) -> None:
        """Stopped or paused: the current workspace's clip (start, length), else the player's source
        (a take played from Synthesize or Compare), so the readout never says 0 with audio loaded."""
        if self._timer.isActive():
            return
        p = self.ctx._player
        src = None
        if not self._paused:
            w = self._current()
            try:
                src = w.playback_source() if w is not None and hasattr(w, "playback_source") else None
            except Exception:  # a workspace mid-rebuild: keep the last readout
                log.debug("playback_source", exc_info=True)
                return
        if src is not None:
            samples, sr, start = src
            self.transport.set_position(float(start), len(samples) / float(sr))
        elif p is not None:
            dur = getattr(p, "duration_s", 0.0)
            pos = getattr(p, "position_s", 0.0)
            live = bool(getattr(p, "is_playing", False)) or bool(getattr(p, "is_paused", False))
            if isinstance(dur, (int, float)) and isinstance(pos, (int, float)):
                self.transport.set_position(float(pos) if live else 0.0, float(dur))
