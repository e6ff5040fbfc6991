"""Mynah studio: the desktop application (core domain without Qt, ui with Qt, cli)."""

__version__ = "0.1.0"
