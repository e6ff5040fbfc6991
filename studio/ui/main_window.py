"""Main window: workspace switcher, status bar, transport bar, menus, shortcuts, drag-and-drop.

Workspaces come from `studio/ui/workspaces.py`; only the remembered one is built before the window
shows, the others on first visit (so a workspace that imports torch cannot slow the launch). A
workspace whose module is missing is skipped; one that fails to build shows its error in place.
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QMainWindow, QStackedWidget, QVBoxLayout,
                               QWidget)

from engine.audio.formats import IMPORT_SUFFIXES
from studio.ui.main_window_playback import PlaybackController
from studio.ui.widgets.transport import TransportBar
from studio.ui.workspaces import WORKSPACES

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = set(IMPORT_SUFFIXES)


def available_workspaces() -> list[tuple[str, str, str]]:
    """Entries whose module exists (find_spec imports only the parent packages, not the module)."""
    out = []
    for title, module, cls in WORKSPACES:
        try:
            if importlib.util.find_spec(module) is not None:
                out.append((title, module, cls))
        except (ImportError, ValueError):
            pass
    return out


class MainWindow(QMainWindow):
    def __init__(self, ctx, parent=None, *, defer_workspace: bool = False):
        """`defer_workspace`: show the shell first and build the first workspace from the event
        loop (run_gui uses it: pyqtgraph and friends then load after the window is visible)."""
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Mynah — voice studio")
        self.setAcceptDrops(True)
        self.resize(1400, 900)
        self.entries = available_workspaces()
        self.workspaces: dict[str, QWidget] = {}

        self.switcher = QListWidget()
        self.switcher.setObjectName("workspaceSwitcher")
        self.switcher.setFixedWidth(132)
        self.switcher.setFocusPolicy(Qt.NoFocus)
        self.stack = QStackedWidget()
        for title, _m, _c in self.entries:
            self.switcher.addItem(title)
            placeholder = QLabel(f"Loading {title}…")  # until first visit
            placeholder.setAlignment(Qt.AlignCenter)
            placeholder.setObjectName("hint")
            self.stack.addWidget(placeholder)
        self.transport = TransportBar(ctx.settings.output_device)
        body = QWidget()
        h = QHBoxLayout(body)
        h.setContentsMargins(0, 0, 0, 0)
        h.setSpacing(0)
        h.addWidget(self.switcher)
        h.addWidget(self.stack, 1)
        central = QWidget()
        v = QVBoxLayout(central)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(0)
        v.addWidget(body, 1)
        v.addWidget(self.transport)
        self.setCentralWidget(central)

        self.engine_label = QLabel("Engine: idle")
        self.device_label = QLabel()
        self.statusBar().addPermanentWidget(self.device_label)
        self.statusBar().addPermanentWidget(self.engine_label)
        ctx.status.message.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        ctx.status.engine_state.connect(lambda s: self.engine_label.setText(f"Engine: {s}"))
        ctx.status.devices_changed.connect(self._update_device_label)
        ctx.status.engine_bridge_set.connect(self._wire_engine)
        if ctx.engine_bridge is not None:
            self._wire_engine(ctx.engine_bridge)
        self.transport.output_picker.deviceChanged.connect(self._output_changed)
        self.transport.output_picker.devicesListed.connect(self._devices_listed)

        self._update_device_label()
        self.playback = PlaybackController(ctx, self.transport, self.current_workspace, self)
        self._build_actions()
        self.switcher.currentRowChanged.connect(self._switch_to)
        titles = [e[0] for e in self.entries]
        start = titles.index(ctx.settings.last_workspace) if ctx.settings.last_workspace in titles else 0
        self._restore_window_state()
        if self.entries:
            if defer_workspace:
                self.switcher.blockSignals(True)
                self.switcher.setCurrentRow(start)
                self.switcher.blockSignals(False)  # the caller runs build_current_workspace() later
            else:
                self.switcher.setCurrentRow(start)

    # ---- workspaces ---------------------------------------------------------------------
    def workspace(self, title: str) -> QWidget | None:
        """The workspace called `title`, building it on first use."""
        titles = [e[0] for e in self.entries]
        if title not in titles:
            return None
        if title not in self.workspaces:
            i = titles.index(title)
            _t, module, cls_name = self.entries[i]
            try:
                cls = getattr(importlib.import_module(module), cls_name)
                w = cls(self.ctx)
                state = self.ctx.settings.panels.get(title)
                if state and hasattr(w, "restore_state"):
                    w.restore_state(json.loads(state))
            except Exception as exc:  # one broken workspace must not take the app down
                log.exception("building workspace %s", title)
                w = QLabel(f"The {title} workspace could not be opened:\n{type(exc).__name__}: {exc}\n\n"
                           "Details are in the log (Help ▸ Open log folder).")
                w.setAlignment(Qt.AlignCenter)
                w.setWordWrap(True)
            old = self.stack.widget(i)
            self.stack.insertWidget(i, w)
            self.stack.removeWidget(old)
            old.deleteLater()
            self.workspaces[title] = w
        return self.workspaces[title]

    def build_current_workspace(self) -> None:
        self._switch_to(self.switcher.currentRow())

    def current_workspace(self) -> QWidget | None:
        row = self.switcher.currentRow()
        return self.workspaces.get(self.entries[row][0]) if 0 <= row < len(self.entries) else None

    def show_workspace(self, title: str) -> QWidget | None:
        titles = [e[0] for e in self.entries]
        if title in titles:
            self.switcher.setCurrentRow(titles.index(title))
        return self.workspace(title)

    def _switch_to(self, row: int) -> None:
        if row < 0:
            return
        title = self.entries[row][0]
        w = self.workspace(title)
        self.stack.setCurrentIndex(row)
        self.ctx.settings.last_workspace = title
        stack = getattr(w, "undo_stack", None)
        self.ctx.undo_group.setActiveStack(stack)

    # ---- actions & shortcuts ------------------------------------------------------------
    def _build_actions(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        self.import_action = QAction("&Import audio…", self, shortcut=QKeySequence("Ctrl+I"))
        self.import_action.triggered.connect(self.import_dialog)
        file_menu.addAction(self.import_action)
        self.record_action = QAction("&Record", self, shortcut=QKeySequence("R"))
        self.record_action.triggered.connect(self.toggle_record)
        file_menu.addAction(self.record_action)
        self.devices_action = QAction("Audio &devices…", self)
        self.devices_action.triggered.connect(self.open_audio_devices)
        file_menu.addAction(self.devices_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        edit_menu = mb.addMenu("&Edit")
        self.undo_action = self.ctx.undo_group.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence.Undo)
        self.redo_action = self.ctx.undo_group.createRedoAction(self, "&Redo")
        # Both conventions, whatever the platform's theme says: Ctrl+Shift+Z (Audacity, RX) and Ctrl+Y.
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        self.addAction(self.undo_action)
        self.addAction(self.redo_action)
        view_menu = mb.addMenu("&View")
        for i, (title, _m, _c) in enumerate(self.entries[:9]):
            a = QAction(title, self, shortcut=QKeySequence(f"Ctrl+{i + 1}"))
            a.triggered.connect(lambda _=False, r=i: self.switcher.setCurrentRow(r))
            view_menu.addAction(a)
        transport_menu = mb.addMenu("&Transport")
        self.play_action = QAction("Play / pause", self, shortcut=QKeySequence(Qt.Key_Space))
        self.play_action.triggered.connect(self.playback.play_pause)
        self.stop_action = QAction("Stop", self)
        self.stop_action.triggered.connect(self.playback.stop)
        transport_menu.addAction(self.play_action)
        transport_menu.addAction(self.stop_action)
        help_menu = mb.addMenu("&Help")
        self.guide_action = QAction("&Getting started…", self)
        self.guide_action.triggered.connect(self.show_getting_started)
        help_menu.addAction(self.guide_action)
        logs = QAction("Open log folder", self)
        logs.triggered.connect(self._open_logs)
        help_menu.addAction(logs)
        for a in (self.import_action, self.record_action, self.play_action):
            self.addAction(a)

    def show_getting_started(self):
        """The guided first run (studio/ui/first_run.py); marks it seen once closed."""
        from studio.ui.first_run import FirstRunGuide

        guide = getattr(self, "guide", None)
        if guide is None:
            self.guide = guide = FirstRunGuide(self)
            guide.finished.connect(self._guide_closed)
            # Beside the workspace it points into, not over its middle.
            g = self.geometry()
            guide.move(max(g.x(), g.right() - guide.width() - 24), g.y() + 80)
        guide.go(0)
        guide.show()
        guide.raise_()
        return guide

    def _guide_closed(self, *_):
        if not self.ctx.settings.first_run_done:
            self.ctx.settings.first_run_done = True
            self.ctx.save_settings()

    def import_dialog(self) -> None:
        w = self.show_workspace("Voices")
        if w is not None and hasattr(w, "choose_files"):
            w.choose_files()

    def import_files(self, paths: list[Path]) -> None:
        w = self.show_workspace("Voices")
        if w is not None and hasattr(w, "import_files"):
            w.import_files(paths)

    def toggle_record(self) -> None:
        w = self.current_workspace()
        if w is None or not hasattr(w, "toggle_record"):
            w = self.show_workspace("Voices")
        if w is not None and hasattr(w, "toggle_record"):
            w.toggle_record()

    def open_audio_devices(self):
        """One non-modal dialog, kept and re-shown (it stops its input monitor when hidden)."""
        from studio.ui.audio_devices_dialog import AudioDevicesDialog

        if getattr(self, "devices_dialog", None) is None:
            self.devices_dialog = AudioDevicesDialog(self.ctx, self)
        self.devices_dialog.show()
        self.devices_dialog.raise_()
        self.devices_dialog.activateWindow()
        return self.devices_dialog

    def _open_logs(self) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.ctx.paths.logs)))

    def _wire_engine(self, bridge) -> None:
        from studio.ui.engine_bridge import describe_state

        def show(state) -> None:
            self.engine_label.setText(f"Engine: {describe_state(state)}")

        bridge.stateChanged.connect(show)
        show(bridge.state)

    def _output_changed(self, name: str | None) -> None:
        self.playback.stop()
        self.ctx.set_output_device(name)
        self.ctx.status.devices_changed.emit()

    def _devices_listed(self, devices: list) -> None:
        self._update_device_label()

    def _update_device_label(self) -> None:
        s = self.ctx.settings
        from studio.ui.widgets.device_picker import device_display_name

        self.device_label.setText(f"In: {device_display_name(s.input_device)} · "
                                  f"Out: {device_display_name(s.output_device)}")

    # ---- drag and drop ------------------------------------------------------------------
    @staticmethod
    def _dropped_files(event) -> list[Path]:
        md = event.mimeData()
        if not md.hasUrls():
            return []
        return [Path(u.toLocalFile()) for u in md.urls() if u.isLocalFile()]

    def dragEnterEvent(self, event) -> None:
        if self._dropped_files(event):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = self._dropped_files(event)
        if files:
            event.acceptProposedAction()
            self.import_files(files)

    # ---- state --------------------------------------------------------------------------
    def after_show(self) -> None:
        """Work that may wait until the window is up: devices, recovery offer."""
        self.transport.output_picker.refresh()
        from studio.ui.main_window_recovery import offer_recovery

        offer_recovery(self)

    def _restore_window_state(self) -> None:
        s = self.ctx.settings
        if s.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(s.window_geometry.encode()))
        if s.window_state:
            self.restoreState(QByteArray.fromBase64(s.window_state.encode()))

    def save_window_state(self) -> None:
        s = self.ctx.settings
        s.window_geometry = bytes(self.saveGeometry().toBase64()).decode()
        s.window_state = bytes(self.saveState().toBase64()).decode()
        for title, w in self.workspaces.items():
            if hasattr(w, "save_state"):
                try:
                    s.panels[title] = json.dumps(w.save_state())
                except Exception:
                    log.exception("saving panel state of %s", title)
        self.ctx.save_settings()

    def closeEvent(self, event) -> None:
        self.playback.stop()
        if getattr(self, "guide", None) is not None:
            self.guide.close()
        for w in self.workspaces.values():
            if hasattr(w, "shutdown"):
                try:
                    w.shutdown()
                except Exception:
                    log.exception("shutting down workspace")
        try:
            self.save_window_state()
        except OSError:
            log.exception("saving settings")
        super().closeEvent(event)
