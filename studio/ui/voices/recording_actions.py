"""Recording from the Voices workspace (R): Recorder start/stop, meter source, device errors.

Mixed into VoicesController; uses its `ctx`, `view`, `import_files`, `_show_banner`,
`importFinished` and `recordingChanged`.

A microphone that is unplugged (or stalls) mid-take: the Recorder sets `.error` and finalizes the
file with everything captured; the 200 ms poll notices, opens that file in the editor like a normal
stop, and once it is open shows a banner naming the device and saying the audio was kept (after
the import, which would otherwise clear the banner and overwrite the status line).
"""
from __future__ import annotations

import logging
from pathlib import Path

from studio.ui.widgets.device_picker import device_display_name
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
        self._rec_device = self._input_name()
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
            self._finish_failed_recording(rec)

    def _input_name(self) -> str:
        """The recording device as the message names it (quoted)."""
        value = self.ctx.settings.input_device
        if value:
            return f"'{device_display_name(value)}'"
        try:
            from studio.core.devices import device_name

            return f"'{device_name(None, 'input')}' (the system default input)"
        except Exception:
            return "(the system default input)"

    def _finish_failed_recording(self, rec) -> Path | None:
        """The stream died or stalled: open what was captured and say what happened."""
        seconds = rec.frames_written / float(getattr(rec, "samplerate", self.ctx.settings.record_samplerate))
        log.warning("recording from %s ended early: %s", self._rec_device, rec.error)
        if "microphone" in rec.error:  # the Recorder's device-loss sentences (disk errors are worded otherwise)
            extra = rec.error.split("kept.", 1)[-1].strip()  # e.g. "could not be moved ... recovery"
            text = (f"The input device {self._rec_device} stopped delivering audio during the recording "
                    f"(it may have been unplugged). The audio up to that point ({seconds:.1f} s) was kept "
                    f"and is open in the editor.")
            text += f" {extra}" if extra else ""
        else:
            lead = "" if rec.error.startswith("Recording stopped") else "Recording stopped: "
            text = f"{lead}{rec.error} The audio up to that point ({seconds:.1f} s) is open in the editor."
        return self.stop_recording(notice=text)

    def stop_recording(self, notice: str | None = None) -> Path | None:
        """Stop and open the take; `notice` (a failure message) is shown once it is open."""
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
            text = f"Recording could not be finalized: {exc} (it will be offered for recovery)"
            self._show_banner(f"{notice} {text}" if notice else text, warn=False)
            self.ctx.status.show(text, 0)
            return None
        if notice:
            self._notice_after_import(str(path), notice)
        self.import_files([Path(path)])
        return Path(path)

    def _notice_after_import(self, path: str, text: str) -> None:
        def shown(done_path: str, ok: bool) -> None:
            if done_path != path:
                return
            self.importFinished.disconnect(shown)
            b = self.view.banner
            prior = b.text() if b.isVisible() else ""  # the import's own warnings stay visible too
            self._show_banner(f"{text}\n{prior}" if prior else text, warn=ok)
            self.ctx.status.show(text, 0)

        self.importFinished.connect(shown)
