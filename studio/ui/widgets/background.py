"""Run a function on QThreadPool and get its result back on the GUI thread as a signal.

Modelled on superqt's worker: the function runs off the GUI thread, every exception is caught,
logged with its traceback and delivered as `failed(exc)`; a cancelled task never delivers a result.
The function may accept a `report` keyword to send progress/partial results (`progress(obj)`).
"""
from __future__ import annotations

import inspect
import os
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

    _disposable = False

    def cancel(self) -> None:
        """Never deliver a result; a task still queued is not started at all."""
        self.cancelled.set()
        for pool in (QThreadPool.globalInstance(), _analysis_pool):
            try:
                if pool is not None and pool.tryTake(self):
                    _live.discard(self)
            except RuntimeError:  # pool already gone at interpreter exit
                pass

    lower_priority = True

    def run(self) -> None:  # worker thread
        _set_thread_priority(lower=self.lower_priority)
        try:
            kwargs = dict(self.kwargs)
            if self._wants_report:
                kwargs["report"] = self._report
            result = self.fn(*self.args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - every failure becomes an event
            if self.cancelled.is_set():
                _emit(self.signals.released)
                return
            log.exception("background task %s failed", getattr(self.fn, "__name__", self.fn))
            _emit(self.signals.failed, exc)
            return
        if self.cancelled.is_set():  # a cancelled task never delivers its result
            _emit(self.signals.released)
            return
        _emit(self.signals.finished, result)

    def _report(self, obj: Any) -> None:
        if self.cancelled.is_set():
            raise _Cancelled()
        _emit(self.signals.progress, obj)

    def _release(self, *_):
        _live.discard(self)


_analysis_pool: QThreadPool | None = None


def analysis_pool() -> QThreadPool:
    """One thread for derived views (mel, readouts) that may take seconds on long files, so they
    never queue ahead of what the user asked for (import, edit, save) on the global pool."""
    global _analysis_pool
    if _analysis_pool is None:
        _analysis_pool = QThreadPool()
        _analysis_pool.setMaxThreadCount(1)
    return _analysis_pool


def shutdown_pools(timeout_ms: int = 60000) -> bool:
    """At exit: drop queued work, cancel what runs, wait for user work (saves) to finish.
    Returns False if analysis was still running (its result is disposable)."""
    for t in list(_live):
        if t._disposable:
            t.cancel()
    if _analysis_pool is not None:
        _analysis_pool.clear()
    QThreadPool.globalInstance().waitForDone(timeout_ms)
    return _analysis_pool is None or _analysis_pool.waitForDone(200)


_niced = threading.local()


def _set_thread_priority(lower: bool) -> None:
    """Workers run at a lower CPU priority than the GUI thread (Linux: per-thread nice), so a busy
    machine stalls background chores, not the window. Not for work the user is waiting on that
    holds the GIL in stretches (a long import, a spectrogram): a niced thread preempted while it
    holds the GIL makes the GUI thread wait for it (priority inversion; measured: 150 ms stalls
    on the loaded 2-core machine). Raising the priority back may be refused (no CAP_SYS_NICE):
    then the task simply runs niced. Silently skipped where unsupported."""
    want = 5 if lower else 0
    if getattr(_niced, "delta", 0) == want:
        return
    try:
        tid = threading.get_native_id()
        if not hasattr(_niced, "base"):
            _niced.base = os.getpriority(os.PRIO_PROCESS, 0)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, _niced.base + want))
        _niced.delta = want
    except (AttributeError, OSError):
        _niced.delta = want if lower else getattr(_niced, "delta", 0)


def _emit(signal, *args) -> None:
    try:
        signal.emit(*args)
    except RuntimeError:  # the app is shutting down and the receiver is gone: nothing to deliver
        pass


class _Cancelled(Exception):
    pass


def run_in_background(fn: Callable[..., Any], *args, on_done: Callable[[Any], None] | None = None,
                      on_error: Callable[[BaseException], None] | None = None,
                      on_progress: Callable[[Any], None] | None = None,
                      pool: QThreadPool | None = None, owner: QObject | None = None,
                      lower_priority: bool = True, **kwargs) -> BackgroundTask:
    """Start `fn(*args, **kwargs)` on the pool. With `owner`, nothing is delivered once the owner
    is destroyed (a result landing on a closed window's deleted widgets would crash).
    `lower_priority=False` for work the user waits on that holds the GIL (see _set_thread_priority)."""
    if owner is None:  # a bound slot of a widget: that widget is the owner
        owner = next((getattr(cb, "__self__", None) for cb in (on_done, on_error)
                      if isinstance(getattr(cb, "__self__", None), QObject)), None)
    task = BackgroundTask(fn, *args, **kwargs)
    task._disposable = pool is not None and pool is _analysis_pool
    task.lower_priority = lower_priority

    def guarded(cb):
        return lambda *a: None if task.cancelled.is_set() else cb(*a)

    if on_done:
        task.signals.finished.connect(guarded(on_done))
    if on_error:
        task.signals.failed.connect(guarded(on_error))
    if on_progress:
        task.signals.progress.connect(guarded(on_progress))
    if owner is not None:
        owner.destroyed.connect(task.cancel)
    _live.add(task)
    (pool or QThreadPool.globalInstance()).start(task)
    return task
