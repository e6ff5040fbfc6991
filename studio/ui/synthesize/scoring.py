"""Scores on takes in the Synthesize workspace: the Score button, automatic scoring after
generation, the cached scores shown in the take view (summary, word diff, per-chunk strip) and
best-of-N (score the batch's candidates, keep the best, list the runners-up, let the user promote one).

Every score is computed by the engine worker (`EvalClient` -> `Evaluate`), never on the GUI thread,
and cached in the library (`ScoreStore`), so reopening the workspace shows scores at once.
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from studio.core.asr_choice import take_language
from studio.core.scores import ScoreStore
from studio.core.takes import Take, TakeError
from studio.ui.eval_client import EvalClient, ScoreRequest
from studio.ui.synthesize.best_of_n_store import BestOfNStore
from studio.ui.synthesize.chunk_strip import ChunkCell

log = logging.getLogger(__name__)


def _file_key(path: Path) -> str:
    """Cheap identity of an audio file (takes are immutable: an edit makes a new take)."""
    st = Path(path).stat()
    return f"{st.st_size}-{st.st_mtime_ns}"


class TakeScoring(QObject):
    takeScored = Signal(str)  # take id, once its whole-take scores are stored
    groupRanked = Signal(str)  # best-of-N group id, once its candidates are ranked

    def __init__(self, ctx, view, takes, synth, history, parent=None):
        super().__init__(parent)
        self.ctx, self.view, self.takes, self.synth, self.history = ctx, view, takes, synth, history
        self.client = EvalClient(ctx, self)
        self.store = ScoreStore(ctx.library)
        self.groups = BestOfNStore(ctx.library)
        from engine.eval.best_of_n import RankWeights

        self.weights = RankWeights()
        self._pending: dict[str, set[str]] = {}  # take id -> score keys not back yet
        self._keys: dict[str, tuple[str, str, str]] = {}  # take id -> (config, audio, reference) keys
        self._batch: list[str] = []  # take ids stored in the running batch
        self._batch_n = 1
        self._waiting_groups: dict[str, list[str]] = {}  # group id -> take ids awaiting scores
        self._no_wer: dict[str, str] = {}  # take id -> why it gets no WER (no Whisper knows its language)
        v = view
        v.auto_score.setChecked(bool(getattr(ctx.settings, "auto_score_takes", False)))
        v.auto_score.toggled.connect(self._auto_toggled)
        v.score_button.clicked.connect(self.score_current)
        v.promote_button.clicked.connect(self.promote_current)
        v.rank_weights_button.clicked.connect(self.edit_weights)
        history.decorate = self.decorate
        history.on_current = self.show_current
        synth.takeStored.connect(self._stored)
        synth.batchFinished.connect(self._batch_finished)
        self.client.scored.connect(self._scored)
        self.client.failed.connect(self._failed)
        self.show_current()

    # ---- keys and cache -------------------------------------------------------------------
    def _reference(self, take: Take):
        """(audio, sr, key) of the take's voice reference clip, or None without a voice."""
        vid = take.recipe.voice_id
        if vid is None:
            return None
        try:
            voice = self.ctx.voices.get(vid)
        except KeyError:
            return None
        if not voice.clips or not Path(voice.clips[0].working_path).exists():
            return None
        clip = voice.clips[0]
        return clip, f"voice{vid}-clip{clip.id}-{_file_key(clip.working_path)}"

    def keys(self, take: Take) -> tuple[str, str, str]:
        ref = self._reference(take)
        cfg, why = self.client.config_for(take_language(take.recipe))
        # No recognizer knows the take's language: the cache key says so (installing one rescores).
        return cfg.key() + ("-nower" if why else ""), _file_key(take.audio_path), ref[1] if ref else ""

    def cached(self, take: Take, chunk: int | None = None):
        try:
            cfg, audio, ref = self.keys(take)
        except OSError:
            return None
        sid = take.id if chunk is None else f"{take.id}#{chunk}"
        return self.store.get("take", sid, config_key=cfg, audio_key=audio, reference_key=ref)

    # ---- scoring --------------------------------------------------------------------------
    def score_current(self) -> None:
        take = self.history.current
        if take is not None:
            self.score(take, force=True)

    def score(self, take: Take, *, force: bool = False) -> bool:
        """Submit the take (and its chunks) for scoring; False when the cache already has it."""
        if take.id in self._pending:
            return True
        if not force and self.cached(take) is not None:
            return False
        try:
            audio, sr = self.takes.load_audio(take)
        except TakeError as e:
            self._panel_message(take, f"Cannot score: {e}")
            return False
        ref = self._reference(take)
        ref_audio = ref_sr = None
        if ref is not None:
            ref_audio, ref_sr = self.ctx.voices.load_clip(ref[0])
        self._keys[take.id] = self.keys(take)
        keys = {take.id}
        # WER in the take's language, with a Whisper that knows it; none installed: say so, never a WER
        # of the wrong language (the other scores still come).
        language = take_language(take.recipe)
        why = self.client.config_for(language)[1]
        if why:
            self._no_wer[take.id] = why
        whole = ("similarity", "dnsmos") if why else None
        self.client.submit(ScoreRequest(take.id, audio, sr, text=take.recipe.text, reference=ref_audio,
                                        reference_sr=ref_sr, metrics=whole, language=language))
        chunks, spans = take.recipe.chunks, take.chunk_spans
        if len(spans) > 1:  # long-form: one score per chunk for the strip (WER + similarity only)
            for i, (a, b) in enumerate(spans[:len(chunks)]):
                key = f"{take.id}#{i}"
                keys.add(key)
                self.client.submit(ScoreRequest(key, audio[a:b], sr, text=chunks[i], reference=ref_audio,
                                                reference_sr=ref_sr, language=language,
                                                metrics=("similarity",) if why else ("wer", "similarity")))
        self._pending[take.id] = keys
        self._panel_message(take, "Scoring in the background…")
        return True

    def _scored(self, key: str, scores) -> None:
        take_id = key.split("#", 1)[0]
        why = self._no_wer.get(take_id)
        if why:
            scores.not_scorable["wer"] = why
        cfg, audio, ref = self._keys.get(take_id, ("", "", ""))
        self.store.put("take", key, scores, config_key=cfg, audio_key=audio, reference_key=ref)
        self._settle(take_id, key)

    def _failed(self, key: str, message: str) -> None:
        take_id = key.split("#", 1)[0]
        if key == take_id:
            self._panel_message_id(take_id, f"Scoring failed: {message}")
        self._settle(take_id, key, ok=False)

    def _settle(self, take_id: str, key: str, ok: bool = True) -> None:
        left = self._pending.get(take_id)
        if left is None:
            return
        left.discard(key)
        if key == take_id and ok:
            self.takeScored.emit(take_id)
        if not left:
            del self._pending[take_id]
            self._keys.pop(take_id, None)
            self._no_wer.pop(take_id, None)
            self._check_groups()
        cur = self.history.current
        if cur is not None and cur.id == take_id and (ok or key != take_id):
            self.show_current()

    # ---- generation hooks -----------------------------------------------------------------
    def _auto_toggled(self, on: bool) -> None:
        self.ctx.settings.auto_score_takes = bool(on)

    def _stored(self, take_id: str) -> None:
        if not self._batch:
            self._batch_n = self.view.best_of_n.value()
        self._batch.append(take_id)

    def _batch_finished(self) -> None:
        ids, n = self._batch, self._batch_n
        self._batch = []
        complete = []
        for tid in ids:
            try:
                t = self.takes.get(tid)
            except TakeError:
                continue
            if t.status == "complete":
                complete.append(t)
        if n > 1 and len(complete) > 1:
            group = self.groups.new_group([t.id for t in complete])
            self._waiting_groups[group] = [t.id for t in complete]
            for t in complete:
                self.score(t)
            self._check_groups()
        elif self.view.auto_score.isChecked():
            for t in complete:
                self.score(t)

    def _check_groups(self) -> None:
        for group, ids in list(self._waiting_groups.items()):
            if any(i in self._pending for i in ids):
                continue
            del self._waiting_groups[group]
            self.rank_group(group)

    def rank_group(self, group: str) -> None:
        from engine.eval.best_of_n import Candidate, rank

        cands = []
        for tid in self.groups.members(group):
            try:
                take = self.takes.get(tid)
            except TakeError:
                continue
            c = Candidate(take.seed or 0, None, take.sample_rate, scores=self.cached(take))
            c.take_id = tid  # Candidate has no id field; the ranking keeps the objects
            cands.append(c)
        result = rank(cands, self.weights)
        order = [(c.take_id, c.combined if c.scores is not None else None) for c in result.ranking]
        self.groups.set_ranking(group, order)
        best = result.best
        self.history.refresh(select=best.take_id if best is not None else None)
        self.synth._say(f"Best of {len(order)}: kept seed {best.seed} (score {best.combined:.2f}); "
                        f"{len(order) - 1} runner{'s' if len(order) > 2 else ''}-up in the history."
                        if best is not None else "Best of N: no candidate could be scored.")
        self.groupRanked.emit(group)

    def promote_current(self) -> None:
        take = self.history.current
        if take is not None and self.groups.promote(take.id):
            self.history.refresh(select=take.id)

    def edit_weights(self) -> None:
        from studio.ui.synthesize.weights_dialog import WeightsDialog

        dlg = WeightsDialog(self.weights, self.view)
        if dlg.exec():
            self.weights = dlg.weights()
            for group in self.groups.groups_of([self.history.current.id] if self.history.current else []):
                self.rank_group(group)

    # ---- view -----------------------------------------------------------------------------
    def decorate(self, take: Take, text: str) -> str:
        """History label: best-of-N role and the headline numbers."""
        role = self.groups.role(take.id)
        if role is not None:
            kept, place, n, combined = role
            score = f" ({combined:.2f})" if combined is not None else ""
            text = (f"✔ best of {n}{score} · " if kept else f"runner-up #{place}/{n}{score} · ") + text
        return text

    def _panel_message(self, take: Take, text: str) -> None:
        self._panel_message_id(take.id, text)

    def _panel_message_id(self, take_id: str, text: str) -> None:
        cur = self.history.current
        if cur is not None and cur.id == take_id:
            self.view.scores.set_message(text)

    def show_current(self) -> None:
        v, take = self.view, self.history.current
        v.score_button.setEnabled(take is not None)
        role = self.groups.role(take.id) if take is not None else None
        v.promote_button.setVisible(bool(role) and not role[0])
        if take is None:
            v.scores.set_message("Select a take to see its scores.")
            v.chunk_strip.set_cells([])
            return
        scores = self.cached(take)
        if scores is not None:
            v.scores.set_scores(scores)
        elif take.id in self._pending:
            v.scores.set_message("Scoring in the background…")
        else:
            v.scores.set_message("Not scored yet: press Score.")
        sr = take.sample_rate or 1
        cells = []
        if len(take.chunk_spans) > 1:
            for i, (a, b) in enumerate(take.chunk_spans[:len(take.recipe.chunks)]):
                s = self.cached(take, i)
                cells.append(ChunkCell(a / sr, b / sr, s.similarity if s else None,
                                       s.wer.wer if s is not None and s.wer is not None else None))
        v.chunk_strip.set_cells(cells)
        if cells:  # the token grid (codes exist for speech only) sets a shorter range on the linked axis
            v.waveform.getPlotItem().setXRange(0, take.duration_s, padding=0)

    def shutdown(self) -> None:
        self.client.cancel_all()
