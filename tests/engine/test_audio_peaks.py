"""Peak pyramid: every envelope entry is exactly the min/max of the raw samples it covers, also
while the file is still streaming in, so a drawn waveform never misses or invents a peak."""
from __future__ import annotations

import numpy as np
import pytest

from engine.audio.peaks import BASE_SPAN, FACTOR, PeakBuilder, build_peaks


def _signal(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = (0.1 * rng.standard_normal(n)).astype(np.float32)
    if n > 10:
        x[rng.integers(0, n, 5)] = rng.uniform(-1, 1, 5).astype(np.float32)  # isolated clicks
    return x


@pytest.mark.parametrize("n", [1, 255, 256, 1000, 4 * 256 * 4 + 17, 300_001])
def test_every_level_is_exact_min_max_of_its_span(n):
    x = _signal(n)
    p = build_peaks(x)
    assert p.complete and p.n_valid == n
    for lv in p.levels:
        assert lv.count == -(-n // lv.span)
        for i in range(lv.count):
            seg = x[i * lv.span: (i + 1) * lv.span]
            assert lv.mins[i] == seg.min() and lv.maxs[i] == seg.max()
    spans = [lv.span for lv in p.levels]
    assert spans == [BASE_SPAN * FACTOR ** k for k in range(len(spans))]


def test_streaming_snapshots_only_show_what_was_read():
    x = _signal(1_000_003, seed=1)
    buf = np.full_like(x, 5.0)  # garbage where nothing was read yet
    b = PeakBuilder(buf)
    pos = 0
    for step in (1, 300, 70_000, 250_000, 400_000, x.size):
        stop = min(x.size, pos + step)
        buf[pos:stop] = x[pos:stop]
        pos = stop
        b.advance(pos)
        snap = b.snapshot()
        for lv in snap.levels:  # no entry reaches past the valid prefix (before completion)
            assert lv.count * lv.span <= pos or snap.complete
            for i in range(0, lv.count, max(1, lv.count // 50)):
                seg = x[i * lv.span: min(pos, (i + 1) * lv.span)]
                assert lv.mins[i] == seg.min() and lv.maxs[i] == seg.max()
        c, mn, mx = snap.envelope(0, x.size, 500)
        assert mx.max() <= 1.0 and (c.size == 0 or c.max() <= pos)  # never the garbage, never past pos
        if pos:
            assert mx.max() == x[:pos].max() and mn.min() == x[:pos].min()
        if pos == x.size:
            break


@pytest.mark.parametrize("start,end,pairs", [(0, 1_000_000, 1300), (123_457, 130_000, 1300),
                                             (500_000, 500_900, 1300), (999_000, 1_000_000, 7),
                                             (0, 1_000_000, 3), (777, 5_000_000, 2600)])
def test_envelope_keeps_every_peak_and_few_points(start, end, pairs):
    x = _signal(1_000_000, seed=2)
    x[654_321] = 0.999  # one-sample spike anywhere must show at any zoom
    x[654_322] = -0.998
    p = build_peaks(x)
    c, mn, mx = p.envelope(start, end, pairs)
    assert c.size <= pairs + 8, "a redraw hands pyqtgraph a bounded number of points"
    assert np.all(np.diff(c) > 0)
    end = min(end, x.size)
    # The envelope covers the range: its extremes are those of the raw samples it spans.
    lo = max(0, start - p.levels[-1].span * 4)
    assert mx.max() <= x[lo:end + p.levels[-1].span * 4].max()
    assert mx.max() >= x[start:end].max() and mn.min() <= x[start:end].min()
    if start <= 654_321 < end:
        assert mx.max() == pytest.approx(0.999) and mn.min() == pytest.approx(-0.998)


@pytest.mark.parametrize("parallel", [False, True])
def test_streaming_read_builds_the_same_pyramid_as_the_whole_signal(tmp_path, monkeypatch, parallel):
    """A long 16-bit stereo import: progress only ever shows decoded audio, and the end result
    equals libsndfile's own float decode and the pyramid of the whole signal."""
    import soundfile as sf

    from engine.audio import io

    if parallel:  # the second half decodes on a helper thread for long files
        monkeypatch.setattr(io, "_PARALLEL_ABOVE", 1000)
    sr = 8000
    x = _signal(sr * 70, seed=3)
    stereo = np.stack([x, 0.5 * x[::-1]], axis=1)
    path = tmp_path / "long.wav"
    sf.write(path, stereo, sr, subtype="PCM_16")
    expected = sf.read(path, dtype="float32")[0].mean(axis=1)

    seen: list[int] = []
    builder: list[PeakBuilder] = []

    def on_block(buf: np.ndarray, n: int) -> None:
        assert not seen or n >= seen[-1]
        seen.append(n)
        np.testing.assert_allclose(buf[:n], expected[:n], atol=1e-6)  # the prefix is final
        if not builder:
            builder.append(PeakBuilder(buf))
        builder[0].advance(n)

    audio = io.read_audio(path, mono=True, on_block=on_block)
    np.testing.assert_allclose(audio.samples, expected, atol=1e-6)
    assert seen[-1] == expected.size and len(seen) > 1
    got, want = builder[0].snapshot(), build_peaks(audio.samples)
    assert got.complete
    for a, b in zip(got.levels, want.levels):
        assert a.count == b.count
        np.testing.assert_array_equal(a.mins[:a.count], b.mins[:b.count])
        np.testing.assert_array_equal(a.maxs[:a.count], b.maxs[:b.count])


@pytest.mark.parametrize("channels,parallel", [(2, False), (2, True), (1, False), (3, True)])
def test_overview_scan_equals_the_pyramid_of_the_decoded_samples(tmp_path, monkeypatch, channels, parallel):
    """The whole-file overview is built before any sample is kept (int16 channel sums, two
    threads on long files); it is bit for bit the pyramid of what read_audio then decodes, so
    the waveform shown early is the exact one."""
    import soundfile as sf

    from engine.audio import io

    if parallel:
        monkeypatch.setattr(io, "_PARALLEL_ABOVE", 1000)
    monkeypatch.setattr(io, "_PCM_BLOCK", 4096)  # many blocks, an odd tail
    sr = 8000
    x = _signal(sr * 30 + 77, seed=4)
    chans = np.stack([x * (0.9 - 0.3 * c) for c in range(channels)], axis=1)
    chans[1000, :] = -1.0  # full-scale negative in every channel: the int16 extreme
    path = tmp_path / "scan.wav"
    sf.write(path, chans, sr, subtype="PCM_16")

    b = PeakBuilder(length=x.size)
    prefixes: list[int] = []

    def prefix(n: int) -> None:
        prefixes.append(n)
        b.advance_base(n)
        snap = b.snapshot()  # while scanning: only what was delivered, no samples
        assert snap.n_valid == 0 and snap.extent <= max(n, 0) + BASE_SPAN

    assert io.scan_mono(path, b.add_base, prefix) == x.size
    assert prefixes == sorted(prefixes) and prefixes[-1] == x.size
    audio = io.read_audio(path, mono=True)
    got, want = b.snapshot(audio.samples, audio.samples.size), build_peaks(audio.samples)
    assert got.complete and got.n_valid == x.size
    for a, w in zip(got.levels, want.levels):
        assert a.count == w.count
        np.testing.assert_array_equal(a.mins[:a.count], w.mins[:w.count])
        np.testing.assert_array_equal(a.maxs[:a.count], w.maxs[:w.count])


def test_overview_without_samples_draws_level_0_when_zoomed_in():
    """Before the samples are decoded, a deep zoom shows the exact 256-sample envelope (never
    empty, never invented); once samples are attached it draws them."""
    x = _signal(100_000, seed=5)
    x[50_000] = 0.95
    b = PeakBuilder(length=x.size)
    b.add_base(0, x[:51_200])
    b.add_base(51_200, x[51_200:])
    b.advance_base(x.size)
    early = b.snapshot()
    assert early.complete and early.n_valid == 0 and early.extent == x.size
    c, mn, mx = early.envelope(49_900, 50_100, 400)  # finer than level 0
    assert c.size and mx.max() == np.float32(0.95)
    assert np.all(np.diff(c) > 0) and c.min() >= 49_600 and c.max() <= 50_400
    later = b.snapshot(x, x.size)
    c2, mn2, mx2 = later.envelope(49_900, 50_100, 400)
    assert c2.size > c.size and mx2.max() == np.float32(0.95)  # now the samples themselves
