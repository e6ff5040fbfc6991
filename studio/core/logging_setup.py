"""Logging: a rotating file under `paths.logs` plus stderr, set up once per process."""
from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_NAME = "mynah.log"
_FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"


def setup_logging(logs_dir: Path, *, level: int = logging.INFO, max_bytes: int = 2_000_000,
                  backups: int = 5) -> Path:
    """Attach a rotating file handler (idempotent per file); returns the log file path."""
    logs_dir = Path(logs_dir)
    logs_dir.mkdir(parents=True, exist_ok=True)
    path = logs_dir / LOG_NAME
    root = logging.getLogger()
    root.setLevel(min(root.level or level, level) if root.handlers else level)
    for h in root.handlers:
        if isinstance(h, logging.handlers.RotatingFileHandler) and Path(h.baseFilename) == path:
            return path
    fh = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
    fh.setFormatter(logging.Formatter(_FORMAT))
    fh.setLevel(level)
    root.addHandler(fh)
    if not any(type(h) is logging.StreamHandler for h in root.handlers):
        sh = logging.StreamHandler()
        sh.setFormatter(logging.Formatter(_FORMAT))
        sh.setLevel(logging.WARNING)
        root.addHandler(sh)
    return path
