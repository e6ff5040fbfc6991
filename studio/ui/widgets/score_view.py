"""Showing `engine.eval` scores: the aligned word diff (QTextBrowser with coloured spans), a metrics
summary, QC issues and "not scorable" reasons in plain words, and the per-chunk strip.

Colours say what happened to a word: dropped (in the text, not in the take) struck through red,
inserted green, substituted amber (the text's word struck, what was heard after it), repeated words
(the token-LM stutter) flagged with a ⟳ mark."""
from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTextBrowser, QVBoxLayout, QWidget

RED, GREEN, AMBER = "#e5484d", "#46a758", "#f5a524"


def diff_html(wer) -> str:
    """`WerResult.ops` as HTML: one span per op, styled by kind."""
    parts = []
    for op in wer.ops:
        ref, hyp = html.escape(" ".join(op.ref)), html.escape(" ".join(op.hyp))
        if op.kind == "equal":
            parts.append(ref)
        elif op.kind == "delete":
            parts.append(f'<span class="delete" style="color:{RED}; text-decoration: line-through"'
                         f' title="dropped">{ref}</span>')
        elif op.kind == "insert":
            mark = " ⟳" if op.repeated else ""
            tip = "repeated" if op.repeated else "inserted"
            parts.append(f'<span class="insert" style="color:{GREEN}; font-weight:bold" title="{tip}">'
                         f'+{hyp}{mark}</span>')
        else:
            parts.append(f'<span class="substitute" style="color:{AMBER}"><s>{ref}</s> → {hyp}</span>')
    legend = (f'<br><small><span style="color:{RED}"><s>dropped</s></span> · '
              f'<span style="color:{GREEN}">+inserted</span> · <span style="color:{AMBER}">substituted</span>'
              ' · ⟳ repeated</small>')
    return " ".join(parts) + legend


def _f(x, fmt="{:.2f}") -> str:
    return "—" if x is None else fmt.format(x)


def summary_html(s) -> str:
    """One block of the headline numbers; missing ones say why."""
    ns = s.not_scorable
    rows = []
    if s.wer is not None:
        w = s.wer
        rows.append(f"<b>WER</b> {w.wer:.1%} · <b>CER</b> {w.cer:.1%} "
                    f"({w.substitutions} substituted, {w.deletions} dropped, {w.insertions} inserted"
                    f" of {w.n_ref_words} words)")
    elif "wer" in ns:
        rows.append(f"<b>WER</b> not scorable: {html.escape(ns['wer'])}")
    if s.similarity is not None:
        rows.append(f"<b>Similarity</b> to the voice {s.similarity:.3f}"
                    + ("" if s.similarity >= 0.75 else f' <span style="color:{AMBER}">(sounds like another speaker)</span>'))
    elif "similarity" in ns:
        rows.append(f"<b>Similarity</b> not scorable: {html.escape(ns['similarity'])}")
    if s.dnsmos is not None:
        d = s.dnsmos
        rows.append(f"<b>DNSMOS</b> ovr {d.ovr:.2f} · sig {d.sig:.2f} · bak {d.bak:.2f} · p808 {d.p808:.2f}")
    elif "dnsmos" in ns:
        rows.append(f"<b>DNSMOS</b> not scorable: {html.escape(ns['dnsmos'])}")
    if "asr" in ns:
        rows.append(f"<b>ASR</b>: {html.escape(ns['asr'])}")
    if s.transcript is not None and s.transcript.low_accuracy:
        rows.append(f'<span style="color:{AMBER}">ASR: {html.escape(s.transcript.model)} (low accuracy)</span>')
    q = s.qc
    qc = "; ".join(html.escape(i) for i in q.issues)
    rows.append(f"<b>QC</b> peak {_f(q.peak_dbfs, '{:.1f}')} dBFS · {_f(q.lufs, '{:.1f}')} LUFS · "
                f"silence {q.silence_ratio:.0%}"
                + (f' · <span style="color:{AMBER}">{qc}</span>' if qc else " · no issues"))
    return "<br>".join(rows)


class ScoresPanel(QWidget):
    """Summary + aligned diff of one take's scores."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel("Not scored yet.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.diff = QTextBrowser()
        self.diff.setMinimumHeight(70)
        self.diff.setMaximumHeight(130)
        self.diff.setPlaceholderText("The word diff appears here once the take is scored.")
        lay.addWidget(self.summary)
        lay.addWidget(self.diff)
        self.scores = None

    def set_message(self, text: str) -> None:
        self.scores = None
        self.summary.setText(text)
        self.diff.clear()

    def set_scores(self, scores) -> None:
        """One compact headline line; the diff and every detail go in the (scrollable) browser, so a
        crowded take view never clips them."""
        self.scores = scores
        self.summary.setText(headline(scores))
        parts = []
        if scores.wer is not None:
            heard = html.escape(scores.hypothesis or "")
            parts.append(diff_html(scores.wer) + (f"<br><small>heard: “{heard}”</small>" if heard else ""))
        parts.append(summary_html(scores))
        self.diff.setHtml("<br>".join(parts))


def headline(s) -> str:
    bits = []
    if s.wer is not None:
        bits.append(f"<b>WER</b> {s.wer.wer:.1%} ({s.wer.deletions} dropped)")
    if s.similarity is not None:
        bits.append(f"<b>sim</b> {s.similarity:.3f}")
    if s.dnsmos is not None:
        bits.append(f"<b>DNSMOS</b> {s.dnsmos.ovr:.2f}")
    n = len(s.qc.issues)
    bits.append(f'<span style="color:{AMBER}">{n} QC issue{"s" if n != 1 else ""}</span>' if n else "QC ok")
    if s.not_scorable:
        bits.append(f'<span style="color:{AMBER}">not scorable: {html.escape(", ".join(s.not_scorable))}</span>')
    return " · ".join(bits)


def cell_colour(value: float | None, good: float, bad: float) -> str:
    """Green when `value` is at `good`, red at `bad`, grey when unknown (linear in between)."""
    if value is None or not np.isfinite(value):
        return "#555555"
    t = float(np.clip((value - bad) / (good - bad), 0.0, 1.0))
    r, g = int(229 * (1 - t) + 70 * t), int(72 * (1 - t) + 167 * t)
    return f"#{r:02x}{g:02x}58"
