"""Check audio files for the AI watermark Mynah (and Chatterbox/Resemble) puts on generated speech.

Examples:
  mynah detect take.wav interview.flac
  mynah detect --span 5 long_recording.wav     score every 5 s of a long file as well
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

EPILOG = """\
One line per file: the score (0..1; 0.5 and above: marked), then the verdict. Files longer than two
spans also get a line per span, so a generated passage inside a recording shows where it is.
Content credentials (C2PA) in or beside a file are shown too. Exit status: 0 none marked,
1 at least one marked, 2 a file could not be read.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.splitlines()[0]
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--span", type=float, default=10.0, help="seconds per span for long files (default 10)")


def run(args: argparse.Namespace) -> int:
    from engine import provenance
    from engine.audio.io import AudioFileError, read_audio
    from engine.provenance.credentials import read_credentials

    if not args.span > 0:
        print("mynah detect: --span must be a positive number of seconds", file=sys.stderr)
        return 2
    any_marked, unreadable = False, False
    for f in args.files:
        try:
            a = read_audio(f)
        except (AudioFileError, FileNotFoundError, OSError) as exc:
            print(f"{f}\terror: {exc}", file=sys.stderr)
            unreadable = True
            continue
        try:
            det = provenance.detect_spans(a.samples, a.sample_rate, span_s=args.span)
        except provenance.WatermarkUnavailable as exc:
            print(f"mynah detect: {exc}", file=sys.stderr)
            return 2
        any_marked |= det.marked
        verdict = "AI watermark: generated, not recorded" if det.score >= provenance.DETECT_THRESHOLD \
            else ("no watermark overall; marked spans below" if det.marked else "no AI watermark")
        print(f"{f}\t{det.score:.3f}\t{verdict}")
        for start, end, score in det.spans:
            flag = "  marked" if score >= provenance.DETECT_THRESHOLD else ""
            print(f"  {start:7.1f}-{end:7.1f} s\t{score:.3f}{flag}")
        try:
            creds = read_credentials(f)
        except Exception as exc:  # a broken manifest is reported, never fatal
            print(f"  content credentials unreadable: {exc}")
            creds = None
        if creds is not None:
            print(f"  {creds.summary()}")
    if unreadable:
        return 2
    return 1 if any_marked else 0
