"""Take QC (and its ASR) in a long-lived child process.

Run in a thread of the app, QC competed with the GUI thread for the GIL: importing scipy for the
loudness meter, pyloudnorm's filters and the Whisper model load held it in stretches of 100-500 ms
(measured while recording: the window froze for up to 570 ms). A separate interpreter has its own
GIL, so nothing it does can freeze the window; it also runs at a lower CPU priority.

The child starts on the first request (or `warm_up`), keeps its modules and ASR model loaded, and
exits when the app closes its stdin, which also happens when the app dies. Requests and replies are
JSON lines on the child's stdin/stdout (the child points its own fd 1 at stderr so a library that
prints cannot corrupt a reply). If the child dies during a take, that take's `measure` raises
`QcWorkerCrashed` and the next request starts a fresh child.

    python -m studio.core.qc_worker     # the child's entry point (started by QcWorker)
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from studio.core.dataset_qc import TakeQC

log = logging.getLogger(__name__)

CHILD_NICE = 10  # the child's CPU priority below the app's: QC waits, the window and recorder do not


class QcWorkerError(RuntimeError):
    """The take could not be checked; the message is for the user (the take itself is kept)."""


class QcWorkerCrashed(QcWorkerError):
    """The QC process died while checking a take."""


class QcWorkerClosed(QcWorkerError):
    """The app closed the QC process while a take was being checked: the take is simply unchecked."""


class QcWorker:
    """Client of one QC child process. Blocking calls: use it from a background thread.
    Thread-safe: one request at a time."""

    def __init__(self, *, nice: int = CHILD_NICE):
        self.nice = nice
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._next_id = 0
        self._closing = False
        self._in_flight = False
        # Which recognizer the child uses (`studio.core.asr_choice.transcriber_args`); {} = its default.
        self.asr_args: dict = {}

    @property
    def waiting_for_reply(self) -> bool:
        """A request has reached the child and its answer is awaited."""
        return self._in_flight

    @property
    def pid(self) -> int | None:
        p = self._proc
        return p.pid if p is not None and p.poll() is None else None

    def start(self) -> None:
        """Start the child now (otherwise the first request does) and wait until it answers."""
        self._request({"op": "ping"})

    def warm_up(self, *, use_asr: bool, watermark: bool = False) -> None:
        """Import the QC modules (and load the ASR model, the watermark net) now, so the first take's
        QC is quick."""
        self._request({"op": "warm", "asr": bool(use_asr), "asr_args": self.asr_args,
                       "watermark": bool(watermark)})

    def measure(self, path: Path, prompt_text: str, *, use_asr: bool, watermark: bool = False) -> TakeQC:
        """QC of one take file (with `watermark`, its AI-watermark score too). Raises QcWorkerError
        (QcWorkerCrashed if the child died)."""
        reply = self._request({"op": "qc", "path": str(path), "text": prompt_text, "asr": bool(use_asr),
                               "asr_args": self.asr_args, "watermark": bool(watermark)})
        return TakeQC.from_dict(reply["qc"])

    def close(self) -> None:
        """Stop the child (it exits on EOF, even mid-take); kill it if it does not within 2 s."""
        self._closing = True
        proc, self._proc = self._proc, None
        if proc is not None:
            _stop(proc)

    # ----- plumbing -------------------------------------------------------------------------------
    def _request(self, msg: dict) -> dict:
        with self._lock:
            self._closing = False
            self._next_id += 1
            msg["id"] = self._next_id
            line = json.dumps(msg) + "\n"
            proc = self._ensure_child()
            if not _send(proc, line):
                # The child had died while idle (nothing of this take reached it): start another.
                log.warning("QC process %s was gone; starting a new one", proc.pid)
                self._discard(proc)
                proc = self._ensure_child()
                if not _send(proc, line):
                    self._discard(proc)
                    raise QcWorkerCrashed(self._death_note(proc))
            self._in_flight = True
            try:
                reply = proc.stdout.readline()  # blocks without the GIL
            except (OSError, ValueError):  # closed under us by close()
                reply = ""
            finally:
                self._in_flight = False
            if not reply:
                self._discard(proc)
                if self._closing:
                    raise QcWorkerClosed("the QC process was closed")
                raise QcWorkerCrashed(self._death_note(proc))
            data = json.loads(reply)
            if data.get("id") != msg["id"]:  # cannot happen with one request at a time; never trust a stray line
                self._discard(proc)
                raise QcWorkerError("the QC process answered out of turn; it was restarted")
            if "error" in data:
                raise QcWorkerError(data["error"])
            return data

    def _ensure_child(self) -> subprocess.Popen:
        if self._proc is not None and self._proc.poll() is not None:
            self._discard(self._proc)
        if self._proc is None:
            try:
                self._proc = _spawn(self.nice)
            except OSError as exc:
                raise QcWorkerError(f"could not start the QC process: {exc}") from exc
        return self._proc

    def _discard(self, proc: subprocess.Popen) -> None:
        if self._proc is proc:
            self._proc = None
        _stop(proc, grace_s=0.2)

    def _death_note(self, proc: subprocess.Popen) -> str:
        rc = proc.returncode
        how = f"killed by {signal.Signals(-rc).name}" if rc is not None and rc < 0 and -rc in signal.valid_signals() \
            else f"exit code {rc}"
        return f"the QC process stopped unexpectedly ({how}); the take is kept, use Re-run QC to try again"


def _spawn(nice: int) -> subprocess.Popen:
    root = str(Path(__file__).resolve().parents[2])  # so `studio` imports even without an install
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env["MYNAH_QC_NICE"] = str(nice)
    proc = subprocess.Popen([sys.executable, "-m", "studio.core.qc_worker"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=None, env=env, text=True, encoding="utf-8",
                            bufsize=1, close_fds=True)
    log.info("QC process started (pid %s)", proc.pid)
    return proc


def _send(proc: subprocess.Popen, line: str) -> bool:
    try:
        proc.stdin.write(line)
        proc.stdin.flush()
        return True
    except (OSError, ValueError):  # BrokenPipeError: the child is gone
        return False


def _stop(proc: subprocess.Popen, grace_s: float = 2.0) -> None:
    for f in (proc.stdin, proc.stdout):
        try:
            f.close()
        except Exception:  # noqa: BLE001 - a broken pipe at close is expected for a dead child
            pass
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


_shared: QcWorker | None = None
_shared_lock = threading.Lock()


def shared_worker() -> QcWorker:
    """The app's one QC process client (created on first use, closed at exit)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = QcWorker()
            atexit.register(_shared.close)
        return _shared


