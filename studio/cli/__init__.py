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
    "self-check": "studio.cli.selfcheck",
    "detect": "studio.cli.detect",
}


def version_line() -> str:
    from studio import __version__

    return f"mynah {__version__}"


def main(argv: list[str] | None = None, *, gui: bool = True) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if getattr(sys, "frozen", False) and argv[:1] == ["-m"] and len(argv) > 1:
        # In the installed bundle sys.executable is this program: `mynah -m module` stands in for
        # `python -m module` (the dataset QC worker is started that way).
        import runpy

        sys.argv = [argv[1], *argv[2:]]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return 0
    if argv[:1] == ["--version"]:
        print(version_line())
        return 0
    if gui and (not argv or argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help")):
        from studio.ui.app import run_gui

        return run_gui(argv)
    parser = argparse.ArgumentParser(prog="mynah", description="Mynah voice studio (no arguments: open the studio)")
    parser.add_argument("--version", action="version", version=version_line())
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


def cli_main(argv: list[str] | None = None) -> int:
    """`mynah-cli`: the console entry point of the installed bundle; never opens the window."""
    argv = sys.argv[1:] if argv is None else argv
    return main(argv or ["--help"], gui=False)
