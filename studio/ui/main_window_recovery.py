"""Start-up offer to recover recordings left incomplete by a crash (studio.core.recovery)."""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from studio.ui.widgets.background import run_in_background

log = logging.getLogger(__name__)


def _find():
    try:
        from studio.core import recovery
    except ImportError:  # recovery module not present in this build
        return []
    # Dataset takes are recovered by their dataset when it is reopened (it resumes at that
    # prompt); offering them here too would let "Discard" delete a take the dataset still expects.
    return [r for r in recovery.find_incomplete() if getattr(r, "owner", None) not in DATASET_OWNERS]


def _describe(rec) -> str:
    name = getattr(rec, "name", None) or Path(getattr(rec, "wav_path", rec)).name
    dur = getattr(rec, "duration_s", None)
    return f"{name}" + (f" ({dur:.1f} s)" if isinstance(dur, (int, float)) else "")


# Recordings made in these workspaces come back into the Voices editor; others (a dataset take)
# go back to the folder their sidecar names, and the status bar says where.
VOICES_OWNERS = {"voices", "recordings"}
DATASET_OWNERS = {"dataset"}


def offer_recovery(window) -> None:
    run_in_background(_find, on_done=lambda recs: _ask(window, recs),
                      on_error=lambda exc: window.ctx.status.show(f"Could not check for unsaved recordings: {exc}"))


def _ask(window, recs: list) -> None:
    if not recs:
        return
    box = QMessageBox(window)
    box.setObjectName("recoveryDialog")
    box.setWindowTitle("Recover recordings")
    box.setIcon(QMessageBox.Question)
    box.setText(f"{len(recs)} recording(s) were not finished when Mynah last closed.")
    box.setInformativeText("\n".join(_describe(r) for r in recs[:10]) +
                           "\n\nRecover them? Voice recordings open in the Voices workspace."
                           " (Later keeps them for next time.)")
    recover_btn = box.addButton("Recover", QMessageBox.AcceptRole)
    discard_btn = box.addButton("Discard", QMessageBox.DestructiveRole)
    box.addButton("Later", QMessageBox.RejectRole)
    box.setDefaultButton(recover_btn)
    window.recovery_box = box  # tests and the screenshot tool find it here

    def chosen(button) -> None:
        from studio.core import recovery

        if button is recover_btn:
            paths = []
            for r in recs:
                try:
                    dest = recovery.recover(r)
                    if getattr(r, "owner", "recordings") in VOICES_OWNERS:
                        paths.append(dest)
                    else:
                        window.ctx.status.show(f"Recovered {_describe(r)} to {dest}", 10000)
                except Exception as exc:
                    log.exception("recover %s", r)
                    window.ctx.status.show(f"Could not recover {_describe(r)}: {exc}", 10000)
            if paths:
                window.import_files([Path(p) for p in paths])
        elif button is discard_btn:
            for r in recs:
                try:
                    recovery.discard(r)
                except Exception:
                    log.exception("discard %s", r)

    box.buttonClicked.connect(chosen)
    box.setModal(False)  # never block the app (or a test) on this question
    box.show()
