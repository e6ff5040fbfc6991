"""The recording session: a large prompt, the next one previewed, a live meter, hotkeys.

Keys (while the teleprompter has focus): R record/stop, Space play last take, N/Right next,
P/Left previous, S skip, Del discard take, K keep latest take as best.

Each take is reserved in the DatasetStore before the Recorder starts, and the Recorder streams it to
disk, so a crash at any moment loses at most the last header sync of audio (see datasets.py).
"""
from __future__ import annotations

import logging
import time

import numpy as np
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QDoubleSpinBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout,
                               QWidget)

from studio.ui.theme import COLORS
from studio.ui.widgets.background import run_in_background
from studio.ui.widgets.meter import LevelMeter

log = logging.getLogger(__name__)

AUTO_STOP_MIN_S = 1.0  # never auto-stop a take shorter than this
SPEECH_DBFS = -40.0  # a level above this means the reader has started speaking
KEYS_HELP = "R record/stop · Space play · N/→ next · P/← previous · S skip · Del discard · K keep as best"


class Teleprompter(QWidget):
    takeFinished = Signal(int)  # take id (QC is started by the workspace)
    recordingStarted = Signal()
    positionChanged = Signal(int)
    message = Signal(str)

    def __init__(self, ctx, store, parent=None):
        super().__init__(parent)
        self.ctx, self.store = ctx, store
        self.dataset = None
        self.prompts = []
        self.index = 0
        self.recorder = None
        self.monitor = None
        self._take_id: int | None = None
        self._starting = None  # (recorder, take id) while the device opens
        self._stop_requested = False
        self._pending_stops = 0
        self._started = 0.0
        self._heard_speech = False
        self._quiet_since: float | None = None
        self.setFocusPolicy(Qt.StrongFocus)
        self._build()
        self._auto_timer = QTimer(self, interval=100)
        self._auto_timer.timeout.connect(self._poll_recording)
        self._preroll_timer = QTimer(self, singleShot=True)
        self._preroll_timer.timeout.connect(self._start_recorder)

    # ----- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.counter = QLabel("")
        self.counter.setObjectName("hint")
        self.prompt_label = QLabel("Choose or create a dataset to start recording.")
        self.prompt_label.setObjectName("teleprompterPrompt")
        self.prompt_label.setWordWrap(True)
        self.prompt_label.setAlignment(Qt.AlignCenter)
        self.prompt_label.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.prompt_label.setStyleSheet("font-size: 26pt; padding: 24px;")
        self.next_label = QLabel("")
        self.next_label.setWordWrap(True)
        self.next_label.setAlignment(Qt.AlignCenter)
        self.next_label.setStyleSheet(f"color: {COLORS['text_dim']}; font-size: 13pt;")
        self.state_label = QLabel("")
        self.state_label.setAlignment(Qt.AlignCenter)
        self.takes_label = QLabel("")
        self.warning = QLabel("")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(f"color: {COLORS['warn']};")
        self.meter = LevelMeter(self)
        self.noise_label = QLabel("Noise floor: —")
        self.noise_label.setToolTip("Measured with the input open before the first take: "
                                    "aim for -60 dBFS or lower")
        self.preroll = QDoubleSpinBox(suffix=" s pre-roll", minimum=0.0, maximum=5.0, singleStep=0.5, value=0.0)
        self.auto_stop = QCheckBox("Auto-stop after")
        self.auto_stop_s = QDoubleSpinBox(suffix=" s of silence", minimum=0.5, maximum=5.0, singleStep=0.25, value=1.5)
        keys = QLabel(KEYS_HELP)
        keys.setObjectName("hint")
        opts = QHBoxLayout()
        for w in (self.preroll, self.auto_stop, self.auto_stop_s):
            opts.addWidget(w)
        opts.addStretch(1)
        opts.addWidget(self.noise_label)
        lay = QVBoxLayout(self)
        lay.addWidget(self.counter)
        lay.addWidget(self.prompt_label, 3)
        lay.addWidget(self.next_label, 1)
        lay.addWidget(self.state_label)
        lay.addWidget(self.takes_label)
        lay.addWidget(self.warning)
        lay.addWidget(self.meter)
        lay.addLayout(opts)
        lay.addWidget(keys)

    # ----- session ----------------------------------------------------------------------------
    def open_dataset(self, dataset) -> None:
        self.stop_all()
        self.dataset = dataset
        self.prompts = self.store.prompts(dataset.id)
        self.index = min(dataset.position, max(0, len(self.prompts) - 1))
        self._check_device()
        self.refresh()

    @property
    def current(self):
        return self.prompts[self.index] if self.prompts else None

    def refresh(self) -> None:
        p = self.current
        if p is None:
            self.prompt_label.setText("This dataset has no prompts yet: load a script or import a long recording.")
            self.next_label.setText("")
            self.counter.setText("")
            self.takes_label.setText("")
            return
        self.prompt_label.setText(p.text)
        nxt = self.prompts[self.index + 1].text if self.index + 1 < len(self.prompts) else "(last prompt)"
        self.next_label.setText(f"Next: {nxt}")
        done = self.store.progress(self.dataset.id).recorded
        self.counter.setText(f"Prompt {self.index + 1} of {len(self.prompts)}  ·  {p.key}  ·  "
                             f"{done} recorded" + ("  ·  skipped" if p.skipped else ""))
        takes = self.store.takes(self.dataset.id, p.id)
        parts = []
        for k, t in enumerate(takes, 1):
            badge = "★" if t.is_best else ""
            flags = t.qc.get("flags", []) + (["QC failed"] if "error" in t.qc else [])
            parts.append(f"take {k}{badge} {t.duration_s or 0:.1f}s" + (f" ⚠ {', '.join(flags)}" if flags else ""))
        self.takes_label.setText("   ".join(parts) or "No takes yet")
        if not self.is_recording:
            self.state_label.setText("Press R to record")

    def go(self, index: int) -> None:
        if not self.prompts or self.is_recording:
            return
        self.index = max(0, min(index, len(self.prompts) - 1))
        self.store.set_position(self.dataset.id, self.index)
        self.positionChanged.emit(self.index)
        self.refresh()

    @property
    def is_recording(self) -> bool:
        return self.recorder is not None or self._starting is not None or self._preroll_timer.isActive()

    # ----- keys -------------------------------------------------------------------------------
    def _actions(self) -> dict:
        return {Qt.Key_R: self.toggle_record, Qt.Key_Space: self.play_last, Qt.Key_N: self.next,
                Qt.Key_Right: self.next, Qt.Key_P: self.previous, Qt.Key_Left: self.previous,
                Qt.Key_S: self.skip, Qt.Key_Delete: self.discard_last, Qt.Key_K: self.keep_last}

    def event(self, ev) -> bool:
        # The main window binds R and Space as window-wide shortcuts; while the teleprompter has
        # focus its own meaning of every hotkey wins (Space plays the last take, not the transport).
        if ev.type() == QEvent.ShortcutOverride and ev.modifiers() in (Qt.NoModifier, Qt.KeypadModifier) \
                and ev.key() in self._actions() and self.dataset is not None:
            ev.accept()
            return True
        return super().event(ev)

    def keyPressEvent(self, ev) -> None:
        fn = self._actions().get(ev.key())
        if fn is None or self.dataset is None:
            super().keyPressEvent(ev)
            return
        ev.accept()
        fn()

    def next(self) -> None:
        self.go(self.index + 1)

    def previous(self) -> None:
        self.go(self.index - 1)

    def skip(self) -> None:
        if self.current is not None and not self.is_recording:
            self.store.set_skipped(self.current.id, True)
            self.prompts[self.index].skipped = True
            self.next()

    def _latest_take(self):
        takes = self.store.takes(self.dataset.id, self.current.id) if self.current else []
        return takes[-1] if takes else None

    def discard_last(self) -> None:
        t = self._latest_take()
        if t is None or self.is_recording:
            return
        self.store.discard_take(t.id)
        self.message.emit("Take discarded (moved to the trash)")
        self.refresh()

    def keep_last(self) -> None:
        t = self._latest_take()
        if t is not None and t.usable:
            self.store.set_best(t.id)
            self.refresh()

    def play_last(self) -> None:
        if self.is_recording:
            return
        t = self._latest_take()
        if t is None or not t.usable:
            self.message.emit("No take to play for this prompt yet")
            return
        import soundfile as sf

        try:
            x, sr = sf.read(str(t.path), dtype="float32")  # one short take: milliseconds
            self.ctx.player.play(x, sr)
        except Exception as exc:
            self.message.emit(f"Could not play the take: {exc}")

    # ----- recording --------------------------------------------------------------------------
    def toggle_record(self) -> None:
        if self._preroll_timer.isActive():
            self._preroll_timer.stop()
            self.state_label.setText("Press R to record")
            return
        if self.recorder is not None:
            self.stop_recording()
            return
        if self._starting is not None:
            self._stop_requested = True
            return
        if self.current is None:
            return
        self._check_device()  # the input may have been changed in settings since the last take
        self._stop_monitor()
        if self.preroll.value() > 0:
            self.state_label.setText(f"Get ready… recording starts in {self.preroll.value():.1f} s")
            self._preroll_timer.start(int(self.preroll.value() * 1000))
        else:
            self._start_recorder()

    def _start_recorder(self) -> None:
        """Reserve the take row, then open the device on a worker thread: opening a PortAudio
        stream can take a few hundred ms on a busy machine and must not freeze the GUI."""
        from studio.core.recorder import Recorder

        p = self.current
        name = self.store.take_name(p)
        take = self.store.begin_take(self.dataset.id, p.id, name)
        rec = Recorder(self.store.takes_folder(self.dataset.id), device=self.ctx.settings.input_device,
                       samplerate=self.dataset.sample_rate, name=name, owner="dataset", owner_ref=str(take))
        self._starting = (rec, take)
        self.state_label.setText("Opening the input…")
        run_in_background(rec.start, on_done=lambda path: self._recorder_started(rec, take, path),
                          on_error=lambda exc: self._recorder_failed(take, exc), owner=self)

    def _recorder_failed(self, take: int, exc) -> None:
        if self._starting is None or self._starting[1] != take:
            return
        self._starting = None
        self.store.library.execute("UPDATE dataset_takes SET status = 'lost' WHERE id = ?", (take,))
        self.warning.setText(str(exc))
        self.state_label.setText("Press R to record")
        self.message.emit(str(exc))

    def _recorder_started(self, rec, take: int, path) -> None:
        if self._starting is None or self._starting[0] is not rec:
            return  # stop_all took this take over while the device was opening
        self._starting = None
        self.store.set_streaming_path(take, path)
        if not self.dataset.input_device:
            self.dataset = self.store.update(self.dataset.id, input_device=self._device_label())
        self.recorder, self._take_id = rec, take
        self._started, self._heard_speech, self._quiet_since = time.monotonic(), False, None
        self.meter.set_source(rec.level, lambda: rec.overflows)
        self.state_label.setText("● Recording — R to stop")
        self.state_label.setStyleSheet(f"color: {COLORS['record']}; font-weight: 600;")
        self._auto_timer.start()
        self.recordingStarted.emit()
        if self._stop_requested:  # R was pressed again while the device was opening
            self._stop_requested = False
            self.stop_recording()

    def stop_recording(self) -> None:
        """Stop on a worker thread (the writer drains and the file is finalized there); the take
        is registered when that is done."""
        rec, take = self.recorder, self._take_id
        if rec is None:
            return
        self._auto_timer.stop()
        self.meter.set_source(None)
        self.recorder, self._take_id = None, None
        self.state_label.setStyleSheet("")
        self.state_label.setText("Saving the take…")
        self._pending_stops += 1
        run_in_background(rec.stop, on_done=lambda path: self._recorder_stopped(rec, take, path),
                          on_error=lambda exc: self._stop_failed(exc))

    def _stop_failed(self, exc) -> None:
        self._pending_stops -= 1
        log.error("stopping the recorder: %s", exc)
        self.warning.setText(f"The take could not be finished: {exc}. It will be recovered when the dataset reopens.")

    def _recorder_stopped(self, rec, take: int, path) -> None:
        self._pending_stops -= 1
        self.store.finish_take(take, path, duration_s=rec.duration_s, sample_rate=rec.samplerate)
        if rec.error:
            self.warning.setText(rec.error)
        self.refresh()
        self.takeFinished.emit(take)

    @property
    def saving(self) -> bool:
        """A stopped take is still being finalized."""
        return self._pending_stops > 0

    def _poll_recording(self) -> None:
        rec = self.recorder
        if rec is None:
            return
        if rec.error:  # device lost: the recorder already finalized what it had
            self.stop_recording()
            return
        if not self.auto_stop.isChecked():
            return
        lvl = rec.level().rms_dbfs
        now = time.monotonic()
        if lvl > SPEECH_DBFS:
            self._heard_speech, self._quiet_since = True, None
        elif self._heard_speech:
            self._quiet_since = self._quiet_since or now
            if now - self._quiet_since >= self.auto_stop_s.value() and now - self._started > AUTO_STOP_MIN_S:
                self.stop_recording()

    # ----- input monitor: noise floor before the first take, device changes -------------------
    def _device_label(self) -> str:
        from studio.ui.widgets.device_picker import device_display_name

        name = device_display_name(self.ctx.settings.input_device) if self.ctx.settings.input_device else "default input"
        return f"{name} @ {self.dataset.sample_rate} Hz"

    def _check_device(self) -> None:
        if self.dataset is None:
            return
        was = self.dataset.input_device
        now = self._device_label()
        self.warning.setText("" if not was or was == now else
                             f"The input changed since this dataset was started: it was {was}, now {now}. "
                             "Takes may not match; switch back or note it in the gain notes.")

    def start_monitor(self) -> None:
        """Open the input for the meter and noise-floor readout (not recording)."""
        if self.dataset is None or self.recorder is not None or self.monitor is not None:
            return
        from studio.core import recorder  # noqa: F401 - imported now (~20 ms), not when R is pressed
        from studio.core.recorder_levels import InputMonitor

        mon = InputMonitor(self.ctx.settings.input_device, samplerate=self.dataset.sample_rate)
        try:
            mon.start()
        except Exception as exc:
            self.noise_label.setText("Noise floor: input unavailable")
            self.warning.setText(str(exc))
            return
        self.monitor = mon
        self.meter.set_source(mon.level, lambda: mon.overflows)
        QTimer.singleShot(1500, self._show_noise_floor)

    def _show_noise_floor(self) -> None:
        # Off the GUI thread: the first np.percentile imports a NumPy submodule (~0.3 s measured).
        if self.monitor is not None:
            run_in_background(self.monitor.noise_floor_dbfs, on_done=self._noise_floor_measured, owner=self,
                              lower_priority=False)

    def _noise_floor_measured(self, nf: float) -> None:
        self.noise_label.setText(f"Noise floor: {nf:.0f} dBFS" if np.isfinite(nf) else "Noise floor: silent")

    def _stop_monitor(self) -> None:
        if self.monitor is not None:
            self.meter.set_source(None)
            self.monitor.stop()
            self.monitor = None

    def stop_all(self) -> None:
        """Closing or switching dataset: stop synchronously so the take is registered now."""
        self._preroll_timer.stop()
        rec, take = self.recorder, self._take_id
        if self._starting is not None:  # the device is still opening: wait for it, then stop
            rec, take = self._starting
            self._starting = None
            deadline = time.monotonic() + 10
            while not rec.is_recording and rec.error is None and time.monotonic() < deadline:
                time.sleep(0.02)
            if rec.is_recording:
                self.store.set_streaming_path(take, rec.incomplete_path)
            else:
                rec = None
        if rec is not None:
            self._auto_timer.stop()
            self.meter.set_source(None)
            self.recorder, self._take_id = None, None
            try:
                path = rec.stop()
                self.store.finish_take(take, path, duration_s=rec.duration_s, sample_rate=rec.samplerate)
            except Exception:
                log.exception("stopping the recorder at shutdown; the take stays recoverable")
        self._stop_monitor()
