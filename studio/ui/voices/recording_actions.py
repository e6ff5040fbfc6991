"""Recording from the Voices workspace (R): Recorder start/stop, meter source, device errors.

Mixed into VoicesController; uses its `ctx`, `view`, `import_files` and `recordingChanged`.
"""
from __future__ import annotations

import logging
from pathlib import Path

from studio.ui.widgets.transport import format_time

log = logging.getLogger(__name__)


class RecordingActions:
    @property
    def is_recording(self) -> bool:
        return self._recorder is not None

    def _input_changed(self, name: str | None) -> None:
        self.ctx.settings.input_device = name
        self.ctx.status.devices_changed.emit()
        if self.is_recording:
            self.ctx.status.show("The new input device is used from the next recording.")

    def toggle_record(self) -> None:
        if self._recorder is None:
            self.start_recording()
        else:
            self.stop_recording()

    def start_recording(self) -> None:
        try:
            rec = self.ctx.make_recorder(owner="voices", name="voice recording")
            rec.start()
        except Exception as exc:  # no device, device busy, module missing: say so, keep going
            log.exception("could not start recording")
            self.view.record_action.setChecked(False)
            self.ctx.status.show(f"Could not start recording: {exc}", 10000)
            return
        self._recorder = rec
        self.view.meter.set_source(rec.level, lambda: rec.overflows)
        self.view.record_action.setChecked(True)
        self._rec_timer.start()
        self.recordingChanged.emit(True)

    def _poll_recorder(self) -> None:
        rec = self._recorder
        if rec is None:
            return
        sr = getattr(rec, "samplerate", self.ctx.settings.record_samplerate)
        self.view.record_action.setText(f"● Rec {format_time(rec.frames_written / sr)}")
        if rec.error:
            self.ctx.status.show(f"Recording stopped: {rec.error}", 0)
            self.stop_recording()

    def stop_recording(self) -> Path | None:
        rec, self._recorder = self._recorder, None
        self._rec_timer.stop()
        self.view.meter.set_source(None)
        self.view.record_action.setChecked(False)
        self.view.record_action.setText("● Record")
        self.recordingChanged.emit(False)
        if rec is None:
            return None
        try:
            path = rec.stop()
        except Exception as exc:
            log.exception("stopping recorder")
            self.ctx.status.show(f"Recording could not be finalized: {exc} (it will be offered for recovery)", 0)
            return None
        self.import_files([Path(path)])
        return Path(path)
