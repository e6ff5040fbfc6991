"""StudioContext: what every workspace is built with (`cls(ctx)`).

Holds the shared domain objects (paths, library, settings) and lazily-created audio objects, so a
workspace never opens a device or imports a heavy module before it needs one.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoGroup

from studio.core.library import Library
from studio.core.paths import Paths
from studio.core.settings import Settings, save_settings

log = logging.getLogger(__name__)


class StatusHub(QObject):
    """Workspaces report to the status bar through this, never by reaching for the window."""

    message = Signal(str, int)  # text, timeout ms (0 = until replaced)
    engine_state = Signal(str)  # "idle", "loading csm-1b", ...
    error = Signal(str, str)  # title, user-facing message (shown once in a dialog)
    devices_changed = Signal()  # input/output device choice changed (settings updated)
    engine_bridge_set = Signal(object)  # the EngineBridge, once some workspace starts the engine

    def show(self, text: str, timeout_ms: int = 5000) -> None:
        self.message.emit(text, timeout_ms)


@dataclass
class StudioContext:
    paths: Paths
    library: Library
    settings: Settings
    status: StatusHub = field(default_factory=StatusHub)
    undo_group: QUndoGroup = field(default_factory=QUndoGroup)
    # Set by the window/app when an engine exists (the engine area's studio/ui/engine_bridge.py).
    engine_bridge: Any = None
    _player: Any = None
    _voices: Any = None
    player_factory: Callable[[str | None], Any] | None = None

    @property
    def player(self):
        """The shared Player (studio.core.player), created on first use on the output device."""
        if self._player is None:
            if self.player_factory is not None:
                self._player = self.player_factory(self.settings.output_device)
            else:
                from studio.core.player import Player

                self._player = Player(device=self.settings.output_device)
        return self._player

    def set_output_device(self, name: str | None) -> None:
        self.settings.output_device = name
        if self._player is not None:
            try:
                self._player.stop()
            except Exception:  # a lost device must not block switching to another
                log.exception("stopping player")
            self._player = None

    def make_recorder(self, out_dir=None, **kwargs):
        """A new Recorder on the chosen input device. It streams to paths.incomplete while
        recording; the finished file lands in `out_dir` (default paths.recordings)."""
        from studio.core.recorder import Recorder

        kwargs.setdefault("device", self.settings.input_device)
        kwargs.setdefault("samplerate", self.settings.record_samplerate)
        return Recorder(out_dir or self.paths.recordings, **kwargs)

    @property
    def voices(self):
        if self._voices is None:
            from studio.core.voices import VoiceStore

            self._voices = VoiceStore(self.library, self.paths)
        return self._voices

    def __setattr__(self, name: str, value) -> None:
        super().__setattr__(name, value)
        # The engine starts lazily (first synthesis); the status bar wants to hear about it then.
        if name == "engine_bridge" and value is not None and "status" in self.__dict__:
            self.status.engine_bridge_set.emit(value)

    def save_settings(self) -> None:
        save_settings(self.settings, self.paths.settings_file)
