"""The evaluation report and `mynah eval` on a small folder of real speech."""
from __future__ import annotations

import csv

import pytest
import soundfile as sf

from engine.eval.asr import bundled_whisper_dir
from engine.eval.report import ReportInputError, discover_systems, read_prompts, run_report
from engine.eval.text_norm import normalize_text
from studio.cli import main as mynah
from tests.engine.test_eval_models import add_noise, shared_scorer

FILES = ["vctk_p225_003.wav", "vctk_p225_011.wav"]


@pytest.fixture
def takes(tmp_path, speech_dir, speech_clips):
    """takes/<system>/<prompt id>.wav for two systems: the real recordings and a noisy copy."""
    prompts = tmp_path / "prompts.tsv"
    rows = {r["file"]: r["transcript"] for r in speech_clips}
    with open(prompts, "w", encoding="utf-8") as f:
        f.write("id\ttext\n")
        for i, name in enumerate(FILES):
            f.write(f"p{i}\t{rows[name]}\n")
    for system in ("real", "noisy"):
        (tmp_path / "takes" / system).mkdir(parents=True)
    for i, name in enumerate(FILES):
        x, sr = sf.read(speech_dir / name, dtype="float32")
        sf.write(tmp_path / "takes" / "real" / f"p{i}.wav", x, sr)
        sf.write(tmp_path / "takes" / "noisy" / f"p{i}_seed{i}.wav", add_noise(x, 0.0, i), sr)
    (tmp_path / "takes" / "noisy" / "notes.txt").write_text("not audio, ignored")
    return tmp_path


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_report_writes_csv_summary_and_plots_that_rank_the_systems(takes, speech_dir):
    if bundled_whisper_dir() is None:
        pytest.skip("bundled Whisper model not installed")
    res = run_report(takes / "takes", takes / "report", scorer=shared_scorer(),
                     prompts=read_prompts(takes / "prompts.tsv"), reference=speech_dir / "vctk_p225_016.wav")
    assert res.warnings == []
    with open(res.csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and {r["system"] for r in rows} == {"real", "noisy"}
    assert {r["prompt_id"] for r in rows} == {"p0", "p1"}
    assert all(r["wer"] and r["similarity"] and r["dnsmos_ovr"] and r["hypothesis"] for r in rows)
    summary = {s["system"]: s for s in res.summary}
    assert summary["real"]["dnsmos_ovr_mean"] > summary["noisy"]["dnsmos_ovr_mean"] + 0.8
    assert summary["real"]["combined_mean"] > summary["noisy"]["combined_mean"]
    assert summary["real"]["wer_pooled"] <= 0.15
    names = sorted(p.name for p in res.plots)
    assert names == ["distributions.png", "wer_vs_similarity.png"]
    for p in res.plots:
        assert p.stat().st_size > 10_000  # an actual chart, not an empty canvas
    with open(res.summary_path, newline="") as f:
        assert [r["system"] for r in csv.DictReader(f)] == ["noisy", "real"]


def test_prompt_files_in_both_layouts_are_read(tmp_path, speech_dir):
    assert read_prompts(speech_dir / "transcripts.tsv")["vctk_p225_003"].startswith("Six spoons")
    bare = tmp_path / "bare.tsv"
    bare.write_text("a1\tHello there.\n\na2\tSecond line\n", encoding="utf-8")
    assert read_prompts(bare) == {"a1": "Hello there.", "a2": "Second line"}
    bad = tmp_path / "bad.tsv"
    bad.write_text("only-an-id\n", encoding="utf-8")
    with pytest.raises(ReportInputError, match="line 1"):
        read_prompts(bad)


def test_folder_without_audio_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportInputError, match="no audio files"):
        discover_systems(tmp_path / "empty")


def test_cli_reports_bad_input_with_a_message_and_exit_code(tmp_path, capsys):
    assert mynah(["eval", "--audio-dir", str(tmp_path / "missing"), "-o", str(tmp_path / "r")]) == 2
    assert "not found" in capsys.readouterr().err
    assert mynah(["eval"]) == 2
    assert "--audio-dir" in capsys.readouterr().err
    assert mynah(["eval", "--audio-dir", str(tmp_path), "--weights", "1,2"]) == 2
    assert "--weights" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        mynah(["eval", "--help"])
    assert "--reference" in capsys.readouterr().out


@pytest.mark.slow
def test_cli_transcribes_files_and_names_a_broken_one(tmp_path, speech_dir, capsys):
    if bundled_whisper_dir() is None:
        pytest.skip("bundled Whisper model not installed")
    import soundfile as sf

    from tests.container_audio import encode

    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....not really a wav")
    clip = speech_dir / "cmuarctic_aew_arctic_a0003.wav"
    x, sr = sf.read(clip, dtype="float32")
    memo = encode(tmp_path / "phone_memo.m4a", x, sr, "ipod", "aac")  # the same words as a phone would save them
    rc = mynah(["eval", "--transcribe", str(clip), str(broken), str(memo)])
    out, err = capsys.readouterr()
    assert rc == 1  # one file failed
    lines = {line.split("\t")[0]: normalize_text(line) for line in out.splitlines()}
    assert "twentieth time that evening" in lines[str(clip)]  # Whisper writes "20th"
    assert "twentieth time that evening" in lines[str(memo)]
    assert "broken.wav" in err


def test_report_flags_a_generated_reference_and_scores_each_take_for_the_watermark(tmp_path, speech_dir):
    from engine import provenance
    from engine.eval.scorer import Scorer

    x, sr = sf.read(speech_dir / FILES[0], dtype="float32")
    (tmp_path / "takes" / "model").mkdir(parents=True)
    sf.write(tmp_path / "takes" / "model" / "p0.wav", provenance.embed(x, sr), sr)
    sf.write(tmp_path / "takes" / "model" / "p1.wav", x, sr)
    sf.write(tmp_path / "ref.wav", provenance.embed(x, sr), sr)
    res = run_report(tmp_path / "takes", tmp_path / "report", scorer=Scorer(), reference=tmp_path / "ref.wav",
                     metrics=(), plots=False)
    assert any("ref.wav" in w and "generated, not recorded" in w for w in res.warnings)
    with open(res.csv_path, newline="") as f:
        marks = {r["prompt_id"]: float(r["watermark"]) for r in csv.DictReader(f)}
    assert marks["p0"] > 0.95 and marks["p1"] < provenance.DETECT_THRESHOLD
