"""The engine thread: one long-lived thread that owns the loaded models and runs jobs in order.

Pure Python, no Qt (studio/ui/engine_bridge.py turns its events into signals). Modelled on
superqt's generator worker:
- a job ends with exactly one of Done, Failed or Cancelled; a failure is never reported as done;
- cancel is cooperative: a flag checked between synthesis frames; after a cancel no result leaves;
- every exception in a job is logged with its traceback and becomes a Failed event; the thread lives
  on and loaded models stay loaded.

torch is never imported here: backends (which import it) are imported by the factory, on this
thread, when a LoadModel job runs.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
import traceback
from typing import Callable

from engine.sci import preload
from engine.jobs import (Cancel, Cancelled, DecodeCodes, Done, EncodeReference, EngineState, Evaluate,
                         Event, Failed, LoadModel, PartialTake, Request, SynthResult, Synthesize,
                         TERMINAL_EVENTS, Unload)
from engine.worker_jobs import (BackendFactory, JobCancelled, JobContext, JobError, ModelSlot,
                                resolve_backend, run_decode, run_encode, run_evaluate, run_load,
                                run_unload)
from engine.worker_synth import run_synthesize

log = logging.getLogger("mynah.engine")

Listener = Callable[[Event], None]
_STOP = object()  # queue sentinel


class EngineWorker:
    """`start()`, `submit(request) -> job_id`, `cancel(job_id)`, `add_listener(cb)`, `shutdown()`.

    Listeners are called on the engine thread, in order, with every event; they must be quick
    (queue the event elsewhere) and an exception in one is logged and ignored.
    """

    def __init__(self, backend_factory: BackendFactory | None = None, *, name: str = "mynah-engine",
                 scorer_factory=None):
        self._factory: BackendFactory = backend_factory or resolve_backend
        # config (ScorerConfig or None) -> scorer; tests inject fakes, default is engine.eval's Scorer.
        self._scorer_factory = scorer_factory
        self._scorers: dict[object, object] = {}  # config -> scorer, so each setting loads models once
        self._queue: queue.Queue = queue.Queue()
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._pending: set[str] = set()  # submitted, not finished
        self._cancelled: set[str] = set()  # subset of _pending
        self._submitted_at: dict[str, float] = {}
        self._current: str | None = None
        self._models: dict[str, ModelSlot] = {}  # engine thread writes; readers take snapshots
        self._voices: dict[tuple[str, str], object] = {}  # (model_id, voice key) -> VoicePrompt
        self._model_snapshot: tuple[str, ...] = ()  # what other threads read (the dict may be mid-update)
        self._scorer = None  # engine.eval.scorer.Scorer, created on the first Evaluate
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._stopping = False

    # ---- public API (any thread) ------------------------------------------------------------

    def start(self) -> "EngineWorker":
        if not self._thread.is_alive():
            self._thread.start()
        return self

    @property
    def is_alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def loaded_models(self) -> tuple[str, ...]:
        return self._model_snapshot

    @property
    def current_job(self) -> str | None:
        return self._current

    def add_listener(self, callback: Listener) -> None:
        with self._lock:
            self._listeners.append(callback)

    def remove_listener(self, callback: Listener) -> None:
        with self._lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    def submit(self, request: Request) -> str:
        """Queue a request; returns its job_id. A Cancel request acts at once (it is not queued)."""
        if isinstance(request, Cancel):
            self.cancel(request.target)
            return request.job_id
        if self._stopping:
            raise RuntimeError("the engine is shutting down")
        with self._lock:
            self._pending.add(request.job_id)
            self._submitted_at[request.job_id] = time.perf_counter()
        self._queue.put(request)
        return request.job_id

    def cancel(self, job_id: str) -> bool:
        """Ask a queued or running job to stop; True if it was still pending. It then ends with a
        Cancelled event (a job already finished is not affected)."""
        with self._lock:
            if job_id in self._pending:
                self._cancelled.add(job_id)
                return True
        return False

    def cancel_all(self) -> None:
        with self._lock:
            self._cancelled.update(self._pending)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel everything, unload models, stop the thread (waits up to `timeout` seconds)."""
        self._stopping = True
        self.cancel_all()
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("engine thread did not stop within %.1f s (a job ignores cancel)", timeout)

    def run_sync(self, request: Request, *, timeout: float | None = None,
                 on_event: Listener | None = None) -> Event:
        """Submit and block until the job's terminal event (Done/Failed/Cancelled); for the CLI,
        scripts and tests. `on_event` sees each of this job's events on the engine thread."""
        finished = threading.Event()
        box: list[Event] = []

        def listen(ev: Event) -> None:
            if ev.job_id != request.job_id:
                return
            if on_event is not None:
                on_event(ev)
            if isinstance(ev, TERMINAL_EVENTS):
                box.append(ev)
                finished.set()

        self.add_listener(listen)
        try:
            self.submit(request)
            if not finished.wait(timeout):
                self.cancel(request.job_id)
                raise TimeoutError(f"{type(request).__name__} did not finish within {timeout} s")
            return box[0]
        finally:
            self.remove_listener(listen)

    # ---- engine thread ----------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for cb in listeners:
            try:
                cb(event)
            except Exception:  # a broken listener must not kill the engine
                log.exception("engine listener %r failed on %s", cb, type(event).__name__)

    def _is_cancelled(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._cancelled

    def _emit_state(self, state: str, job_id: str = "", detail: str = "") -> None:
        slots = list(self._models.values())
        self._emit(EngineState(job_id=job_id, state=state, models=tuple(s.model_id for s in slots),
                               infos=tuple(s.info for s in slots), detail=detail))

    def _loop(self) -> None:
        self._emit_state("idle")
        while True:
            item = self._queue.get()
            if item is _STOP:
                break
            self._run_job(item)
            if self._queue.empty():
                self._emit_state("idle")
        self._unload_all()
        self._emit_state("stopped")

    def _run_job(self, req: Request) -> None:
        job_id = req.job_id
        try:
            preload()  # engine/sci.py: the GUI's workers may be importing scipy right now
            if self._is_cancelled(job_id):
                self._emit(Cancelled(job_id=job_id))
                return
            self._current = job_id
            loading = isinstance(req, (LoadModel, EncodeReference))
            self._emit_state("loading" if loading else "busy", job_id, _describe(req))
            ctx = JobContext(job_id=job_id, emit=self._emit, is_cancelled=lambda: self._is_cancelled(job_id),
                             submitted_at=self._submitted_at.get(job_id, time.perf_counter()),
                             models=self._models, voices=self._voices, factory=self._factory)
            result = self._dispatch(req, ctx)
            if self._is_cancelled(job_id):  # cancel that arrived after the last frame still wins
                late = JobCancelled()
                if isinstance(result, SynthResult):
                    late.partial = PartialTake(audio=result.audio, sample_rate=result.sample_rate,
                                               watermark=result.watermark)
                raise late
            self._emit(Done(job_id=job_id, result=result))
        except JobCancelled as exc:
            self._emit(Cancelled(job_id=job_id, partial=getattr(exc, "partial", None)))
        except Exception as exc:
            tb = traceback.format_exc()
            log.error("engine job %s (%s) failed:\n%s", job_id, type(req).__name__, tb)
            self._emit(Failed(job_id=job_id, message=_user_message(exc), error_type=type(exc).__name__,
                              traceback=tb, partial=getattr(exc, "partial", None)))
        finally:
            self._current = None
            self._model_snapshot = tuple(self._models)
            with self._lock:
                self._pending.discard(job_id)
                self._cancelled.discard(job_id)
                self._submitted_at.pop(job_id, None)

    def _dispatch(self, req: Request, ctx: JobContext):
        if isinstance(req, LoadModel):
            return run_load(req, ctx)
        if isinstance(req, EncodeReference):
            return run_encode(req, ctx)
        if isinstance(req, Synthesize):
            return run_synthesize(req, ctx)
        if isinstance(req, DecodeCodes):
            return run_decode(req, ctx)
        if isinstance(req, Evaluate):
            return run_evaluate(req, ctx, self._scorer_for(req.config))
        if isinstance(req, Unload):
            return run_unload(req, ctx)
        raise JobError(f"The engine does not know the request {type(req).__name__}")

    def _scorer_for(self, config):
        if config is None and self._scorer is not None:
            return self._scorer
        if config not in self._scorers:
            if self._scorer_factory is not None:
                scorer = self._scorer_factory(config)
            else:
                from engine.eval.scorer import Scorer  # lazy: loads ASR/speaker models on first use

                scorer = Scorer() if config is None else Scorer(config)
            if len(self._scorers) >= 2:  # a changed setting: drop the old models (RAM)
                self._scorers.clear()
                self._scorer = None
            self._scorers[config] = scorer
        if config is None:
            self._scorer = self._scorers[config]
        return self._scorers[config]

    def _unload_all(self) -> None:
        for slot in list(self._models.values()):
            try:
                slot.backend.unload()
            except Exception:
                log.exception("unloading %s failed", slot.model_id)
        self._models.clear()
        self._voices.clear()
        self._model_snapshot = ()


def _describe(req: Request) -> str:
    if isinstance(req, LoadModel):
        return f"Loading {req.key}"
    if isinstance(req, EncodeReference):
        return "Encoding the reference voice"
    if isinstance(req, Synthesize):
        return "Generating speech"
    if isinstance(req, DecodeCodes):
        return f"Decoding codebooks 1..{req.n_codebooks}"
    if isinstance(req, Evaluate):
        return "Scoring the take"
    return type(req).__name__


def _user_message(exc: BaseException) -> str:
    """Errors we raise on purpose already read well; anything else gets its type for context."""
    if isinstance(exc, (JobError, ValueError, FileNotFoundError)) and str(exc):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


__all__ = ["EngineWorker", "JobError"]
