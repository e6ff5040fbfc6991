"""Fine-tune a model on a recorded dataset or a folder of clips (LoRA), headless.

  mynah finetune --model CSM_DIR --dataset NAME [--preset cpu-quick] [--out RUN_DIR] [--name VOICE]
  mynah finetune --model CSM_DIR --folder CLIPS_DIR ...        (wav/flac + .txt / transcripts.tsv)
  mynah finetune --resume RUN_DIR                              (after a pause, crash or restart)
  torchrun --nproc_per_node 2 -m studio.cli finetune ...       (DDP: gloo on CPU, nccl on GPUs)
  mynah finetune import ADAPTER_DIR [--base CSM_DIR] [--name VOICE]

A finished run's last checkpoint becomes a tuned voice under <models>/tuned/<name>; give that
folder as --model to `mynah synth` (its adapter hash is in the model's id and weights hash).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", nargs="?", default="train", choices=["train", "import"],
                   help="train (default) or import an adapter trained elsewhere")
    p.add_argument("path", nargs="?", type=Path, help="with import: the adapter folder")
    p.add_argument("--model", type=Path, help="base model folder (CSM-1B)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--dataset", help="a dataset in the library (name or id): best takes")
    src.add_argument("--folder", type=Path, help="a folder of audio files with transcripts")
    p.add_argument("--all-qc", action="store_true", help="keep takes whose QC found issues")
    p.add_argument("--keep-mismatched", action="store_true",
                   help="--folder: keep clips whose transcript the ASR check says does not match the audio")
    p.add_argument("--no-asr-check", action="store_true", help="--folder: do not check transcripts with ASR")
    p.add_argument("--max-transcript-wer", type=float, default=None,
                   help="--folder: a transcript is flagged above this WER against what the ASR heard (default 0.5)")
    p.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue a run from its folder")
    p.add_argument("--out", type=Path, help="run folder (default: <models>/runs/<name>)")
    p.add_argument("--name", help="name of the tuned voice (default: the dataset or folder name)")
    p.add_argument("--tuned-dir", type=Path, help="where tuned voices go (default: <models>/tuned)")
    p.add_argument("--base", type=Path, help="with import: the base model the adapter was trained on")
    p.add_argument("--preset", choices=["cpu-quick", "gpu-standard"], help="default: by device")
    p.add_argument("--device", default="auto")
    for name, typ, hlp in (("rank", int, "LoRA rank"), ("alpha", float, "LoRA alpha"), ("lr", float, "learning rate"),
                           ("epochs", float, None), ("max-steps", int, None), ("batch-size", int, "per process"),
                           ("depth-fraction", float, "share of frames for the depth loss (1 = all)"),
                           ("checkpoint-every", int, "steps"), ("eval-every", int, "steps"),
                           ("max-clip-seconds", float, None), ("heldout", float, "share of sentences held out"),
                           ("warmup-steps", int, None), ("seed", int, None)):
        p.add_argument(f"--{name}", type=typ, help=hlp)
    p.add_argument("--targets", help="comma-separated: q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj")
    p.add_argument("--dtype", help="fp32 / bf16 / fp16 (default: the preset's)")
    p.add_argument("--events-json", action="store_true",
                   help="also print every event as one JSON line on stdout (for the studio)")


def _config(args):
    from engine.train.config import PRESETS, preset_for
    from engine.train.lora import LoraSettings

    device = args.device
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    cfg = PRESETS[args.preset or preset_for(device)]
    lo = cfg.lora
    lo = LoraSettings(rank=args.rank or lo.rank, alpha=args.alpha or (2.0 * args.rank if args.rank else lo.alpha),
                      targets=tuple(args.targets.split(",")) if args.targets else lo.targets, parts=lo.parts)
    changes = {k: v for k, v in dict(
        lr=args.lr, epochs=args.epochs, max_steps=args.max_steps, batch_size=args.batch_size,
        depth_fraction=args.depth_fraction, checkpoint_every=args.checkpoint_every, eval_every=args.eval_every,
        max_clip_seconds=args.max_clip_seconds, heldout_fraction=args.heldout, warmup_steps=args.warmup_steps,
        seed=args.seed, dtype=args.dtype).items() if v is not None}
    return cfg.with_(lora=lo, **changes)


class Printer:
    """Events as lines on stderr (rank 0 only under torchrun); with `json`, also as JSON lines on
    stdout: {"event": "StepDone", "step": ..., ...}."""

    def __init__(self, quiet: bool, json_lines: bool = False) -> None:
        self.quiet, self.last, self.json_lines = quiet, 0.0, json_lines

    def __call__(self, e) -> None:
        import dataclasses
        import json

        from engine.train import events as ev

        if self.quiet:
            return
        if self.json_lines and dataclasses.is_dataclass(e):
            print(json.dumps({"event": type(e).__name__, **dataclasses.asdict(e)}), flush=True)
        if isinstance(e, ev.TrainStarted):
            print(f"training on {e.train_takes} takes ({e.train_seconds / 60:.1f} min of audio), "
                  f"{e.heldout_takes} held out; {e.total_steps} steps"
                  + (f", resuming at step {e.start_step}" if e.start_step else ""), file=sys.stderr)
            for why in e.left_out:
                print(f"  left out: {why}", file=sys.stderr)
        elif isinstance(e, ev.StepDone):
            now = time.monotonic()
            if now - self.last >= 2.0 or e.step == e.total_steps:
                self.last = now
                eta = f"{e.eta_s / 60:.1f} min" if e.eta_s is not None else "measuring"
                print(f"step {e.step}/{e.total_steps} loss {e.loss:.3f} (backbone {e.backbone_loss:.3f}, "
                      f"depth {e.depth_loss:.3f}) {e.steps_per_s:.2f} steps/s ETA {eta} "
                      f"mem {e.peak_memory_bytes / 2**30:.1f} GiB", file=sys.stderr)
        elif isinstance(e, ev.HeldOutLoss):
            print(f"  held-out loss at step {e.step}: {e.loss:.3f}", file=sys.stderr)
        elif isinstance(e, ev.CheckpointSaved):
            print(f"  checkpoint {Path(e.path).name} (adapter {e.adapter_hash})", file=sys.stderr)
        elif isinstance(e, ev.TrainFinished):
            print(f"{e.reason}: {e.message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from engine.train.data import TrainDataError
    from engine.train.lora import AdapterError

    try:
        return _import(args) if args.action == "import" else _train(args)
    except (TrainDataError, AdapterError, ValueError, OSError) as exc:
        print(f"mynah finetune: error: {exc}", file=sys.stderr)
        return 1


def _tuned_root(args=None) -> Path:
    from studio.core.paths import get_paths

    if args is not None and getattr(args, "tuned_dir", None):
        return Path(args.tuned_dir)
    return get_paths().models / "tuned"


def _import(args) -> int:
    from engine.train.lora import adapter_hash
    from engine.train.tuned import import_adapter

    if args.path is None:
        raise ValueError("usage: mynah finetune import ADAPTER_DIR [--base MODEL_DIR] [--name NAME]")
    dest = import_adapter(args.path, _tuned_root(args), args.base or args.model, args.name)
    print(f"imported {dest.name} (adapter {adapter_hash(dest)}); use it with: mynah synth --model {dest}")
    return 0


def _clips(args):
    from engine.train.data import clips_from_folder

    if args.folder is not None:
        clips = clips_from_folder(args.folder)
        return (*_asr_check(args, clips), args.folder.name)
    if args.dataset is None:
        raise ValueError("say what to train on: --dataset NAME or --folder DIR (or --resume RUN_DIR)")
    from studio.core.datasets import DatasetStore
    from studio.core.finetune_data import dataset_clips, find_dataset
    from studio.core.library import open_library
    from studio.core.paths import get_paths

    paths = get_paths()
    store = DatasetStore(open_library(paths.library_db), paths)
    ds = find_dataset(store, args.dataset)
    got = dataset_clips(store, ds.id, qc_passing=not args.all_qc)
    return got.clips, got.left_out, ds.name


def _asr_check(args, clips):
    """A folder's transcripts heard by the user's recognizer (cached); mismatches left out by default."""
    if args.no_asr_check or not clips:
        return clips, []
    from studio.core.asr_choice import user_transcriber_args
    from studio.core.dataset_qc import find_transcriber
    from studio.core.paths import get_paths
    from studio.core.transcript_check import MAX_WER, check_transcripts

    asr = user_transcriber_args()
    transcribe = find_transcriber(**asr)
    if transcribe is None:
        print("no speech recognizer installed: the transcripts were not checked", file=sys.stderr)
        return clips, []
    recognizer = f"{asr.get('backend')}:{Path(asr['whisper_model']).name if asr.get('whisper_model') else ''}:" \
                 f"{asr.get('language') or ''}"
    print(f"checking {len(clips)} transcripts with ASR ({recognizer.strip(':')}; cached) ...", file=sys.stderr)
    got = check_transcripts(clips, transcribe, recognizer=recognizer,
                            cache_file=get_paths().models / "runs" / "asr-check.json",
                            max_wer=MAX_WER if args.max_transcript_wer is None else args.max_transcript_wer,
                            keep_mismatched=args.keep_mismatched)
    if got.flagged and args.keep_mismatched:
        for why in got.flagged:
            print(f"  kept (--keep-mismatched): {why}", file=sys.stderr)
        return got.kept, []
    if got.flagged:
        print(f"{len(got.flagged)} clip(s) left out by the ASR check (keep them with --keep-mismatched)",
              file=sys.stderr)
    return got.kept, got.flagged


def _stop_on_signals():
    """SIGINT/SIGTERM ask the run to stop after the current step (with a checkpoint)."""
    import signal

    asked = []

    def handler(signum, frame):
        if asked:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        asked.append(signum)
        print("\nstopping after this step (a checkpoint is written) ...", file=sys.stderr)

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(sig, handler)
        except ValueError:  # not the main thread (tests calling main() from a worker)
            pass
    return lambda: bool(asked)


def _train(args) -> int:
    from engine.train.session import init_distributed, open_run, resume_run
    from engine.train.tuned import promote
    from studio.core.paths import get_paths

    rank, world = init_distributed()
    printer = Printer(quiet=rank != 0, json_lines=args.events_json)
    if args.resume is not None:
        trainer = resume_run(args.resume, device=args.device, on_event=printer)
        name = args.name or args.resume.name
    else:
        if args.model is None:
            raise ValueError("--model CSM_DIR is required")
        clips, left_out, name = _clips(args)
        name = args.name or name
        for why in left_out:
            print(f"  left out: {why}", file=sys.stderr) if rank == 0 else None
        out = args.out or get_paths().models / "runs" / name
        trainer = open_run(args.model, clips, out, _config(args), device=args.device, resume=True,
                           on_event=printer)
    stop = _stop_on_signals()
    done = trainer.run(should_stop=stop)  # Ctrl-C / SIGTERM: checkpoint after this step, then stop
    if done.reason == "paused":
        print(f"continue with: mynah finetune --resume {trainer.out_dir}", file=sys.stderr)
        return 130
    if done.reason != "done":
        return 1
    if rank == 0 and done.last_checkpoint:
        dest = _tuned_root(args) / name
        if dest.exists():
            dest = _tuned_root(args) / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
        voice = promote(Path(done.last_checkpoint), dest.parent, dest.name, Path(trainer.base_model))
        print(f"tuned voice: {voice}\n  use it with: mynah synth --model {voice} ...")
    return 0
