"""Synthesize wiring: validate, load the model, submit one job per take, stream the first take to the
player, store every take (complete, cancelled or failed) with its recipe."""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut

from engine.hub.local import installed_models
from engine.jobs import LoadModel, ReferenceSpec
from studio.core.takes import Take, TakeStore
from studio.ui.models.controller import models_root
from studio.ui.synthesize import chunk_marks, model_choice
from studio.ui.synthesize.edits import TakeEditsMixin
from studio.ui.synthesize.generation import GenerateError, GenerateSettings, TakeJob, build_jobs
from studio.ui.synthesize.live import LiveTakeMixin
from studio.ui.synthesize.view import SynthesizeView

log = logging.getLogger(__name__)


class SynthesizeController(QObject, TakeEditsMixin, LiveTakeMixin):
    takeStored = Signal(str)  # take id
    batchFinished = Signal()
    rerenderChecked = Signal(str, bool)  # new take id, identical to the original?

    def __init__(self, ctx, view: SynthesizeView, takes: TakeStore, parent=None):
        super().__init__(parent)
        self.ctx, self.view, self.takes = ctx, view, takes
        self.jobs: dict[str, TakeJob] = {}  # job id -> take in progress (this batch)
        self._load_job: str | None = None
        self._load_failed = False
        self._rerender_batch = False
        self._infos: dict[str, object] = {}  # model id -> ModelInfo from LoadModel
        self._stream_job: str | None = None
        self._streaming = False
        self._rerender_of: dict[str, Take] = {}  # job id -> the take being re-rendered
        self._chunk_edits: dict[str, tuple[Take, int]] = {}  # job id -> (take, chunk index) to splice
        self._decode_jobs: dict[str, tuple[Take, int]] = {}  # job id -> (take, codebooks) to play
        self.extra_models: list[tuple[str, Path, str]] = []  # (model id, folder, backend): tests, dev
        self._preview = QTimer(self, singleShot=True, interval=250)
        self._preview.timeout.connect(self.update_chunk_marks)
        # Token grid and progress bar refresh at display rate, not per engine event: QProgressBar
        # repaints synchronously on every setValue, and each grid change repaints a plot.
        self._grid = QTimer(self, interval=100)
        self._grid.timeout.connect(self._refresh_live_grid)
        self._grid.timeout.connect(self._show_progress)
        self._progress: tuple[int, str] | None = None  # (value, text) not yet on screen
        # The batch is wrapped up (newest take opened: audio, codes, mel) on the next turn of the
        # event loop, not inside the event that stored the last take: two shorter GUI pauses.
        self._finish_check = QTimer(self, singleShot=True, interval=0)
        self._finish_check.timeout.connect(self._finish_if_done)
        self._feed = QTimer(self, singleShot=True, interval=250)
        self._feed.timeout.connect(self._feed_player)
        self._fed = 0  # samples already handed to the player
        v = view
        v.text_edit.textChanged.connect(self._preview.start)
        for combo in (v.voice_combo, v.language_combo):  # Qwen3-TTS: the reference and language change the cuts
            combo.currentIndexChanged.connect(lambda _: self._preview.start())
        v.generate_button.clicked.connect(self.generate)
        QShortcut(QKeySequence("Ctrl+Return"), v, activated=self.generate)
        QShortcut(QKeySequence("Escape"), v, activated=self.stop)
        v.stop_button.clicked.connect(self.stop)
        v.random_seed.toggled.connect(lambda on: v.seed.setEnabled(not on))
        self.refresh_voices()
        self.refresh_models()
        v.model_combo.currentIndexChanged.connect(lambda _: self._model_changed())  # presets and knobs follow it
        self._backend = None
        self._model_changed()

    # ---- engine --------------------------------------------------------------------------
    @property
    def bridge(self):
        if self.ctx.engine_bridge is None:  # no window gave us one: start the engine on first use
            from studio.ui.engine_bridge import EngineBridge

            self.ctx.engine_bridge = EngineBridge()
        b = self.ctx.engine_bridge
        if getattr(self, "_wired", None) is not b:
            for sig, slot in ((b.audioChunk, self._on_audio), (b.codeFrame, self._on_codes),
                              (b.latentFrame, self._on_latent),
                              (b.progress, self._on_progress), (b.done, self._on_done),
                              (b.failed, self._on_failed), (b.cancelled, self._on_cancelled)):
                sig.connect(slot)
            self._wired = b
        return b

    # ---- choices -------------------------------------------------------------------------
    def refresh_voices(self) -> None:
        combo = self.view.voice_combo
        current = combo.currentData()
        combo.clear()
        combo.addItem("(no reference voice)", None)
        model = self.view.model_combo.currentData()
        # Qwen3-TTS CustomVoice / VoiceDesign models clone no voice: only their presets (or none) apply.
        if not (model and model[2] == "qwen3" and model_choice.qwen3_kind(model[1])[0] not in ("", "base")):
            for voice in self.ctx.voices.list():
                combo.addItem(voice.name, voice.id)
        for name in model_choice.preset_voices(model[1] if model else None):  # Pocket TTS / Qwen3 presets
            combo.addItem(f"Preset: {name}", f"{model_choice.PRESET}{name}")
        i = combo.findData(current) if current is not None else -1
        # First time (or the voice is gone): the first real voice, since cloning is the point.
        first = not getattr(self, "_voices_shown", False)
        self._voices_shown = True
        if i < 0 and (first or current is not None):
            i = 1 if combo.count() > 1 else 0
        combo.setCurrentIndex(max(i, 0))

    def refresh_models(self) -> None:
        combo = self.view.model_combo
        current = combo.currentData()
        combo.clear()
        for m in installed_models(models_root(self.ctx), kind="tts"):
            if m.complete:
                combo.addItem(m.entry.name, (m.entry.model_id, m.path, m.entry.backend))
        from studio.core.finetune_data import tuned_voices

        for name, folder in tuned_voices(models_root(self.ctx)):  # LoRA voices from Fine-tune
            combo.addItem(f"{name} (tuned)", (f"tuned:{name}", folder, "csm"))
        for model_id, folder, backend in self.extra_models:
            combo.addItem(model_id, (model_id, Path(folder), backend))
        for i in range(combo.count()):
            if current and combo.itemData(i)[0] == current[0]:
                combo.setCurrentIndex(i)
        if combo.count() == 0:
            self._say("No model is installed yet: open Models to download one or import a local folder.")
        model_choice.recommend(self.view, first_time=current is None)

    def _model_changed(self) -> None:
        model = self.view.model_combo.currentData()
        backend = model[2] if model else None
        model_choice.apply_backend(self.view, backend, self._backend)
        model_choice.apply_model(self.view, model)
        self._backend = backend
        self.refresh_voices()
        self.update_chunk_marks()  # each model cuts the script its own way

    def settings(self) -> GenerateSettings:
        v = self.view
        model = v.model_combo.currentData()
        return GenerateSettings(
            temperature=v.temperature.value(), top_k=v.top_k.value(), top_p=v.top_p.value(),
            seed=None if v.random_seed.isChecked() else v.seed.value(),
            # Best of N (> 1) makes N candidates for one take, instead of "takes per click".
            takes=v.best_of_n.value() if v.best_of_n.value() > 1 else v.takes_per_click.value(),
            max_audio_seconds=v.max_seconds.value() or None,
            options=model_choice.options(v, model[2] if model else None))

    def voice_spec(self, voice_id, backend: str = "csm", folder: Path | None = None) -> ReferenceSpec | None:
        """The selected voice as engine input; GenerateError when its audio is gone. Pocket TTS needs no
        transcript, and its encoded voice is stored with the voice (reopening it is instant)."""
        if voice_id is None:
            return None
        if isinstance(voice_id, str) and voice_id.startswith(model_choice.PRESET):
            return model_choice.preset_spec(voice_id, folder)
        try:
            voice = self.ctx.voices.get(voice_id)
        except KeyError:
            raise GenerateError("That voice was deleted; pick another one.") from None
        if not voice.clips:
            raise GenerateError(f"The voice “{voice.name}” has no audio clip; add one in Voices.")
        clip = voice.clips[0]
        if not Path(clip.working_path).exists():
            raise GenerateError(f"The audio file of the voice “{voice.name}” is missing ({clip.working_path}). "
                                "Re-import the clip in Voices, or pick another voice. Your text is kept.")
        text = (clip.transcript or voice.transcript or "").strip()
        if not text and not model_choice.transcript_optional(backend):
            raise GenerateError(f"The voice “{voice.name}” has no transcript; the model needs the words "
                                "spoken in the reference. Add it in Voices.")
        return ReferenceSpec(key=f"voice{voice.id}-clip{clip.id}", text=text, path=Path(clip.working_path),
                             state_dir=model_choice.voice_state_dir(self.ctx, voice.id))

    # ---- generate ------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return bool(self.jobs) or self._load_job is not None

    def generate(self) -> bool:
        if self.busy:
            return False
        model = self.view.model_combo.currentData()
        try:
            if model is None:
                raise GenerateError("Pick a model first (install one in Models).")
            model_id, folder, backend = model
            voice_id = self.view.voice_combo.currentData()
            voice = self.voice_spec(voice_id, backend, folder)
            jobs = build_jobs(self.view.text_edit.toPlainText(), self.settings(), model_id=model_id,
                              info=self._infos.get(model_id), voice=voice, voice_id=voice_id)
        except GenerateError as e:
            self._say(str(e), error=True)
            return False
        self._ensure_loaded(model_id, folder, backend)
        for job in jobs:
            job.request.stream_frames = self.view.stream_frames.value()
        self._start(jobs)
        return True

    def _model_entry(self, model_id: str):
        combo = self.view.model_combo
        for i in range(combo.count()):
            d = combo.itemData(i)
            if d and d[0] == model_id:
                return d
        return None

    def _ensure_loaded(self, model_id: str, folder: Path, backend: str) -> None:
        device = self.view.device_combo.currentData() or "auto"
        if model_id in self.bridge.state.models and model_id in self._infos and \
                getattr(self, "_devices", {}).get(model_id) == device:
            return
        self._devices = {**getattr(self, "_devices", {}), model_id: device}
        req = LoadModel(model_dir=Path(folder), backend=backend, model_id=model_id, device=device)
        self._load_job = req.job_id
        self._load_model_id = model_id  # the key we asked for (a backend may name itself otherwise)
        self.bridge.submit(req)

    def _start(self, jobs: list[TakeJob]) -> None:
        self._load_failed = False
        self._rerender_batch = any(j.job_id in self._rerender_of or j.job_id in self._chunk_edits for j in jobs)
        self.jobs = {j.job_id: j for j in jobs}
        self._stream_job = jobs[0].job_id
        self._streaming = False
        self._fed = 0
        self._grid_frames = 0
        self._progress = None
        for j in jobs:
            # Every take is marked unless the user turned it off (with a confirmation; provenance.py).
            j.request.watermark = bool(getattr(self.ctx.settings, "watermark_takes", True))
            self.bridge.submit(j.request)
        self.view.generate_button.setEnabled(False)
        self.view.stop_button.setEnabled(True)
        self.view.progress.setValue(0)
        self.view.tokens.set_codes(None)
        self._grid.start()
        self._say(f"Generating {len(jobs)} take{'s' if len(jobs) > 1 else ''}…")

    def stop(self) -> None:
        """Cancel at once; what was generated so far is kept as cancelled takes."""
        if self._load_job:
            self.bridge.cancel(self._load_job)
        for job_id, job in self.jobs.items():
            if job.finished is None:
                self.bridge.cancel(job_id)
        try:
            self.ctx.player.stop()
        except Exception:  # no output device: nothing to stop
            log.debug("player stop failed", exc_info=True)

    # ---- events (GUI thread; streaming audio, codes and progress: live.py) -------------------
    def _on_done(self, ev) -> None:
        if ev.job_id == self._load_job:
            self._load_job = None
            self._infos[self._load_model_id] = ev.result
            return
        if self._on_decoded(ev):
            return
        job = self.jobs.get(ev.job_id)
        if job is None:
            return
        res = ev.result
        job.set_audio(res.audio, res.sample_rate)  # the marked take replaces the streamed preview
        job.recipe = dataclasses.replace(job.recipe, watermark=res.watermark)
        final = res.codes if res.codes is not None else getattr(res, "latents", None)
        job.frames = list(final.T) if final is not None else job.frames
        if ev.job_id not in self._chunk_edits:  # an edited take keeps the original's chunk list
            job.recipe = dataclasses.replace(job.recipe, chunks=tuple(res.text_chunks))
        timings = {"total_s": round(res.seconds_total, 4)}
        if res.seconds_to_first_audio is not None:
            timings["first_audio_s"] = round(res.seconds_to_first_audio, 4)
        self._store(job, "complete", timings)

    def _on_failed(self, ev) -> None:
        if ev.job_id == self._load_job:
            self._load_job = None
            self._say(f"Could not load the model: {ev.message}", error=True)
            self._load_failed = True  # the takes queued behind it fail too: that is not news
            for job_id in list(self.jobs):  # the takes cannot run without it
                self.bridge.cancel(job_id)
            return
        if self._decode_jobs.pop(ev.job_id, None) is not None:
            self._say(f"Could not decode the codebooks: {ev.message}", error=True)
            return
        job = self.jobs.get(ev.job_id)
        if job is None:
            return
        if not self._load_failed:
            self._say(f"Generation failed: {ev.message}", error=True)
        self._take_partial(job, ev.partial)
        self._store(job, "failed", job.timings())

    def _on_cancelled(self, ev) -> None:
        if ev.job_id == self._load_job:
            self._load_job = None
            return
        job = self.jobs.get(ev.job_id)
        if job is not None:
            self._take_partial(job, ev.partial)
            self._store(job, "cancelled", job.timings())

    @staticmethod
    def _take_partial(job: TakeJob, partial) -> None:
        """What a stopped job made, watermarked by the engine, replaces the unmarked stream. Without
        it (the mark could not be made, or nothing was made) the streamed audio is kept unmarked
        and the recipe says so."""
        if partial is not None and partial.audio.size == job.n_samples:
            job.set_audio(partial.audio, partial.sample_rate)
            job.recipe = dataclasses.replace(job.recipe, watermark=partial.watermark)
        else:
            job.recipe = dataclasses.replace(job.recipe, watermark=None)

    def _store(self, job: TakeJob, status: str, timings: dict) -> None:
        job.finished = status
        info = self._infos.get(job.recipe.model_id)
        recipe = job.recipe
        if info is not None:  # the loaded model's identity, known once LoadModel is done
            recipe = dataclasses.replace(recipe, backend=info.backend, backend_version=info.backend_version,
                                         revision=info.revision, weights_sha256=info.weights_sha256,
                                         device=info.device, dtype=info.dtype)
        audio = job.audio()
        if audio.size and job.sample_rate:  # nothing made, nothing to keep
            spans = job.chunk_spans()
            codes = job.codes()
            edit = self._chunk_edits.pop(job.job_id, None)
            if edit is not None:
                if status != "complete":
                    self._finish_check.start()
                    return
                audio, spans, codes = self._spliced(edit, audio, job.sample_rate)
            latents = codes if codes is not None and codes.dtype.kind == "f" else None
            take = self.takes.add(recipe, audio, job.sample_rate, codes=None if latents is not None else codes,
                                  latents=latents, status=status, timings=timings, chunk_spans=spans)
            self.takeStored.emit(take.id)
            original = self._rerender_of.pop(job.job_id, None)
            if original is not None and status == "complete":
                self._check_rerender(original, take)
        self._finish_check.start()

    def _finish_if_done(self) -> None:
        if self.jobs and all(j.finished for j in self.jobs.values()):
            self._finish_batch()

    def _finish_batch(self) -> None:
        statuses = [j.finished for j in self.jobs.values()]
        self._grid.stop()
        if self._progress is not None:  # the last chunk's label stays; the bar is filled below
            self.view.progress.setFormat(self._progress[1])
            self._progress = None
        if self._feed.isActive():
            self._feed.stop()
            self._feed_player()  # the tail of the streamed take
        self._refresh_live_grid()
        self.jobs = {}
        self.view.generate_button.setEnabled(True)
        self.view.stop_button.setEnabled(False)
        self.view.progress.setValue(1000)
        if self.view.message.property("error"):
            pass  # a failure was already explained; do not bury it under a summary
        elif "cancelled" in statuses:
            self._say("Stopped. What was generated is kept as cancelled takes.")
        elif statuses and all(s == "complete" for s in statuses) and not self._rerender_batch:
            self._say(f"Done: {len(statuses)} take{'s' if len(statuses) > 1 else ''}.")
        self.batchFinished.emit()

    # ---- editor marks ----------------------------------------------------------------------
    def update_chunk_marks(self, chunks: list[str] | None = None) -> None:
        text = self.view.text_edit.toPlainText()
        if chunks is None:  # a preview by the chosen model's own rule
            model = self.view.model_combo.currentData()
            rule = model_choice.chunk_rule(model, self._preview_voice(model), model_choice.take_language(self.view))
            chunks = chunk_marks.preview_chunks(text, rule=rule)
        spans = chunk_marks.locate(text, chunks)
        chunk_marks.paint(self.view.text_edit, spans)
        pauses = sum(1 for s in spans if s.kind == "pause")
        self.view.chunk_info.setText(f"{len(chunks)} chunk{'s' if len(chunks) != 1 else ''}"
                                     f" · {pauses} pause{'s' if pauses != 1 else ''} · {len(text):,} characters")

    def _preview_voice(self, model) -> ReferenceSpec | None:
        """The chosen voice as generation will use it, for a Qwen3-TTS preview (its reference takes room)."""
        if not model or model[2] != "qwen3":
            return None
        try:
            return self.voice_spec(self.view.voice_combo.currentData(), model[2], model[1])
        except GenerateError:  # generation will say what is wrong with it
            return None

    def _say(self, text: str, error: bool = False) -> None:
        self.view.message.setText(text)
        self.view.message.setProperty("error", error)
        self.view.message.setStyleSheet("color: #e5484d;" if error else "")
        if error:
            log.info("synthesize: %s", text)

