"""`run_gui(argv)`: the studio's start-up.

Order matters for the launch figure: Qt + theme + window, show, THEN everything slow (device
lists, recovery check, other workspaces) from the event loop. Nothing here imports torch.
`MYNAH_SMOKE_EXIT=<ms>` prints a `MYNAH_SHOWN ...` line at first show and quits after <ms>; the
launch benchmark and the no-torch test use it.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
import traceback
from pathlib import Path

log = logging.getLogger("studio.app")

# Worker threads (decode, mel, analysis) hold the GIL between numpy calls; handing it back to the
# GUI thread every 1 ms instead of Python's default 5 ms keeps redraws smooth during an import.
GIL_SWITCH_INTERVAL_S = 0.001


class ExceptionReporter:
    """Global excepthook: every uncaught exception is logged; the user sees ONE dialog at a time."""

    def __init__(self, parent=None):
        self.parent = parent
        self.box = None
        self.count = 0
        self._prev = sys.excepthook

    def install(self) -> None:
        sys.excepthook = self.handle
        threading.excepthook = lambda args: self.handle(args.exc_type, args.exc_value, args.exc_traceback)

    def handle(self, etype, value, tb) -> None:
        log.error("uncaught exception", exc_info=(etype, value, tb))
        if issubclass(etype, KeyboardInterrupt):
            return
        self.count += 1
        text = "".join(traceback.format_exception_only(etype, value)).strip()
        from PySide6.QtCore import QThread, QTimer
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        if app is None:
            return
        if QThread.currentThread() is not app.thread():
            QTimer.singleShot(0, app, lambda: self._show(text))
        else:
            self._show(text)

    def _show(self, text: str) -> None:
        from PySide6.QtWidgets import QMessageBox

        if self.box is not None and self.box.isVisible():
            self.box.setInformativeText(f"{self.count} errors so far. Latest: {text}\n\nDetails are in the log.")
            return
        self.box = QMessageBox(QMessageBox.Warning, "Something went wrong",
                               "Mynah hit an unexpected error. Your work is still open.", parent=self.parent)
        self.box.setInformativeText(f"{text}\n\nDetails are in the log.")
        self.box.setModal(False)
        self.box.show()


def create_window(paths=None, *, defer_workspace: bool = False):
    """Context + main window on the current QApplication (used by run_gui, tests, screenshots)."""
    from studio.core.library import Library
    from studio.core.paths import get_paths
    from studio.core.settings import load_settings
    from studio.ui.context import StudioContext
    from studio.ui.main_window import MainWindow

    paths = paths or get_paths()
    ctx = StudioContext(paths=paths, library=Library(paths.library_db), settings=load_settings(paths.settings_file))
    return MainWindow(ctx, defer_workspace=defer_workspace)


def _freeze_startup_objects() -> None:
    """Move everything alive after start-up (Qt wrappers, modules, widgets) out of the garbage
    collector's view: a full collection otherwise walks them all and stops every thread for
    hundreds of ms, which a streaming take hears as a stall."""
    import gc

    gc.collect()
    gc.freeze()


def _choose_qt_platform() -> bool:
    """Before Qt starts: X11 libraries missing means Wayland where it can serve, else a message
    naming the packages to install (instead of Qt's abort). False: no window can open."""
    from studio.ui import platform_check

    verdict = platform_check.check()
    if not verdict.can_show_window:
        log.error("cannot open a window: %s", verdict.message)  # the console handler prints it too
        platform_check.tell_desktop_user(verdict.message)
        return False
    if verdict.platform:
        log.warning("X11 libraries missing (%s): using Qt's %s platform", ", ".join(verdict.missing),
                    verdict.platform)
        platform_check.apply(verdict)
    return True


def startup_files(argv: list[str] | None) -> list[Path]:
    """Audio files named on the command line (the desktop's "Open with Mynah": `mynah %F`), in order;
    Qt's own options (-style, -platform ...) and their values are not files."""
    out, skip = [], False
    for arg in argv or []:
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = arg.lstrip("-") in ("style", "platform", "qwindowgeometry", "display", "platformtheme")
        else:
            out.append(Path(arg).expanduser())
    return out


def run_gui(argv: list[str] | None = None) -> int:
    t0 = time.perf_counter()
    from PySide6.QtCore import QTimer, Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from studio.core.logging_setup import setup_logging
    from studio.core.paths import get_paths

    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    paths = get_paths()
    log_file = setup_logging(paths.logs)
    log.info("starting Mynah; data in %s", paths.home)
    if not _choose_qt_platform():
        return 1
    # Fractional scale factors (125 %, 150 %) render crisply instead of being rounded.
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication(["mynah", *(argv or [])])
    app.setApplicationName("Mynah")
    app.setOrganizationName("Mynah")
    from studio.ui.theme import apply_dark_theme

    apply_dark_theme(app)
    window = create_window(paths, defer_workspace=True)
    ctx = window.ctx
    reporter = ExceptionReporter(window)
    reporter.install()
    window.show()
    app.processEvents()  # first paint of the shell before the workspace (pyqtgraph) loads
    QTimer.singleShot(0, window.build_current_workspace)
    smoke = os.environ.get("MYNAH_SMOKE_EXIT")
    if smoke:
        # "torch" is checked here, at first show; the workspace is built just after.
        print(f"MYNAH_SHOWN t={time.perf_counter() - t0:.3f} torch={'torch' in sys.modules} "
              f"visible={window.isVisible()} log={log_file}", flush=True)
        def smoke_exit():
            ready = window.current_workspace() is not None
            print(f"MYNAH_READY t={time.perf_counter() - t0:.3f} workspace={ready} "
                  f"torch={'torch' in sys.modules}", flush=True)
            window.close()

        QTimer.singleShot(int(smoke), smoke_exit)
    QTimer.singleShot(0, window.after_show)
    files = startup_files(argv)
    if files:  # opened from the file manager: import into Voices (bad files get Voices' own message)
        QTimer.singleShot(0, lambda: window.import_files(files))
    if not ctx.settings.first_run_done and not files:
        QTimer.singleShot(400, window.show_getting_started)  # after the first paint and the workspace
    QTimer.singleShot(1500, _freeze_startup_objects)
    app.lastWindowClosed.connect(app.quit)
    rc = int(app.exec())
    from studio.ui.widgets.background import shutdown_pools

    finished = shutdown_pools()
    ctx.library.close()
    log.info("Mynah closed (rc=%s)", rc)
    if not finished:
        # A long spectrogram is still computing: its result is disposable, and letting the
        # interpreter finalize under a running worker thread can crash. Saves are already done.
        logging.shutdown()
        sys.stdout.flush()
        os._exit(rc)
    return rc
