"""Making a take again: Re-render (same recipe, should be bit-identical) and regenerating one chunk
(new seed, spliced in with crossfades). Mixed into SynthesizeController, whose state it uses."""
from __future__ import annotations

import dataclasses

import numpy as np

from studio.core.takes import Take
from studio.ui.synthesize.generation import (GenerateError, GenerateSettings, TakeJob, request_from_recipe,
                                             seeds_for, splice)


class TakeEditsMixin:
    def rerender(self, take: Take) -> bool:
        """Generate `take` again from its recipe; `rerenderChecked` says whether the audio matches."""
        if self.busy:
            return False
        try:
            model, voice = self._take_sources(take)
        except GenerateError as e:
            self._say(str(e), error=True)
            return False
        self._ensure_loaded(*model)
        job = TakeJob(request=request_from_recipe(take.recipe, voice), recipe=take.recipe)
        self._rerender_of[job.job_id] = take
        self._start([job])
        return True

    def _take_sources(self, take: Take):
        """(model entry, voice spec) a take was made with; GenerateError when either is gone."""
        model = self._model_entry(take.recipe.model_id)
        if model is None:
            raise GenerateError(f"The model {take.recipe.model_id} of this take is not installed.")
        return model, self.voice_spec(take.recipe.voice_id, model[2], model[1])

    # ---- regenerate one chunk ----------------------------------------------------------------
    def regenerate_chunk(self, take: Take, index: int, seed: int | None = None) -> bool:
        """Generate chunk `index` of `take` again (new seed) and splice it in with crossfades; the
        result is a new take, the original stays."""
        if self.busy:
            return False
        try:
            if not (0 <= index < len(take.chunk_spans)) or index >= len(take.recipe.chunks):
                raise GenerateError("This take has no chunk map (made before chunks were recorded).")
            model, voice = self._take_sources(take)
        except GenerateError as e:
            self._say(str(e), error=True)
            return False
        self._ensure_loaded(*model)
        seed = seed if seed is not None else seeds_for(GenerateSettings(seed=None))[0]
        edited = dataclasses.replace(take.recipe, options={
            **take.recipe.options, "edited_from": take.id,
            "regenerated_chunks": {**take.recipe.options.get("regenerated_chunks", {}), str(index): seed}})
        req = request_from_recipe(dataclasses.replace(take.recipe, text=take.recipe.chunks[index], seed=seed), voice)
        req.normalize_text = False  # the chunk is already the backend's normalized text
        job = TakeJob(request=req, recipe=edited)
        self._chunk_edits[job.job_id] = (take, index)
        self._start([job])
        return True

    def _spliced(self, edit, new_audio, sr):
        take, index = edit
        old, _ = self.takes.load_audio(take)
        start, end = take.chunk_spans[index]
        audio, new_start, new_end = splice(old, sr, start, end, new_audio)
        shift = new_end - end
        spans = [(a, b) if i < index else (new_start, new_end) if i == index else (a + shift, b + shift)
                 for i, (a, b) in enumerate(take.chunk_spans)]
        # The codes no longer describe the spliced audio frame for frame: keep none rather than wrong ones.
        self._say(f"Chunk {index + 1} regenerated; saved as a new take.")
        return audio, spans, None

    def _check_rerender(self, original: Take, new: Take) -> None:
        a, _ = self.takes.load_audio(original)
        b, _ = self.takes.load_audio(new)
        same = a.shape == b.shape and np.array_equal(a, b)
        if same:
            self._say("Re-render matches the original take bit for bit.")
        else:
            diff = float(np.max(np.abs(a[:min(len(a), len(b))] - b[:min(len(a), len(b))]))) if len(a) and len(b) else 1.0
            self._say(f"Re-render differs from the original (max difference {diff:.2e}, {len(a)} vs {len(b)} "
                      f"samples): device or engine version changed?", error=True)
        self.rerenderChecked.emit(new.id, same)


    # ---- hear the first k codebooks -----------------------------------------------------------
    @staticmethod
    def can_decode_codes() -> bool:
        """Decoding needs the model's codec, which lives on the engine thread: the engine job
        `DecodeCodes(codes, n_codebooks, model_id)` (Done.result is a DecodedAudio)."""
        import engine.jobs as jobs

        return hasattr(jobs, "DecodeCodes")

    def hear_codebooks(self, take: Take, k: int) -> bool:
        import engine.jobs as jobs

        codes = self.takes.load_codes(take)
        if codes is None or not self.can_decode_codes():
            self._say("Hearing single codebooks needs the engine's DecodeCodes job (not available yet).",
                      error=True)
            return False
        model = self._model_entry(take.recipe.model_id)
        if model is None:
            self._say(f"The model {take.recipe.model_id} of this take is not installed.", error=True)
            return False
        self._ensure_loaded(*model)
        req = jobs.DecodeCodes(codes=codes, n_codebooks=int(k), model_id=take.recipe.model_id)
        self._decode_jobs[req.job_id] = (take, int(k))
        self.bridge.submit(req)
        return True

    def _on_decoded(self, ev) -> bool:
        """Done for a DecodeCodes job: play the partial-codebook audio. True if it was one."""
        entry = self._decode_jobs.pop(ev.job_id, None)
        if entry is None:
            return False
        take, k = entry
        try:
            self.ctx.player.play(np.asarray(ev.result.audio, np.float32), ev.result.sample_rate)
            self._say(f"Playing codebooks 1..{k} of this take.")
        except Exception as e:
            self._say(f"Cannot play: {e}", error=True)
        return True
