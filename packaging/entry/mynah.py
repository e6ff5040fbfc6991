"""Frozen entry point of the windowed `mynah` executable (the same `main` as the pip script)."""
import sys

from studio.cli import main

if __name__ == "__main__":
    sys.exit(main())
