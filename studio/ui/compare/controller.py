"""Compare wiring: lanes from takes/recordings, one playhead with instant lane switching, blind
mode, MOS/CMOS/ABX ratings and the results table."""
from __future__ import annotations

import logging
import random
import uuid
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog, QListWidgetItem, QTableWidgetItem

from studio.core.ratings import RatingError, RatingStore
from studio.core.takes import TakeStore
from studio.core.scores import ScoreStore
from studio.ui.compare import lanes as L
from studio.ui.compare import objective as O
from studio.ui.compare.lane_row import LaneRow
from studio.ui.compare.view import CompareView
from studio.ui.widgets.background import run_in_background

log = logging.getLogger(__name__)
CMOS_WORDS = {-3: "much worse", -2: "worse", -1: "slightly worse", 0: "about the same",
              1: "slightly better", 2: "better", 3: "much better"}


def _fmt(mean, ci, n) -> str:
    if mean is None:
        return "–"
    return f"{mean:.2f} ± {ci:.2f} (n={n})" if ci is not None else f"{mean:.2f} (n={n})"


class CompareController(QObject):
    lanesReady = Signal()
    rowsBuilt = Signal()  # lane rows (re)made: lanes added, blind test started, identities revealed

    def __init__(self, ctx, view: CompareView, takes: TakeStore, parent=None):
        super().__init__(parent)
        self.ctx, self.view, self.takes = ctx, view, takes
        self.ratings = RatingStore(ctx.library)
        self.scores = ScoreStore(ctx.library)  # objective scores of takes (scored in Synthesize)
        self.lanes: list[L.Lane] = []
        self.rows: list[LaneRow] = []
        self.active: int | None = None
        self.blind = False
        self.session = uuid.uuid4().hex[:8]
        self._abx_x: int | None = None
        self.pending_rounds: list[list[str]] = []  # blind rounds still to come (take ids each)
        self._blind_when_loaded = False
        self._pos = 0.0  # playhead when stopped/paused
        self.save_path = lambda: QFileDialog.getSaveFileName(view, "Export results", "results.csv", "CSV (*.csv)")[0]
        self._tick = QTimer(self, interval=50)
        self._tick.timeout.connect(self._update_playhead)
        v = view
        v.add_button.clicked.connect(self.add_selected)
        v.clear_button.clicked.connect(lambda: self.set_lanes([]))
        v.play_button.clicked.connect(self.toggle_play)
        v.stop_button.clicked.connect(self.stop)
        v.position.sliderReleased.connect(lambda: self.seek(v.position.value() / 1000 * self._duration()))
        v.blind_button.clicked.connect(self.start_blind)
        v.reveal_button.clicked.connect(self.reveal)
        v.next_round_button.clicked.connect(self.next_round)
        v.submit_button.clicked.connect(self.submit_mos)
        v.save_cmos.clicked.connect(self.save_cmos)
        v.cmos.valueChanged.connect(lambda s: v.cmos_label.setText(f"{s:+d}: B {CMOS_WORDS[s]}" if s else "0: about the same"))
        v.abx_start.clicked.connect(self.start_abx)
        v.abx_play_x.clicked.connect(self.play_x)
        v.abx_is_a.clicked.connect(lambda: self.answer_abx(0))
        v.abx_is_b.clicked.connect(lambda: self.answer_abx(1))
        v.export_csv.clicked.connect(self.export_csv)
        v.match_loudness.toggled.connect(lambda _: self._reload_lanes())
        # 1..6 switch lanes, space plays/pauses: hands stay on the keyboard during a listening test.
        for i in range(L.MAX_LANES):
            QShortcut(QKeySequence(str(i + 1)), v, activated=lambda i=i: self.switch_to(i))
        QShortcut(QKeySequence("Space"), v, activated=self.toggle_play)
        self.refresh_picker()
        self.refresh_results()
        self._update_enabled()

    # ---- picker --------------------------------------------------------------------------
    def refresh_picker(self) -> None:
        p = self.view.picker
        p.clear()
        if self.blind:
            return  # the picker names takes: it stays empty until identities are revealed
        for voice in self.ctx.voices.list():
            if voice.clips:
                item = QListWidgetItem(f"Reference recording: {voice.name}")
                item.setData(Qt.UserRole, ("recording", voice.id))
                p.addItem(item)
        for t in self.takes.list(limit=300):
            item = QListWidgetItem(f"{t.label()} · {t.recipe.text[:50]}")
            item.setData(Qt.UserRole, ("take", t.id))
            p.addItem(item)

    def add_selected(self) -> None:
        self.add_items([i.data(Qt.UserRole) for i in self.view.picker.selectedItems()])

    def add_items(self, keys: list[tuple[str, object]]) -> None:
        """Add lanes (("take", id) or ("recording", voice_id)); loads and matches off the GUI thread."""
        have = {l.item.key for l in self.lanes}
        if len(self.lanes) + len(keys) > L.MAX_LANES:
            self._say(f"A comparison has at most {L.MAX_LANES} lanes.", error=True)
            return
        match = self.view.match_loudness.isChecked()

        def work():
            new = []
            for kind, ident in keys:
                if kind == "take":
                    t = self.takes.get(ident)
                    name = self._voice_name(t.recipe.voice_id)
                    lane = L.lane_for_take(self.takes, ident, name)
                else:
                    voice = self.ctx.voices.get(ident)
                    x, sr = self.ctx.voices.load_clip(voice.clips[0])
                    lane = L.lane_for_recording(voice, x, sr)
                if lane.item.key not in have:
                    new.append(lane)
            return L.prepare([l.fresh() for l in self.lanes] + new, match_loudness=match)
        run_in_background(work, on_done=self.set_lanes,
                          on_error=lambda e: self._say(f"Could not add: {e}", error=True))

    def _reload_lanes(self) -> None:
        if self.lanes:
            match = self.view.match_loudness.isChecked()
            lanes = [l.fresh() for l in self.lanes]
            run_in_background(lambda: L.prepare(lanes, match_loudness=match), on_done=self.set_lanes)

    def _lane_objective(self, lane) -> str:
        key = lane.item.key
        return O.lane_text(O.latest_scores(self.scores, key[5:])) if key.startswith("take:") else ""

    def _voice_name(self, voice_id) -> str:
        if voice_id is None:
            return ""
        try:
            return self.ctx.voices.get(voice_id).name
        except (KeyError, ValueError):
            return str(voice_id)

    # ---- lanes ---------------------------------------------------------------------------
    def set_lanes(self, lanes: list[L.Lane]) -> None:
        self.stop()
        self.lanes = lanes
        self.active = 0 if lanes else None
        self._rebuild_rows()
        self.lanesReady.emit()
        if self._blind_when_loaded and lanes:
            self._blind_when_loaded = False
            self.start_blind()

    def queue_rounds(self, rounds: list[list[str]]) -> None:
        """A blind test in rounds (one per sentence, its takes as lanes): the first starts now, "Next
        sentence" brings the next; every round's ratings pool in the results by model, setting and
        voice (the reference condition)."""
        self.pending_rounds = [list(r) for r in rounds if r]
        self.next_round()

    def next_round(self) -> None:
        if not self.pending_rounds:
            return
        ids = self.pending_rounds.pop(0)
        self.blind = False
        self.set_lanes([])
        self._blind_when_loaded = True
        self.add_items([("take", t) for t in ids])

    def _rebuild_rows(self) -> None:
        for row in self.rows:
            self.view.lanes_box.removeWidget(row)
            row.setParent(None)  # out of the widget tree now: deleteLater alone would leave it
            row.deleteLater()    # findable (with its labels) until the event loop runs
        self.rows = []
        for i, lane in enumerate(self.lanes):
            row = LaneRow(i)
            label = L.blind_label(i)
            row.switch.setText(label)
            if not self.blind:
                gain = f" · {lane.gain_db:+.1f} dB" if lane.gain_db else ""
                row.name.setText(f"{lane.label}{gain}" + (f" ({'; '.join(lane.notes)})" if lane.notes else "")
                                 + self._lane_objective(lane))
            row.set_played(lane.played)
            if not self.blind:  # a waveform would help tell blind lanes apart by length or level
                row.wave.set_audio(lane.audio, lane.sample_rate, self._duration())
            row.switch.clicked.connect(lambda _=False, i=i: self.switch_to(i))
            self.view.lanes_box.addWidget(row)
            self.rows.append(row)
        for combo in (self.view.pair_a, self.view.pair_b):
            combo.clear()
            for i in range(len(self.lanes)):
                combo.addItem(L.blind_label(i), i)
        if len(self.lanes) > 1:
            self.view.pair_b.setCurrentIndex(1)
        self._mark_active()
        self._update_enabled()
        self.rowsBuilt.emit()

    def _mark_active(self) -> None:
        for i, row in enumerate(self.rows):
            row.switch.setChecked(i == self.active)
            row.wave.active = i == self.active
            row.wave.update()

    def _update_enabled(self) -> None:
        v, n = self.view, len(self.lanes)
        v.blind_button.setEnabled(n >= L.MIN_LANES and not self.blind)
        v.reveal_button.setEnabled(self.blind)
        v.next_round_button.setVisible(bool(self.pending_rounds))
        v.next_round_button.setText(f"Next sentence ({len(self.pending_rounds)} left)")
        v.picker_box.setEnabled(not self.blind)
        v.export_csv.setEnabled(not self.blind)  # the results name the models: not during a blind test
        for w in (v.abx_start, v.save_cmos):
            w.setEnabled(n >= 2)
        v.abx_play_x.setEnabled(self._abx_x is not None)
        v.abx_is_a.setEnabled(self._abx_x is not None)
        v.abx_is_b.setEnabled(self._abx_x is not None)
        v.play_button.setEnabled(n > 0)

    # ---- playback ------------------------------------------------------------------------
    def _duration(self) -> float:
        return max((len(l.audio) / l.sample_rate for l in self.lanes), default=0.0)

    @property
    def playing(self) -> bool:
        p = self.ctx._player
        return p is not None and p.is_playing

    def switch_to(self, i: int) -> None:
        """Make lane i the one heard; during playback the position is kept (instant A/B)."""
        if not (0 <= i < len(self.lanes)):
            return
        self.active = i
        self._mark_active()
        lane = self.lanes[i]
        try:
            if self.playing:
                self.ctx.player.set_source(lane.audio, lane.sample_rate)
            else:
                self.ctx.player.play(lane.audio, lane.sample_rate, start_s=self._pos)
                self._tick.start()
        except Exception as e:  # no output device
            self._say(f"Cannot play: {e}", error=True)
            return
        self._heard(i)
        self.view.play_button.setText("Pause")

    def _heard(self, i: int) -> None:
        self.lanes[i].played = True
        self.rows[i].set_played(True)

    def toggle_play(self) -> None:
        if self.playing:
            self._pos = self.ctx.player.position_s
            self.ctx.player.pause()
            self.view.play_button.setText("Play")
        elif self.lanes:
            self.switch_to(self.active or 0)

    def stop(self) -> None:
        if self.ctx._player is not None:
            try:
                self.ctx.player.stop()
            except Exception:
                log.debug("stop failed", exc_info=True)
        self._pos = 0.0
        self._tick.stop()
        self.view.play_button.setText("Play")
        self.view.position.setValue(0)

    def seek(self, seconds: float) -> None:
        self._pos = max(0.0, seconds)
        if self.playing:
            self.ctx.player.seek(self._pos)

    def position_s(self) -> float:
        return self.ctx.player.position_s if self.playing else self._pos

    def _update_playhead(self) -> None:
        pos = self.position_s()
        dur = self._duration()
        if not self.view.position.isSliderDown():
            self.view.position.setValue(int(1000 * pos / dur) if dur else 0)
        self.view.time_label.setText(f"{pos:.2f} s")
        for row in self.rows:
            row.wave.set_playhead(pos / dur if dur else 0.0)
        if not self.playing:
            self.view.play_button.setText("Play")

    # ---- blind ---------------------------------------------------------------------------
    def start_blind(self, rng: random.Random | None = None) -> None:
        if len(self.lanes) < L.MIN_LANES:
            return
        order = L.blind_order(len(self.lanes), rng)
        lanes = [self.lanes[i] for i in order]
        for lane in lanes:
            lane.played = False  # each lane must be heard in this test before it is rated
        self.blind = True
        self.session = uuid.uuid4().hex[:8]
        self.refresh_picker()
        self.refresh_results()
        self.stop()
        self.lanes = lanes
        self.active = 0
        self._rebuild_rows()
        self._say(f"Blind test: {len(lanes)} lanes in random order. Play each before rating it.")

    def reveal(self) -> None:
        self.blind = False
        self._abx_x = None
        self._rebuild_rows()
        self.refresh_picker()
        self.refresh_results()
        self._say("Identities revealed.")

    # ---- ratings -------------------------------------------------------------------------
    def _listener(self) -> str | None:
        name = self.view.listener.text().strip()
        if not name:
            self._say("Enter your name as listener before rating.", error=True)
            return None
        return name

    def submit_mos(self) -> int:
        listener = self._listener()
        if listener is None:
            return 0
        saved = 0
        for lane, row in zip(self.lanes, self.rows):
            nat, sim = row.scores()
            if (nat or sim) and not lane.played:
                self._say("Play a lane before rating it.", error=True)
                return 0
            for kind, score in (("naturalness", nat), ("similarity", sim)):
                if score:
                    self.ratings.add_mos(lane.item, score, kind=kind, listener=listener, session=self.session)
                    saved += 1
            row.clear_scores()
        self._say(f"Saved {saved} rating{'s' if saved != 1 else ''}." if saved else "Pick scores first.",
                  error=not saved)
        self.refresh_results()
        return saved

    def save_cmos(self) -> bool:
        listener = self._listener()
        if listener is None:
            return False
        a, b = self.view.pair_a.currentData(), self.view.pair_b.currentData()
        if a is None or b is None or a == b:
            self._say("Pick two different lanes for CMOS.", error=True)
            return False
        if not (self.lanes[a].played and self.lanes[b].played):
            self._say("Play both lanes before comparing them.", error=True)
            return False
        try:
            self.ratings.add_cmos(self.lanes[a].item, self.lanes[b].item, self.view.cmos.value(),
                                  listener=listener, session=self.session)
        except RatingError as e:
            self._say(str(e), error=True)
            return False
        self._say(f"Saved CMOS {L.blind_label(a)} vs {L.blind_label(b)}: {self.view.cmos.value():+d}.")
        self.view.cmos.setValue(0)
        self.refresh_results()
        return True

    def start_abx(self, rng: random.Random | None = None) -> None:
        if len(self.lanes) < 2:
            return
        self._abx_x = (rng or random.SystemRandom()).randrange(2)
        self._update_enabled()
        self._say("ABX: listen to A, B and X, then say which one X is.")

    def play_x(self) -> None:
        if self._abx_x is None:
            return
        lane = self.lanes[self._abx_x]
        try:
            if self.playing:
                self.ctx.player.set_source(lane.audio, lane.sample_rate)
            else:
                self.ctx.player.play(lane.audio, lane.sample_rate, start_s=self._pos)
                self._tick.start()
        except Exception as e:
            self._say(f"Cannot play: {e}", error=True)
        self.active = None
        self._mark_active()

    def answer_abx(self, guess: int) -> bool | None:
        listener = self._listener()
        if listener is None or self._abx_x is None:
            return None
        correct = guess == self._abx_x
        self.ratings.add_abx(self.lanes[0].item, self.lanes[1].item, correct=correct, listener=listener,
                             session=self.session)
        self._abx_x = None
        self._update_enabled()
        self._say("Correct." if correct else "Not this time.")
        self.refresh_results()
        return correct

    # ---- results -------------------------------------------------------------------------
    def refresh_results(self) -> None:
        t = self.view.results
        t.setRowCount(0)
        if self.blind:
            return  # model names would hint at which lane is which
        rows = self.ratings.results()
        objective = O.objective_by_group(self.takes, self.scores, self._voice_name)
        scored_only = sorted(set(objective) - {(r.model, r.setting, r.voice) for r in rows})
        t.setRowCount(len(rows) + len(scored_only))
        table = [((r.model, r.setting, r.voice),
                  (_fmt(r.mos_naturalness, r.mos_naturalness_ci95, r.mos_naturalness_n),
                   _fmt(r.mos_similarity, r.mos_similarity_ci95, r.mos_similarity_n),
                   _fmt(r.cmos, r.cmos_ci95, r.cmos_n), "–" if r.win_rate is None else f"{100 * r.win_rate:.0f}%"))
                 for r in rows] + [(g, ("–", "–", "–", "–")) for g in scored_only]
        for i, (g, listening) in enumerate(table):
            obj = objective[g].cells() if g in objective else ("–", "–", "–", "0")
            cells = (*g, *listening, *obj)
            for j, text in enumerate(cells):
                t.setItem(i, j, QTableWidgetItem(text))
        t.resizeColumnsToContents()

    def export_csv(self) -> Path | None:
        if self.blind:
            return None
        path = self.save_path()
        if not path:
            return None
        out = Path(path)  # the ratings joined with the objective scores of each group
        objective = O.objective_by_group(self.takes, self.scores, self._voice_name)
        out.write_text(O.results_csv(self.ratings.results_csv(), objective), encoding="utf-8", newline="")
        self._say(f"Results saved to {out}")
        return out

    def _say(self, text: str, error: bool = False) -> None:
        self.view.message.setText(text)
        self.view.message.setStyleSheet("color: #e5484d;" if error else "")

