"""Killing the app during a take: reopening resumes at that prompt, earlier takes intact, the
interrupted take recovered up to (at most ~1 s before) the kill. Real Recorder, real PulseAudio."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import soundfile as sf

from engine.text.prompts import Prompt
from studio.core.datasets import DatasetStore
from studio.core.library import open_library
from studio.core.paths import get_paths

CHILD = textwrap.dedent("""
    import sys, time
    from studio.core.datasets import DatasetStore
    from studio.core.library import open_library
    from studio.core.paths import get_paths
    from studio.core.recorder import Recorder

    paths = get_paths()
    store = DatasetStore(open_library(paths.library_db), paths)
    ds_id = int(sys.argv[1])
    for k, p in enumerate(store.prompts(ds_id)[:3]):
        name = store.take_name(p)
        take = store.begin_take(ds_id, p.id, name)
        rec = Recorder(store.takes_folder(ds_id), samplerate=24000, name=name, owner="dataset", owner_ref=str(take))
        store.set_streaming_path(take, rec.start())
        while rec.frames_written == 0:
            time.sleep(0.01)
        if k == 2:
            print("RECORDING", flush=True)
            time.sleep(60)  # killed here
        time.sleep(1.0)
        path = rec.stop()
        store.finish_take(take, path, duration_s=rec.duration_s, sample_rate=24000)
        print("TAKE", k, rec.duration_s, flush=True)
""")


@pytest.mark.audio
def test_kill_during_a_take(pulse_sink, tmp_path):
    import sounddevice as sd

    paths = get_paths()
    lib = open_library(paths.library_db)
    store = DatasetStore(lib, paths)
    ds = store.create("Crash test", sample_rate=24000)
    store.add_prompts(ds.id, [Prompt(f"p{i}", f"Prompt number {i}.") for i in range(5)])

    child = subprocess.Popen([sys.executable, "-c", CHILD, str(ds.id)], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": os.getcwd()})
    lines = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
            if line.startswith("RECORDING"):
                break
        assert lines and lines[-1] == "RECORDING", f"child never reached the third take: {lines}"
        # A tone plays into the loopback while the third take records, then the app is killed.
        tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(48000 * 3) / 48000)).astype(np.float32)
        sd.play(tone, 48000)
        t0 = time.monotonic()
        time.sleep(2.5)
        os.kill(child.pid, signal.SIGKILL)
        killed_after = time.monotonic() - t0
        sd.stop()
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)

    # Reopen, as the app does at start: resume at the third prompt with everything intact.
    store2 = DatasetStore(open_library(paths.library_db), paths)
    assert store2.resume(ds.id) == 2
    prompts = store2.prompts(ds.id)
    best = store2.best_takes(ds.id)
    for k in (0, 1):
        t = best[prompts[k].id]
        assert t.status == "done"
        x, sr = sf.read(str(t.path))
        assert sr == 24000 and len(x) / sr >= 0.9
    t = best[prompts[2].id]
    assert t.status == "recovered"
    x, sr = sf.read(str(t.path), dtype="float32")
    dur = len(x) / sr
    print(f"\nkilled {killed_after:.2f} s into the take; recovered {dur:.2f} s")
    assert dur >= killed_after - 1.2  # at most ~1 s (sync cadence + PulseAudio latency) lost
    assert dur <= killed_after + 1.0
    tail = x[-int(0.5 * sr):]
    assert np.sqrt(np.mean(tail ** 2)) > 0.02, "the recovered take should end with the tone that was playing"
    lib.close()
