"""Run a function on QThreadPool and get its result back on the GUI thread as a signal.

Modelled on superqt's worker: the function runs off the GUI thread, every exception is caught,
logged with its traceback and delivered as `failed(exc)`; a cancelled task never delivers a result.
The function may accept a `report` keyword to send progress/partial results (`progress(obj)`).
"""
from __future__ import annotations

import inspect
import logging
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)

_live: set["BackgroundTask"] = set()  # keep Python wrappers alive until their signals are delivered


class _Signals(QObject):
    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    released = Signal()


class BackgroundTask(QRunnable):
    def __init__(self, fn: Callable[..., Any], *args, **kwargs):
        super().__init__()
        self.setAutoDelete(False)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.signals = _Signals()
        self.cancelled = threading.Event()
        try:
            self._wants_report = "report" in inspect.signature(fn).parameters
        except (TypeError, ValueError):
            self._wants_report = False
        self.signals.finished.connect(self._release)
        self.signals.failed.connect(self._release)
        self.signals.released.connect(self._release)

    def cancel(self) -> None:
        self.cancelled.set()

    def run(self) -> None:  # worker thread
        try:
            kwargs = dict(self.kwargs)
            if self._wants_report:
                kwargs["report"] = self._report
            result = self.fn(*self.args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - every failure becomes an event
            if self.cancelled.is_set():
                self.signals.released.emit()
                return
            log.exception("background task %s failed", getattr(self.fn, "__name__", self.fn))
            self.signals.failed.emit(exc)
            return
        if self.cancelled.is_set():  # a cancelled task never delivers its result
            self.signals.released.emit()
            return
        self.signals.finished.emit(result)

    def _report(self, obj: Any) -> None:
        if self.cancelled.is_set():
            raise _Cancelled()
        self.signals.progress.emit(obj)

    def _release(self, *_):
        _live.discard(self)


class _Cancelled(Exception):
    pass


def run_in_background(fn: Callable[..., Any], *args, on_done: Callable[[Any], None] | None = None,
                      on_error: Callable[[BaseException], None] | None = None,
                      on_progress: Callable[[Any], None] | None = None,
                      pool: QThreadPool | None = None, **kwargs) -> BackgroundTask:
    task = BackgroundTask(fn, *args, **kwargs)
    if on_done:
        task.signals.finished.connect(on_done)
    if on_error:
        task.signals.failed.connect(on_error)
    if on_progress:
        task.signals.progress.connect(on_progress)
    _live.add(task)
    (pool or QThreadPool.globalInstance()).start(task)
    return task
