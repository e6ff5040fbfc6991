"""The checkpoint error, in a module without torch: the GUI reads a model's tokenizer and config (the
chunk preview) before torch is imported. engine/hub/checkpoint.py re-exports it."""
from __future__ import annotations


class CheckpointError(Exception):
    """A checkpoint file is missing, unreadable, or does not hold what the model needs."""
