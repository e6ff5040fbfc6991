"""`python -m studio.cli ...` (torchrun needs a module or a script to launch)."""
from studio.cli import main

raise SystemExit(main())
