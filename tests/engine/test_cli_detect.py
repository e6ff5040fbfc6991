"""`mynah detect FILE...`: a score per file, per span for long files, and a clear exit status."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from studio.cli import main


@pytest.fixture(scope="module")
def files(speech_clips, tmp_path_factory):
    from engine import provenance
    from engine.audio.resample import resample

    d = tmp_path_factory.mktemp("detect")
    row = next(r for r in speech_clips if r["file"].startswith("librispeech"))
    x, sr = sf.read(str(row["path"]), dtype="float32")
    x = resample(x, sr, 24000)
    clean, marked = d / "recording.flac", d / "take.wav"
    sf.write(clean, x, 24000)
    sf.write(marked, provenance.embed(x, 24000), 24000, subtype="PCM_16")
    long = d / "long.wav"  # a recording with a generated passage from 20 s on
    base = np.tile(x, 5)[: 24000 * 30]
    base[24000 * 20:] = provenance.embed(base[24000 * 20:], 24000)
    sf.write(long, base, 24000)
    return clean, marked, long


def test_scores_per_file_and_exit_status(files, capsys):
    clean, marked, _ = files
    assert main(["detect", str(clean)]) == 0
    out = capsys.readouterr().out
    assert "no AI watermark" in out and float(out.split("\t")[1]) < 0.05
    assert main(["detect", str(clean), str(marked)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith(str(marked)) and "generated, not recorded" in lines[1]
    assert float(lines[1].split("\t")[1]) > 0.95


def test_long_files_get_a_line_per_span(files, capsys):
    _, _, long = files
    assert main(["detect", "--span", "10", str(long)]) == 1
    out = capsys.readouterr().out.splitlines()
    spans = [line for line in out[1:] if " s\t" in line]
    assert len(spans) == 3  # 0-10, 10-20, 20-30 s
    scores = [float(s.split("\t")[1].split()[0]) for s in spans]
    assert scores[0] < 0.05 and scores[1] < 0.05 and scores[2] > 0.95
    assert spans[2].endswith("marked") and not spans[0].endswith("marked")


def test_an_unreadable_file_is_named_and_exit_2(tmp_path, capsys):
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all")
    assert main(["detect", str(junk)]) == 2
    assert "junk.wav" in capsys.readouterr().err
