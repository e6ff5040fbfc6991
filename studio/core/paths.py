"""Every path Mynah writes to, computed in one place.

`MYNAH_HOME` moves everything (tests, portable installs); otherwise platformdirs decides.
Nothing else in the code base builds a user path by hand.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "Mynah"


@dataclass(frozen=True)
class Paths:
    home: Path

    @property
    def library_db(self) -> Path:
        return self.home / "library.sqlite"

    @property
    def audio(self) -> Path:
        """Audio the user made or imported (voices, takes, dataset takes)."""
        return self.home / "audio"

    @property
    def voices(self) -> Path:
        return self.audio / "voices"

    @property
    def takes(self) -> Path:
        return self.audio / "takes"

    @property
    def datasets(self) -> Path:
        return self.audio / "datasets"

    @property
    def recordings(self) -> Path:
        """Finalized recordings not yet attached to a voice or dataset."""
        return self.audio / "recordings"

    @property
    def incomplete(self) -> Path:
        """Recordings in progress; anything left here after a crash is offered for recovery."""
        return self.home / "incomplete"

    @property
    def models(self) -> Path:
        """Model cache; a setting may point it elsewhere (see `models_dir`)."""
        return self.home / "models"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def settings_file(self) -> Path:
        return self.home / "settings.json"

    @property
    def credentials(self) -> Path:
        """The user's content-credentials signing key and certificates (made on first export)."""
        return self.home / "credentials"

    @property
    def trash(self) -> Path:
        """Deleted items wait here so delete can be undone."""
        return self.home / "trash"

    def ensure(self) -> "Paths":
        for p in (self.home, self.audio, self.voices, self.takes, self.datasets, self.recordings,
                  self.incomplete, self.models, self.logs, self.trash):
            p.mkdir(parents=True, exist_ok=True)
        return self


def default_home() -> Path:
    env = os.environ.get("MYNAH_HOME")
    if env:
        return Path(env).expanduser().resolve()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def get_paths() -> Paths:
    """The current paths (re-reads MYNAH_HOME each call so tests can move it)."""
    return Paths(default_home()).ensure()
