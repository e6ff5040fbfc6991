"""Datasets: export one to a trainer's format, or segment a long recording into clips.

  mynah dataset list
  mynah dataset export NAME --format ljspeech --out DIR [--eval 0.05] [--all-takes] [--sr 22050] ...
  mynah dataset segment LONG.wav --out DIR [--min 1 --max 12] [--no-asr]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="dataset_command", required=True)
    sub.add_parser("list", help="list datasets in the library")
    e = sub.add_parser("export", help="export a dataset (LJSpeech, audiofolder, XTTS, JSONL)")
    e.add_argument("name", help="dataset name (see `mynah dataset list`)")
    e.add_argument("--format", default="ljspeech", choices=["ljspeech", "audiofolder", "xtts", "jsonl"])
    e.add_argument("--out", required=True, type=Path, help="folder to create (must be empty or absent)")
    e.add_argument("--overwrite", action="store_true", help="replace a non-empty --out (old one goes to the trash)")
    e.add_argument("--eval", type=float, default=0.0, help="share of clips held out for evaluation")
    e.add_argument("--all-takes", action="store_true", help="export every usable take, not just the best")
    e.add_argument("--no-trim", action="store_true")
    e.add_argument("--pad", type=float, default=0.15, help="seconds of silence kept when trimming")
    e.add_argument("--lufs", type=float, default=-23.0, help="loudness target; use --no-normalize to keep levels")
    e.add_argument("--no-normalize", action="store_true")
    e.add_argument("--sr", type=int, default=None, help="target sample rate (default: keep)")
    e.add_argument("--bits", type=int, default=16, choices=[16, 24])
    s = sub.add_parser("segment", help="cut a long recording into clips at pauses (+ ASR transcripts)")
    s.add_argument("audio", type=Path)
    s.add_argument("--out", required=True, type=Path)
    s.add_argument("--min", type=float, default=1.0, dest="min_s")
    s.add_argument("--max", type=float, default=12.0, dest="max_s")
    s.add_argument("--pad", type=float, default=0.15)
    s.add_argument("--no-asr", action="store_true", help="skip transcription")


def run(args: argparse.Namespace) -> int:
    try:
        return {"list": _list, "export": _export, "segment": _segment}[args.dataset_command](args)
    except Exception as exc:  # a CLI user gets one line, not a traceback
        from studio.core.dataset_export import ExportError

        known = (ExportError, ValueError, OSError)
        print(f"error: {exc}" if isinstance(exc, known) else f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _store():
    from studio.core.datasets import DatasetStore
    from studio.core.library import open_library
    from studio.core.paths import get_paths

    paths = get_paths()
    return DatasetStore(open_library(paths.library_db), paths)


def _list(args) -> int:
    store = _store()
    for d in store.list():
        n = len(store.best_takes(d.id))
        print(f"{d.name}\t{d.speaker}\t{d.sample_rate} Hz\t{n}/{len(store.prompts(d.id))} prompts recorded")
    return 0


def _export(args) -> int:
    from studio.core import dataset_export as E

    store = _store()
    match = [d for d in store.list() if d.name == args.name]
    if not match:
        print(f"error: no dataset named {args.name!r} (see `mynah dataset list`)", file=sys.stderr)
        return 1
    ds = match[0]
    opts = E.ExportOptions(format=args.format, eval_fraction=args.eval, best_only=not args.all_takes,
                           trim=not args.no_trim, pad_s=args.pad,
                           target_lufs=None if args.no_normalize else args.lufs, sample_rate=args.sr,
                           bit_depth=args.bits)
    items = E.collect_items(store, ds.id, best_only=opts.best_only)

    def progress(done, total):
        print(f"\r{done}/{total} clips", end="", file=sys.stderr, flush=True)
    res = E.export_dataset(items, args.out, opts, overwrite=args.overwrite, progress=progress,
                           card_info={"name": ds.name, "speaker": ds.speaker, "language": ds.language,
                                      "consent": ds.consent})
    print(f"\nexported {len(res.clips)} clips ({res.hours * 60:.1f} min) to {res.folder}")
    return 0


def _segment(args) -> int:
    import csv

    import soundfile as sf

    from engine.audio.io import read_audio
    from engine.audio.segment import SegmentOptions, segment_audio, transcribe_segments

    if args.out.exists() and any(args.out.iterdir()):
        print(f"error: {args.out} is not empty", file=sys.stderr)
        return 1
    a = read_audio(args.audio, mono=True)
    from engine.provenance import warning_for

    flag = warning_for(a.samples, a.sample_rate)
    if flag:
        print(f"warning: {args.audio.name}: {flag}", file=sys.stderr)
    segs, _ = segment_audio(a.samples, a.sample_rate, SegmentOptions(min_s=args.min_s, max_s=args.max_s, pad_s=args.pad))
    print(f"{len(segs)} segments", file=sys.stderr)
    if not args.no_asr:
        from studio.core.asr_choice import user_transcriber_args
        from studio.core.dataset_qc import find_transcriber

        tr = find_transcriber(**user_transcriber_args())
        if tr is None:
            print("no ASR available: writing segments without text", file=sys.stderr)
        else:
            segs = transcribe_segments(a.samples, a.sample_rate, segs, tr,
                                       progress=lambda d, n: print(f"\rtranscribed {d}/{n}", end="", file=sys.stderr))
            print(file=sys.stderr)
    (args.out / "wavs").mkdir(parents=True, exist_ok=True)
    with open(args.out / "segments.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["file_name", "start_s", "end_s", "text"])
        for i, s in enumerate(segs):
            name = f"{args.audio.stem}_{i + 1:04d}.wav"
            x = a.samples[int(s.start_s * a.sample_rate): int(s.end_s * a.sample_rate)]
            sf.write(str(args.out / "wavs" / name), x, a.sample_rate, subtype="PCM_16")
            w.writerow([f"wavs/{name}", f"{s.start_s:.3f}", f"{s.end_s:.3f}", s.text])
    print(f"wrote {len(segs)} clips and segments.csv to {args.out}")
    return 0
