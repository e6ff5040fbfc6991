"""Adding a long recording to a dataset: one that carries the AI watermark (generated speech, not a
recording to train on) is flagged in the panel and the status bar; a real one is not; once added,
each of its segments is a take whose QC carries the "watermark" flag."""
from __future__ import annotations

import numpy as np
import soundfile as sf

from tests.ui.test_dataset_panels import workspace  # noqa: F401  the same workspace fixture


def _long(speech_clips, path, mark: bool):
    from engine import provenance

    rows = [r for r in speech_clips if r["file"].startswith("vctk_p225")][:3]
    parts = []
    for r in rows:
        x, sr = sf.read(str(r["path"]), dtype="float32")
        parts += [x, np.zeros(int(0.7 * sr), np.float32)]
    audio = np.concatenate(parts)
    sf.write(str(path), provenance.embed(audio, sr) if mark else audio, sr)


def test_a_generated_long_recording_is_flagged(qtbot, workspace, speech_clips, tmp_path):  # noqa: F811
    ws = workspace
    ds = ws.store.create("Long", sample_rate=24000)
    ws.open_dataset(ds.id)
    messages = []
    ws.ctx.status.message.connect(lambda m, t: messages.append(m))
    panel = ws.long
    panel.asr.setChecked(False)
    for name, mark in (("real.wav", False), ("generated.wav", True)):
        _long(speech_clips, tmp_path / name, mark)
        with qtbot.waitSignal(panel.segmented, timeout=60000):
            ws.import_files([tmp_path / name])
        flagged = "it was generated, not recorded" in panel.status.text()
        assert flagged == mark, panel.status.text()
    assert any("AI watermark" in m for m in messages)
    # Added to the dataset: every segment's QC (run for the imported takes) flags the mark.
    with qtbot.waitSignal(ws.qc.qcFinished, timeout=120000):
        panel.add_to_dataset()
    takes = ws.store.takes(ds.id)
    assert takes and all("watermark" in t.qc.get("flags", []) for t in takes), [t.qc for t in takes]
