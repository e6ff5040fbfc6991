"""`mynah` entry point: no arguments opens the studio; subcommands run headless over the same engine."""
from __future__ import annotations

import argparse
import importlib
import sys

# name -> module with `add_arguments(parser)` and `run(args) -> int`
SUBCOMMANDS = {
    "synth": "studio.cli.synth",
    "eval": "studio.cli.evaluate",
    "dataset": "studio.cli.dataset",
    "finetune": "studio.cli.finetune",
    "detect": "studio.cli.detect",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help"):
        from studio.ui.app import run_gui

        return run_gui(argv)
    parser = argparse.ArgumentParser(prog="mynah", description="Mynah voice studio (no arguments: open the studio)")
    sub = parser.add_subparsers(dest="command", required=True)
    modules = {}
    for name, modname in SUBCOMMANDS.items():
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as exc:
            if exc.name != modname:
                raise
            continue
        modules[name] = mod
        mod.add_arguments(sub.add_parser(name, help=(mod.__doc__ or "").strip().splitlines()[0] if mod.__doc__ else None))
    args = parser.parse_args(argv)
    return int(modules[args.command].run(args) or 0)
