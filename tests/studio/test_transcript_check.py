"""Folder datasets: the ASR check before training flags a transcript that does not match its audio
and leaves the clip out (a flag keeps it); what the recognizer heard is cached."""
from __future__ import annotations

import argparse
import shutil

import pytest

from tests.engine.train_helpers import speaker_clips

WRONG = "The museum opens at nine on Sundays and closes early in winter."


def _folder(tmp_path, speech_dir):
    folder = tmp_path / "clips"
    folder.mkdir()
    clips = speaker_clips(speech_dir, n=3)
    for i, c in enumerate(clips):
        shutil.copy(c.path, folder / c.path.name)
        (folder / c.path.name).with_suffix(".txt").write_text(WRONG if i == 0 else c.text, encoding="utf-8")
    return folder, clips


def test_a_wrong_transcript_is_flagged_left_out_and_the_check_is_cached(tmp_path, speech_dir):
    from engine.train.data import clips_from_folder
    from studio.core.dataset_qc import find_transcriber
    from studio.core.transcript_check import check_transcripts

    transcribe = find_transcriber()
    if transcribe is None:
        pytest.skip("no speech recognizer installed")
    heard = []

    def counting(x, sr):
        heard.append(1)
        return transcribe(x, sr)

    folder, clips = _folder(tmp_path, speech_dir)
    cache = tmp_path / "asr-check.json"
    got = check_transcripts(clips_from_folder(folder), counting, recognizer="tiny", cache_file=cache)
    assert [c.key for c in got.flagged_clips] == [clips[0].key]
    assert "does not match" in got.flagged[0] and clips[0].key in got.flagged[0]
    assert sorted(c.key for c in got.kept) == sorted(c.key for c in clips[1:])
    assert len(heard) == 3
    again = check_transcripts(clips_from_folder(folder), counting, recognizer="tiny", cache_file=cache,
                              keep_mismatched=True)
    assert len(heard) == 3  # cached: nothing transcribed twice
    assert len(again.kept) == 3 and [c.key for c in again.flagged_clips] == [clips[0].key]


def test_the_cli_leaves_the_mismatch_out_and_names_it(tmp_path, speech_dir, capsys):
    from studio.cli.finetune import _clips, add_arguments
    from studio.core.dataset_qc import find_transcriber

    if find_transcriber() is None:
        pytest.skip("no speech recognizer installed")
    folder, clips = _folder(tmp_path, speech_dir)
    p = argparse.ArgumentParser()
    add_arguments(p)
    kept, left_out, name = _clips(p.parse_args(["--folder", str(folder)]))
    assert sorted(c.key for c in kept) == sorted(c.key for c in clips[1:]) and name == "clips"
    assert len(left_out) == 1 and left_out[0].startswith(clips[0].key)
    assert "--keep-mismatched" in capsys.readouterr().err
    kept, left_out, _ = _clips(p.parse_args(["--folder", str(folder), "--keep-mismatched"]))
    assert len(kept) == 3 and left_out == []
