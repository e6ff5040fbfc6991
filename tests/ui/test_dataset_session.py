"""The Dataset workspace end to end through the real PulseAudio loopback: 5 prompts recorded with
hotkeys while real speech plays into the null sink, then an LJSpeech export that holds exactly that
audio and those prompts."""
from __future__ import annotations

import time

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt

from engine.text.prompts import Prompt

CLIPS = ["vctk_p225_003.wav", "vctk_p226_003.wav", "cmuarctic_aew_arctic_a0001.wav",
         "vctk_p225_011.wav", "ljspeech_lj_LJ001-0005.wav"]


@pytest.fixture
def workspace(qtbot, qapp):
    from studio.core.library import Library
    from studio.core.paths import get_paths
    from studio.core.settings import Settings
    from studio.ui.context import StudioContext
    from studio.ui.dataset.workspace import DatasetWorkspace

    paths = get_paths()
    ctx = StudioContext(paths=paths, library=Library(paths.library_db), settings=Settings())
    ws = DatasetWorkspace(ctx)
    qtbot.addWidget(ws)
    ws.resize(1200, 760)
    yield ws
    ws.shutdown()
    from studio.ui.widgets.background import shutdown_pools

    shutdown_pools()
    ctx.library.close()


def matched_windows(recording, reference, sr, win_s=0.5):
    """Share of the reference's voiced 0.5 s windows found in the recording (normalized correlation
    > 0.9) at non-decreasing offsets, and the global correlation. Windows, not one global score: on a
    loaded 2-core machine the player can underrun and insert a short gap, which shifts everything
    after it without making the take any less the clip that was played."""
    from scipy import signal

    w = int(win_s * sr)
    csum = np.concatenate([[0.0], np.cumsum(recording.astype(np.float64) ** 2)])
    energy = np.sqrt(np.maximum(csum[w:] - csum[:-w], 0.0))  # [len(recording) - w + 1]
    found, offsets, voiced = 0, [], 0
    for i in range(0, len(reference) - w, w):
        ref = reference[i:i + w]
        if np.sqrt(np.mean(ref ** 2)) < 0.01:
            continue
        voiced += 1
        c = signal.correlate(recording, ref, mode="valid", method="fft") / (energy * np.linalg.norm(ref) + 1e-3)
        k = int(np.argmax(c))
        if c[k] > 0.9 and (not offsets or k - i >= offsets[-1] - int(0.01 * sr)):
            found += 1
            offsets.append(k - i)
    full = signal.correlate(recording, reference, mode="valid", method="fft")
    k = int(np.argmax(np.abs(full)))
    seg = recording[k:k + len(reference)]
    return found / max(1, voiced), float(full[k] / (np.linalg.norm(seg) * np.linalg.norm(reference) or 1.0))


def _play_into_sink(player, x, sr):
    """Play at 48 kHz (the sink's rate) so PulseAudio does no resampling on a loaded machine."""
    from engine.audio.resample import resample

    player.play(resample(x, sr, 48000), 48000)


@pytest.mark.audio
def test_record_five_prompts_with_hotkeys_then_export(qtbot, workspace, pulse_sink, speech_clips, tmp_path):
    ws = workspace
    rows = {r["file"]: r for r in speech_clips}
    ds = ws.store.create("Loopback", speaker="Tester", sample_rate=24000)
    ws.store.add_prompts(ds.id, [Prompt(f"lp{i}", rows[f]["transcript"]) for i, f in enumerate(CLIPS)])
    ws.qc.use_asr.setChecked(False)  # QC without ASR keeps the test short; ASR QC is tested elsewhere
    ws.reload_list(ds.id)
    ws.open_dataset(ds.id)
    ws.show()
    qtbot.waitExposed(ws)
    tp = ws.teleprompter
    from studio.core.player import Player

    player = Player()
    tp._stop_monitor()  # the monitor would share the loopback; the test starts recording right away
    played = []
    for i, f in enumerate(CLIPS):
        assert tp.index == i and tp.prompt_label.text() == rows[f]["transcript"]
        x, sr = sf.read(str(rows[f]["path"]), dtype="float32")
        qtbot.keyClick(tp, Qt.Key_R)
        assert tp.is_recording
        qtbot.waitUntil(lambda: tp.recorder is not None and tp.recorder.frames_written > 0, timeout=10000)
        qtbot.wait(300)
        _play_into_sink(player, x, sr)
        qtbot.wait(int(1000 * len(x) / sr) + 600)
        qtbot.keyClick(tp, Qt.Key_R)
        assert not tp.is_recording
        qtbot.waitUntil(lambda: not tp.saving, timeout=10000)
        played.append((x, sr))
        if i == 2:  # a retake: record again, discard it with Del, the first take stays best
            qtbot.keyClick(tp, Qt.Key_R)
            qtbot.waitUntil(lambda: tp.recorder is not None and tp.recorder.frames_written > 0, timeout=10000)
            qtbot.wait(300)
            qtbot.keyClick(tp, Qt.Key_R)
            qtbot.waitUntil(lambda: not tp.saving, timeout=10000)
            assert len(ws.store.takes(ds.id, tp.current.id)) == 2
            qtbot.keyClick(tp, Qt.Key_Delete)
            assert len(ws.store.takes(ds.id, tp.current.id)) == 1
        qtbot.keyClick(tp, Qt.Key_N)
    player.stop()
    assert "5 recorded" in tp.counter.text()
    qtbot.waitUntil(lambda: not ws.qc.busy, timeout=60000)
    ws.qc.refresh()
    assert ws.qc.table.model().rowCount() == 5
    # Real speech through the mic carries no AI watermark: QC checked every take and flagged none.
    assert all(t.qc["watermark"] < 0.5 and "watermark" not in t.qc["flags"] for t in ws.store.takes(ds.id))
    tp.grab().save(str(tmp_path / "teleprompter.png"))
    ws.grab().save(str(tmp_path / "workspace.png"))

    dlg = ws.open_export()
    dlg.dest.setText(str(tmp_path / "lj"))
    dlg.normalize.setChecked(False)
    dlg.trim.setChecked(False)
    with qtbot.waitSignal(dlg.exported, timeout=60000) as blocker:
        dlg.start()
    assert blocker.args[0] is not None, dlg.status.text()
    lines = (tmp_path / "lj" / "metadata.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5
    for line, f, (x, sr) in zip(lines, CLIPS, played):
        uid, text, _norm = line.split("|")
        assert text == rows[f]["transcript"]
        y, ysr = sf.read(str(tmp_path / "lj" / "wavs" / f"{uid}.wav"), dtype="float32")
        from engine.audio.resample import resample
        ref = resample(x, sr, ysr)
        assert len(y) > len(ref), f"{uid}: the take is shorter than what was played"
        share, corr = matched_windows(y, ref, ysr)
        print(f"{uid}: {share:.0%} of the played clip found in order (global correlation {corr:.3f})")
        assert share >= 0.8, f"{uid} does not contain the clip that was played ({share:.0%} matched)"
