"""`python -m studio.ui.screenshots OUTDIR`: a PNG of every registered workspace at 1400x900.

Runs against a throwaway data directory (never the user's library) with realistic content: a
speech clip from the test data imported into Voices and a few saved voices in the library.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

SIZE = (1400, 900)
SPEECH_DIR = Path(os.environ.get("MYNAH_SHARED", Path(__file__).resolve().parents[3] / "shared")) / "testdata" / "speech"


def _wait(app, cond, timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        app.processEvents()
        if cond():
            return True
        time.sleep(0.02)
    return False


def _speech_rows() -> list[dict]:
    import csv

    tsv = SPEECH_DIR / "transcripts.tsv"
    if not tsv.exists():
        return []
    with open(tsv, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _populate_voices(app, window) -> None:
    """Save a few voices, then leave one clip open with a selection, as a user would."""
    w = window.show_workspace("Voices")
    if w is None:
        return
    c = w.controller
    rows = _speech_rows()
    names = ["Narrator — warm", "Interview host", "Audiobook, calm"]
    for name, row in zip(names, rows[:3]):
        c.import_files([SPEECH_DIR / row["file"]])
        _wait(app, lambda: c.state is not None and c.state.name == Path(row["file"]).name, 30)
        c.ctx.voices.create(name, transcript=row.get("transcript", ""), consent=True,
                            samples=c.state.samples, sample_rate=c.state.sample_rate, original=c.state.original)
    c.refresh_library()
    if rows:
        row = rows[min(3, len(rows) - 1)]
        c.import_files([SPEECH_DIR / row["file"]])
        _wait(app, lambda: c.state is not None and c.state.name == Path(row["file"]).name, 30)
        _wait(app, lambda: w.view.mel.has_image() and c.report is not None, 60)
        d = c.state.duration_s
        w.view.waveform.set_selection(d * 0.12, d * 0.55)
        w.view.name_edit.setText("Studio read, close mic")
        w.view.transcript_edit.setPlainText(row.get("transcript", ""))
        w.view.notes_edit.setText("SM7B, treated room")
        w.view.voice_list.setCurrentRow(0)
        w.view.meter.set_level(-23.0, -9.5, False)
    w.view.setFocus()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", type=Path)
    args = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = tempfile.mkdtemp(prefix="mynah-shots-")
    os.environ["MYNAH_HOME"] = home  # never the user's real library

    from PySide6.QtWidgets import QApplication

    from studio.ui.app import create_window
    from studio.ui.theme import apply_dark_theme

    app = QApplication.instance() or QApplication(["mynah-screenshots"])
    apply_dark_theme(app)
    window = create_window()
    ctx = window.ctx
    window.resize(*SIZE)
    window.show()
    _populate_voices(app, window)
    args.outdir.mkdir(parents=True, exist_ok=True)
    for title, _m, _c in window.entries:
        window.show_workspace(title)
        _wait(app, lambda: False, 1.5)  # let lazy content (lists, plots) settle
        out = args.outdir / f"{title.lower().replace(' ', '-')}.png"
        window.grab().save(str(out))
        print(f"saved {out} ({out.stat().st_size // 1024} KB)")
    window.close()
    ctx.library.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
