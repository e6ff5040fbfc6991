"""The take in progress as it streams in (GUI thread): its audio to the player as soon as there is
any, its codes or latents into the token grid, and the progress bar, both at display rate.

A mixin of SynthesizeController, which owns the state it reads: `jobs` (job id -> TakeJob),
`_stream_job` (the take that plays), `_streaming` / `_fed` / `_feed` (player feeding),
`_rerender_of` / `_chunk_edits` (jobs that must not play), `_grid_frames`, `_progress`, `ctx`,
`view` and `_say`."""
from __future__ import annotations

import numpy as np

from studio.ui.synthesize.generation import TakeJob


class LiveTakeMixin:
    def _on_audio(self, ev) -> None:
        job = self.jobs.get(ev.job_id)
        if job is None:
            return
        job.add_audio(ev.audio, ev.sample_rate, ev.text_chunk_index, ev.is_silence)
        if ev.job_id == self._stream_job and ev.job_id not in self._rerender_of \
                and ev.job_id not in self._chunk_edits:
            if not self._streaming:
                self._stream_to_player(job)  # first sound as soon as there is any
            elif not self._feed.isActive():
                self._feed.start()  # later chunks reach the player at most 4 times a second

    def _feed_player(self) -> None:
        job = self.jobs.get(self._stream_job or "")
        if job is not None and self._streaming:
            self._stream_to_player(job)

    def _stream_to_player(self, job: TakeJob) -> None:
        # The Player keeps its position when its buffer grows, so playback runs on while we append.
        # It gets a view, not a copy: samples already streamed never change (see TakeJob.audio), so
        # each feed costs O(1) instead of copying the whole take so far 4 times a second.
        try:
            if not self._streaming:
                if job.first_audio_s is None:
                    return  # only silence so far
                self.ctx.player.play(job.audio(), job.sample_rate)
                self._streaming = True
                self.first_sound_at = job.first_audio_s
            elif job.n_samples > self._fed:
                self.ctx.player.set_source(job.audio(), job.sample_rate)
            self._fed = job.n_samples
        except Exception as e:  # no output device: keep generating, say why there is no sound
            self._streaming = True
            self._say(f"Cannot play: {e}. Generation goes on.", error=True)

    def _on_codes(self, ev) -> None:
        job = self.jobs.get(ev.job_id)
        if job is not None:
            job.frames.append(ev.codes)

    def _on_latent(self, ev) -> None:  # Pocket TTS: the heat map fills like the token grid
        job = self.jobs.get(ev.job_id)
        if job is not None:
            job.frames.append(ev.latent)

    def _refresh_live_grid(self) -> None:
        # Only the frames that came since the last refresh are drawn (the grid keeps the rest).
        job = self.jobs.get(self._stream_job or "")
        if job is None or not job.frames or len(job.frames) == self._grid_frames:
            return
        if len(job.frames) < self._grid_frames:  # the final codes replaced what was streamed
            self.view.tokens.set_codes(job.codes())
        else:
            self.view.tokens.append_frames(np.stack(job.frames[self._grid_frames:], axis=1))  # [K, new]
        self._grid_frames = len(job.frames)

    def _on_progress(self, ev) -> None:
        job = self.jobs.get(ev.job_id)
        if job is None:
            return
        job.chunk_index, job.chunk_count = ev.text_chunk_index, ev.text_chunk_count
        order = list(self.jobs).index(ev.job_id)
        n = len(self.jobs)
        frac = (order + (ev.fraction or 0.0)) / n
        self._progress = (int(1000 * frac), f"take {order + 1}/{n} · chunk {ev.text_chunk_index + 1}/"
                                            f"{ev.text_chunk_count} · {ev.audio_seconds:.1f} s")

    def _show_progress(self) -> None:
        if self._progress is not None:
            value, text = self._progress
            self._progress = None
            self.view.progress.setFormat(text)
            self.view.progress.setValue(value)
