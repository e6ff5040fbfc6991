"""Frozen entry point of the console `mynah-cli` executable: subcommands only, never the window."""
import sys

from studio.cli import cli_main

if __name__ == "__main__":
    sys.exit(cli_main())
