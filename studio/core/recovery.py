"""Crash recovery: recordings left in `paths.incomplete` are found and finalized at start-up.

Each in-progress recording is `<id>.wav` (streamed, header synced every ~0.5 s) plus `<id>.json`
(the sidecar: sample rate, channels, start time, intended destination and owner). After a crash the
WAV header may be up to a second stale, so recovery trusts the file size, not the header.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from studio.core.recorder_wav import inspect_wav, repair_header


@dataclass
class Sidecar:
    sample_rate: int
    channels: int
    started: str                    # ISO-8601 local time the recording began
    name: str                       # file name (without .wav) the user will see
    dest_dir: str | None = None     # where the finished file belongs (None: paths.recordings)
    owner: str = "recordings"       # "voices", "dataset", ...: which workspace gets it back
    owner_ref: str | None = None    # e.g. a dataset take id
    pid: int = field(default_factory=os.getpid)

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".json.part")
        tmp.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> "Sidecar":
        d = json.loads(path.read_text(encoding="utf-8"))
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


@dataclass
class IncompleteRecording:
    wav_path: Path
    sidecar: Sidecar
    frames: int          # audio really on disk (from the file size)
    header_frames: int   # what the stale header says

    @property
    def duration_s(self) -> float:
        return self.frames / float(self.sidecar.sample_rate)

    @property
    def name(self) -> str:
        return self.sidecar.name

    @property
    def owner(self) -> str:
        return self.sidecar.owner

    @property
    def sidecar_path(self) -> Path:
        return self.wav_path.with_suffix(".json")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _incomplete_dir() -> Path:
    from studio.core.paths import get_paths

    return get_paths().incomplete


def find_incomplete(directory: Path | None = None) -> list[IncompleteRecording]:
    """Recordings a crashed session left behind, oldest first.

    Skips recordings whose process is still alive (a recording in progress right now). A WAV with no
    readable sidecar is still offered, with what its header says: audio is never silently dropped.
    """
    d = Path(directory) if directory is not None else _incomplete_dir()
    found: list[IncompleteRecording] = []
    if not d.is_dir():
        return found
    for wav in sorted(d.glob("*.wav"), key=lambda p: p.stat().st_mtime):
        try:
            lay = inspect_wav(wav)
        except (ValueError, OSError, EOFError, struct.error):
            continue  # not even a WAV header made it to disk: nothing to recover
        if lay.real_frames == 0:
            continue  # crashed before the first block: no audio to offer
        side_path = wav.with_suffix(".json")
        try:
            side = Sidecar.load(side_path)
        except (OSError, ValueError, TypeError):
            started = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(wav.stat().st_mtime))
            side = Sidecar(sample_rate=lay.sample_rate, channels=lay.channels, started=started,
                           name=f"recovered {wav.stem}", pid=-1)
        if side.pid > 0 and _pid_alive(side.pid):
            continue
        found.append(IncompleteRecording(wav, side, lay.real_frames, lay.header_frames))
    return found


def unique_path(directory: Path, name: str, suffix: str = ".wav") -> Path:
    """`name.wav`, or `name (2).wav`, ... : never overwrite something the user made."""
    directory.mkdir(parents=True, exist_ok=True)
    p = directory / f"{name}{suffix}"
    n = 2
    while p.exists():
        p = directory / f"{name} ({n}){suffix}"
        n += 1
    return p


def move_file(src: Path, dest: Path) -> Path:
    try:
        os.replace(src, dest)
    except OSError:  # another filesystem
        shutil.move(str(src), str(dest))
    return dest


def recover(rec: IncompleteRecording, dest_dir: Path | None = None) -> Path:
    """Fix the header from the real size, move the WAV to its destination, drop the sidecar."""
    repair_header(rec.wav_path)
    if dest_dir is None:
        if rec.sidecar.dest_dir:
            dest_dir = Path(rec.sidecar.dest_dir)
        else:
            from studio.core.paths import get_paths

            dest_dir = get_paths().recordings
    dest = move_file(rec.wav_path, unique_path(Path(dest_dir), rec.sidecar.name))
    rec.sidecar_path.unlink(missing_ok=True)
    return dest


def discard(rec: IncompleteRecording) -> Path:
    """Move the recording to the trash (still undoable by hand), not a hard delete."""
    from studio.core.paths import get_paths

    try:
        repair_header(rec.wav_path)
    except (ValueError, OSError):
        pass
    dest = move_file(rec.wav_path, unique_path(get_paths().trash, rec.wav_path.stem))
    rec.sidecar_path.unlink(missing_ok=True)
    return dest
