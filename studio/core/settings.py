"""User settings: one JSON file under the data directory (`paths.settings_file`).

A typed dataclass with defaults is the schema. Unknown keys from a newer version are kept (and
written back) so a downgrade loses nothing; a corrupt file is moved aside (never deleted) and the
defaults are used, so a bad file never stops the app from starting.
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1


@dataclass
class Settings:
    version: int = SCHEMA_VERSION
    # Window/panel state: Qt's saveGeometry/saveState/splitter bytes, base64 text.
    window_geometry: str = ""
    window_state: str = ""
    panels: dict[str, str] = field(default_factory=dict)
    last_workspace: str = "Voices"
    # Audio devices by AudioDevice.key "<host API>::<name>" (indices change when devices come and
    # go; a bare name from older files still resolves); None = system default.
    input_device: str | None = None
    output_device: str | None = None
    record_samplerate: int = 48000
    # Normalize defaults for reference clips (CSM likes ~-20 LUFS speech; peaks kept under -1 dBFS).
    normalize_mode: str = "lufs"  # "lufs" | "peak"
    normalize_lufs: float = -20.0
    normalize_peak_dbfs: float = -1.0
    last_import_dir: str = ""
    models_dir: str | None = None
    # Evaluation (engine.eval ScorerConfig), resolved by studio/core/asr_choice.py: the recognizer
    # ("auto" = the best installed Whisper, else the bundled tiny.en, else pocketsphinx; or a catalog
    # model id, "bundled", "pocketsphinx"), a Whisper folder that overrides it (advanced), language
    # (None: detect), ASR backend, and scoring takes right after generation (off by default: scoring
    # shares the CPU with generation; best-of-N always scores its candidates).
    asr_model: str = "auto"
    whisper_model_dir: str | None = None
    asr_language: str | None = None
    asr_backend: str = "auto"
    auto_score_takes: bool = False
    first_run_done: bool = False  # the guided first run was shown (finished or skipped)
    # Provenance: every generated take carries the inaudible AI watermark (turning it off asks for
    # confirmation), and exports carry signed C2PA content credentials.
    watermark_takes: bool = True
    content_credentials: bool = True
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Settings":
        known = {f.name: f for f in fields(cls)}
        s = cls()
        for key, value in data.items():
            if key == "extra":
                continue
            if key not in known:
                s.extra[key] = value
                continue
            default = getattr(s, key)
            # A value of the wrong type (hand-edited file) falls back to the default, per key.
            if default is not None and value is not None and not isinstance(value, type(default)):
                if isinstance(default, float) and isinstance(value, int):
                    value = float(value)
                else:
                    log.warning("settings: ignoring %s=%r (expected %s)", key, value, type(default).__name__)
                    continue
            setattr(s, key, value)
        return s

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        extra = d.pop("extra")
        return {**extra, **d}


def load_settings(path: Path) -> Settings:
    path = Path(path)
    if not path.exists():
        return Settings()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("top level is not an object")
    except (OSError, ValueError) as exc:
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        log.warning("settings file %s is unreadable (%s); moved to %s, using defaults", path, exc, aside)
        try:
            os.replace(path, aside)
        except OSError:
            pass
        return Settings()
    return Settings.from_dict(data)


def save_settings(settings: Settings, path: Path) -> None:
    """Atomic write: a crash mid-save leaves the previous file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(settings.to_dict(), indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
