"""The one place engine events become Qt signals.

`EngineBridge` owns an `engine.worker.EngineWorker`. The worker calls its listener on the engine
thread; the listener only emits a private signal, which Qt queues to the GUI thread (the bridge
lives there), where the event is re-emitted on the signal for its kind. So every public signal is
delivered on the GUI thread and slots may touch widgets.

Signals carry the engine.jobs dataclass itself (filter by `event.job_id`):
progress(Progress), audioChunk(AudioChunk), codeFrame(CodeFrame), latentFrame(LatentFrame), done(Done), failed(Failed),
cancelled(Cancelled), stateChanged(EngineState) (idle/loading/busy/stopped + loaded models).
"""
from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QObject, Qt, Signal

from engine.jobs import (AudioChunk, Cancelled, CodeFrame, Done, EngineState, Event, Failed, LatentFrame, Progress,
                         Request)
from engine.worker import EngineWorker
from engine.worker_jobs import BackendFactory

log = logging.getLogger("mynah.ui.engine")


class EngineBridge(QObject):
    progress = Signal(object)
    audioChunk = Signal(object)
    codeFrame = Signal(object)
    latentFrame = Signal(object)
    done = Signal(object)
    failed = Signal(object)
    cancelled = Signal(object)
    stateChanged = Signal(object)
    _relay = Signal(object)  # emitted on the engine thread; queued to ours

    def __init__(self, parent: QObject | None = None, *, worker: EngineWorker | None = None,
                 backend_factory: BackendFactory | None = None):
        super().__init__(parent)
        self._worker = worker or EngineWorker(backend_factory)
        self._state = EngineState(job_id="", state="idle")
        self._relay.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)
        self._worker.add_listener(self._on_engine_event)
        self._worker.start()

    # ---- calls from the GUI ------------------------------------------------------------------

    def submit(self, request: Request) -> str:
        """Queue a request (engine.jobs); returns its job_id. Never blocks."""
        return self._worker.submit(request)

    def cancel(self, job_id: str) -> bool:
        return self._worker.cancel(job_id)

    @property
    def state(self) -> EngineState:
        """The last state delivered to the GUI thread."""
        return self._state

    @property
    def worker(self) -> EngineWorker:
        return self._worker

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop the engine (cancels jobs, unloads models). Call when the app quits."""
        self._worker.remove_listener(self._on_engine_event)
        self._worker.shutdown(timeout)

    # ---- engine thread -> GUI thread ---------------------------------------------------------

    def _on_engine_event(self, event: Event) -> None:
        # Runs on the engine thread: nothing but a queued emit (Qt copies the reference across).
        self._relay.emit(event)

    def _dispatch(self, event: Event) -> None:
        signal = self._signal_for(event)
        if signal is None:
            log.warning("engine event with no signal: %r", type(event).__name__)
            return
        if isinstance(event, EngineState):
            self._state = event
        signal.emit(event)

    def _signal_for(self, event: Event):
        for kind, signal in ((AudioChunk, self.audioChunk), (CodeFrame, self.codeFrame),
                             (LatentFrame, self.latentFrame),
                             (Progress, self.progress), (Done, self.done), (Failed, self.failed),
                             (Cancelled, self.cancelled), (EngineState, self.stateChanged)):
            if isinstance(event, kind):
                return signal
        return None


def describe_state(state: EngineState) -> str:
    """A status-bar line: "Idle · csm-1b", "Loading: Loading sesame/csm-1b", "Busy: Generating speech"."""
    models = ", ".join(m.rsplit("/", 1)[-1] for m in state.models) or "no model loaded"
    if state.state == "idle":
        return f"Idle · {models}"
    if state.state == "stopped":
        return "Engine stopped"
    label = "Loading" if state.state == "loading" else "Busy"
    return f"{label}: {state.detail} · {models}" if state.detail else f"{label} · {models}"


__all__ = ["EngineBridge", "describe_state"]
