""""Check for watermark" anywhere a clip is shown: the one helper Voices, Synthesize, Compare and
Dataset use to look for the inaudible AI watermark (engine.provenance) off the GUI thread.

`check_clip` / `check_file` run on a pool thread (run_in_background); `WatermarkCheck` keeps one
place's checks: a result per key (a take id, a lane), the pending tasks, and a `checked` signal on
the GUI thread. `describe`/`verdict` turn a Detection into the words the user reads.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from engine.provenance.watermark import MESSAGE as FLAG
from studio.ui.widgets.background import run_in_background

log = logging.getLogger(__name__)

NOT_FOUND = "No AI watermark found"
CHECKING = "Checking for an AI watermark in the background…"


def check_clip(samples, sample_rate, original=None, limit_s: float | None = None):
    """Worker thread: (Detection, Credentials | None) of a clip (its first `limit_s`) and its file."""
    from engine import provenance

    if limit_s is not None:
        samples = samples[: int(limit_s * sample_rate)]
    detection = provenance.detect_spans(samples, sample_rate)
    creds = None
    if original is not None:
        from engine.provenance.credentials import read_credentials

        try:
            creds = read_credentials(original)
        except Exception as exc:  # an unreadable manifest must not hide the watermark verdict
            log.warning("could not read content credentials of %s: %s", original, exc)
    return detection, creds


def check_file(path, limit_s: float | None = None):
    """Worker thread: (Detection, None) of an audio file (a take, a dataset take)."""
    from engine.audio.io import read_audio

    a = read_audio(path, mono=True)
    return check_clip(a.samples, a.sample_rate, None, limit_s)


def verdict(detection, *, coarse: bool = False) -> str:
    """The one line a user reads: the flag with its score, or "No AI watermark found". `coarse`
    rounds the score to one decimal (blind comparisons: two decimals would fingerprint a lane)."""
    score = f"{detection.score:.1f}" if coarse else f"{detection.score:.2f}"
    if detection.marked:
        out = f"⚠ {FLAG} (score {score})"
        spans = [f"{a:.0f}–{b:.0f} s" for a, b, s in detection.spans if s >= 0.5]
        if spans and detection.score < 0.5:
            out += " Marked passages: " + ", ".join(spans)
        return out
    return f"{NOT_FOUND} (score {score})."


def describe(detection, creds=None) -> tuple[str, str, bool]:
    """(verdict line, content-credentials line or "", flagged?)."""
    cred = ""
    if creds is not None:
        d = creds.details
        consent = {True: "yes", False: "no"}.get(d.get("voice_consent"), "not stated")
        cred = creds.summary() + (f" · model {d.get('model', '?')} · voice consent {consent} · made "
                                  f"{str(d.get('created', '?'))[:16]}" if d else "")
    return verdict(detection), cred, detection.marked


class WatermarkCheck(QObject):
    """One place's watermark checks, each under a key the place chooses (a take id, a lane object).

    A new check of a key cancels that key's pending one; results stay in `results` so a reselected
    take shows its verdict at once. Never runs anything on the GUI thread."""

    checked = Signal(object, object)  # key, Detection
    failed = Signal(object, str)  # key, message

    def __init__(self, parent=None):
        super().__init__(parent)
        self.results: dict = {}
        self._tasks: dict = {}

    def check_audio(self, key, samples, sample_rate, limit_s: float | None = None) -> None:
        self._start(key, check_clip, samples, sample_rate, None, limit_s)

    def check_file(self, key, path, limit_s: float | None = None) -> None:
        self._start(key, check_file, path, limit_s)

    def running(self, key) -> bool:
        return key in self._tasks

    def _start(self, key, fn, *args) -> None:
        old = self._tasks.pop(key, None)
        if old is not None:
            old.cancel()
        self.results.pop(key, None)
        self._tasks[key] = run_in_background(fn, *args, owner=self,
                                             on_done=lambda r, k=key: self._done(k, r),
                                             on_error=lambda e, k=key: self._failed(k, e))

    def _done(self, key, result) -> None:
        self._tasks.pop(key, None)
        self.results[key] = result[0]
        self.checked.emit(key, result[0])

    def _failed(self, key, exc: BaseException) -> None:
        self._tasks.pop(key, None)
        self.failed.emit(key, f"Could not check for a watermark: {exc}")

    def forget(self) -> None:
        """Drop every result and pending check (a blind test starts: nothing carries over)."""
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()
        self.results.clear()

    def shutdown(self) -> None:
        self.forget()