# ----- the child ------------------------------------------------------------------------------------

def _serve(requests: queue.Queue[str | None], replies: IO[str]) -> None:
    from studio.core.dataset_qc import find_transcriber, qc_file

    transcriber, loaded_for = None, None

    def asr(args: dict):
        nonlocal transcriber, loaded_for
        if transcriber is None or args != loaded_for:  # the user picked another recognizer
            transcriber = find_transcriber(**args) or (lambda x, sr: "")
            loaded_for = args
        return transcriber

    while (line := requests.get()) is not None:
        msg = json.loads(line)
        out: dict = {"id": msg.get("id")}
        try:
            op = msg.get("op")
            if op == "warm":
                from engine.audio import analysis, edit, io  # noqa: F401 - the imports are the point
                from engine.eval import wer  # noqa: F401

                if msg.get("watermark"):
                    try:  # torch and the watermark net, so the first take's check is quick
                        from engine.provenance import stamp

                        stamp()
                    except Exception as exc:  # noqa: BLE001 - each take's QC notes it
                        log.warning("watermark net not loaded: %s", exc)

                if msg.get("asr"):
                    import numpy as np

                    asr(msg.get("asr_args") or {})(np.zeros(8000, np.float32), 16000)  # loads the model
            elif op == "qc":
                qc = qc_file(Path(msg["path"]), msg.get("text", ""),
                             transcriber=asr(msg.get("asr_args") or {}) if msg.get("asr") else None,
                             watermark=bool(msg.get("watermark")))
                out["qc"] = qc.to_dict()
            elif op != "ping":
                raise ValueError(f"unknown request {op!r}")
        except Exception as exc:  # noqa: BLE001 - reported to the app, which marks the take "QC failed"
            log.exception("QC request %s failed", msg.get("op"))
            out["error"] = str(exc) or type(exc).__name__
        replies.write(json.dumps(out) + "\n")
        replies.flush()


def _read_requests(into: queue.Queue[str | None]) -> None:
    for line in sys.stdin:
        into.put(line)
    # EOF: the app closed us or died. Leave at once, even in the middle of a take.
    os._exit(0)


def main() -> None:
    import faulthandler

    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into a reply
    sys.stdout = sys.stderr
    faulthandler.enable()  # a crash in native code leaves a traceback in the app's log
    logging.basicConfig(level=logging.WARNING, format="qc-worker: %(levelname)s %(name)s: %(message)s")
    try:
        os.nice(int(os.environ.get("MYNAH_QC_NICE", CHILD_NICE)))
    except (AttributeError, OSError, ValueError):
        pass
    requests: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_read_requests, args=(requests,), daemon=True, name="qc-requests").start()
    try:
        _serve(requests, replies)
    except (BrokenPipeError, KeyboardInterrupt):
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
