"""Streaming a take into the Synthesize view: the live token grid (frames streamed in pieces look
exactly like the finished take's grid; the time axis grows in steps, since a moving axis relays out
every linked plot, and always covers the codes), and the audio handed to the player while it grows."""
from __future__ import annotations

import numpy as np

from engine.jobs import Synthesize
from studio.core.takes import TakeRecipe
from studio.ui.synthesize.generation import TakeJob
from studio.ui.widgets.token_grid import TokenGrid, token_colors


def _shown(grid: TokenGrid) -> np.ndarray:
    return np.asarray(grid.image.image)  # [T, n_codebooks, 3] as drawn


def test_streamed_frames_draw_the_same_grid_as_the_whole_take(qtbot):
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 2048, size=(8, 150))  # [n_codebooks, T]
    grid = TokenGrid(frame_rate=12.5)
    qtbot.addWidget(grid)
    grid.resize(600, 200)
    grid.show()
    x_ranges = []
    for start in range(0, 150, 7):  # pieces of 7 frames, as the live refresh hands them over
        grid.append_frames(codes[:, start:start + 7])
        lo, hi = grid.getPlotItem().getViewBox().viewRange()[0]
        assert hi >= grid.codes.shape[1] / 12.5 - 1e-6  # every frame so far is inside the view
        x_ranges.append(round(hi, 6))
    assert np.array_equal(grid.codes, codes)
    assert np.array_equal(_shown(grid), token_colors(codes))
    assert len(set(x_ranges)) < len(x_ranges) / 3  # the axis moved in a few steps, not per piece

    whole = TokenGrid(frame_rate=12.5)
    qtbot.addWidget(whole)
    whole.set_codes(codes)
    assert np.array_equal(_shown(whole), _shown(grid))
    lo, hi = whole.getPlotItem().getViewBox().viewRange()[0]
    assert abs(hi - 150 / 12.5) < 1e-6  # a finished take fills the view exactly


def test_a_new_stream_starts_empty_and_a_codebook_change_restarts(qtbot):
    grid = TokenGrid()
    qtbot.addWidget(grid)
    grid.append_frames(np.arange(32).reshape(4, 8))
    grid.set_codes(None)  # Generate clears the grid
    assert grid.codes is None and grid.image.image is None
    grid.append_frame(np.array([1, 2, 3, 4]))
    assert grid.codes.shape == (4, 1)
    grid.append_frames(np.ones((32, 3), int))  # another model: 32 codebooks
    assert grid.codes.shape == (32, 3)


def test_audio_handed_to_the_player_is_not_changed_by_later_chunks():
    job = TakeJob(request=Synthesize(text="hi", model_id="m"), recipe=TakeRecipe(model_id="m", text="hi"))
    rng = np.random.default_rng(1)
    chunks = [rng.standard_normal(n).astype(np.float32) for n in (1920, 30000, 50000, 7)]
    job.add_audio(chunks[0], 24000, 0, False)
    playing = job.audio()  # what the player streams from (no copy)
    for c in chunks[1:]:  # later chunks fill and outgrow the buffer
        job.add_audio(c, 24000, 0, False)
    assert np.array_equal(playing, chunks[0])
    assert np.array_equal(job.audio(), np.concatenate(chunks))
    job.set_audio(np.zeros(10, np.float32), 24000)  # the engine's final take replaces the stream
    assert np.array_equal(playing, chunks[0])
