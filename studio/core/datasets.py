"""DatasetStore: datasets, their prompts, takes (several per prompt, one best) and session position.

Every change is one SQLite transaction, and a take is registered as "recording" (with the path of
the file the Recorder is streaming into `paths.incomplete`) *before* audio is captured. So killing
the app at any moment leaves either no row or a row pointing at a streamed file; `resume()` turns
such rows back into takes (recovered up to the last header sync) and returns the prompt to go on at.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from engine.text.prompts import Prompt
from studio.core.library import Library
from studio.core.paths import Paths

SAMPLE_RATES = (24000, 44100, 48000)

_DDL = """
CREATE TABLE IF NOT EXISTS datasets (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, speaker TEXT NOT NULL DEFAULT '',
  language TEXT NOT NULL DEFAULT 'en', sample_rate INTEGER NOT NULL DEFAULT 48000,
  target_minutes REAL NOT NULL DEFAULT 60, input_device TEXT, gain_notes TEXT NOT NULL DEFAULT '',
  consent TEXT NOT NULL DEFAULT '', script_name TEXT NOT NULL DEFAULT '', position INTEGER NOT NULL DEFAULT 0,
  created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dataset_prompts (
  id INTEGER PRIMARY KEY, dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  ord INTEGER NOT NULL, key TEXT NOT NULL, text TEXT NOT NULL, skipped INTEGER NOT NULL DEFAULT 0,
  UNIQUE(dataset_id, key));
CREATE TABLE IF NOT EXISTS dataset_takes (
  id INTEGER PRIMARY KEY, dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  prompt_id INTEGER NOT NULL REFERENCES dataset_prompts(id) ON DELETE CASCADE,
  status TEXT NOT NULL, name TEXT NOT NULL DEFAULT '', path TEXT, is_best INTEGER NOT NULL DEFAULT 0, duration_s REAL,
  sample_rate INTEGER, qc TEXT, created TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS dataset_takes_prompt ON dataset_takes(prompt_id);
"""


class DatasetError(ValueError):
    """A user-facing problem (duplicate name, bad sample rate...)."""


@dataclass
class Dataset:
    id: int
    name: str
    speaker: str = ""
    language: str = "en"
    sample_rate: int = 48000
    target_minutes: float = 60.0
    input_device: str | None = None
    gain_notes: str = ""
    consent: str = ""
    script_name: str = ""
    position: int = 0
    created: str = ""


@dataclass
class DatasetPrompt:
    id: int
    dataset_id: int
    ord: int
    key: str
    text: str
    skipped: bool = False


@dataclass
class Take:
    id: int
    dataset_id: int
    prompt_id: int
    status: str  # "recording" | "done" | "recovered" | "discarded" | "lost"
    name: str  # file stem the Recorder was given (how a file recovered elsewhere is found)
    path: Path | None
    is_best: bool
    duration_s: float | None
    sample_rate: int | None
    qc: dict = field(default_factory=dict)
    created: str = ""

    @property
    def usable(self) -> bool:
        return self.status in ("done", "recovered") and self.path is not None


LIVE = ("done", "recovered")
_LIVE_SQL = "status IN ('done', 'recovered')"  # LIVE as an SQL condition


@dataclass(frozen=True)
class DatasetProgress:
    prompts: int
    recorded: int  # prompts with a usable best take
    minutes: float  # of best takes


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


class DatasetStore:
    def __init__(self, library: Library, paths: Paths):
        self.library = library
        self.paths = paths
        library.ensure_schema(_DDL)

    # ----- datasets ---------------------------------------------------------------------------
    def create(self, name: str, *, speaker: str = "", language: str = "en", sample_rate: int = 48000,
               target_minutes: float = 60.0, input_device: str | None = None, gain_notes: str = "",
               consent: str = "") -> Dataset:
        name = " ".join(name.split())
        if not name:
            raise DatasetError("a dataset needs a name")
        if sample_rate not in SAMPLE_RATES:
            raise DatasetError(f"sample rate must be one of {', '.join(str(s) for s in SAMPLE_RATES)} Hz")
        if target_minutes <= 0:
            raise DatasetError("the target size must be more than 0 minutes")
        with self.library.transaction() as c:
            if c.execute("SELECT 1 FROM datasets WHERE name = ?", (name,)).fetchone():
                raise DatasetError(f"a dataset named {name!r} already exists")
            cur = c.execute(
                "INSERT INTO datasets (name, speaker, language, sample_rate, target_minutes, input_device,"
                " gain_notes, consent, created) VALUES (?,?,?,?,?,?,?,?,?)",
                (name, speaker, language, sample_rate, target_minutes, input_device, gain_notes, consent, _now()))
        return self.get(cur.lastrowid)

    def get(self, dataset_id: int) -> Dataset:
        rows = self.library.query("SELECT * FROM datasets WHERE id = ?", (dataset_id,))
        if not rows:
            raise DatasetError(f"dataset {dataset_id} does not exist")
        return Dataset(**dict(rows[0]))

    def list(self) -> list[Dataset]:
        return [Dataset(**dict(r)) for r in self.library.query("SELECT * FROM datasets ORDER BY name")]

    def update(self, dataset_id: int, **fields) -> Dataset:
        allowed = set(Dataset.__dataclass_fields__) - {"id", "created"}
        bad = set(fields) - allowed
        if bad:
            raise DatasetError(f"unknown dataset fields: {', '.join(sorted(bad))}")
        if "sample_rate" in fields and fields["sample_rate"] not in SAMPLE_RATES:
            raise DatasetError(f"sample rate must be one of {SAMPLE_RATES}")
        if fields:
            sets = ", ".join(f"{k} = ?" for k in fields)
            with self.library.transaction() as c:
                c.execute(f"UPDATE datasets SET {sets} WHERE id = ?", (*fields.values(), dataset_id))
        return self.get(dataset_id)

    def folder(self, dataset_id: int) -> Path:
        p = self.paths.datasets / f"dataset-{dataset_id}"
        p.mkdir(parents=True, exist_ok=True)
        return p

    # ----- prompts ----------------------------------------------------------------------------
    def add_prompts(self, dataset_id: int, prompts: Iterable[Prompt], *, script_name: str | None = None) -> int:
        """Append prompts (keys already in the dataset are skipped); returns how many were added."""
        added = 0
        with self.library.transaction() as c:
            row = c.execute("SELECT COALESCE(MAX(ord), -1) FROM dataset_prompts WHERE dataset_id = ?",
                            (dataset_id,)).fetchone()
            ord_ = row[0] + 1
            for p in prompts:
                cur = c.execute("INSERT OR IGNORE INTO dataset_prompts (dataset_id, ord, key, text) VALUES (?,?,?,?)",
                                (dataset_id, ord_, p.id, p.text))
                if cur.rowcount:
                    added += 1
                    ord_ += 1
            if script_name is not None:
                c.execute("UPDATE datasets SET script_name = ? WHERE id = ?", (script_name, dataset_id))
        return added

    def prompts(self, dataset_id: int) -> list[DatasetPrompt]:
        rows = self.library.query("SELECT id, dataset_id, ord, key, text, skipped FROM dataset_prompts "
                                  "WHERE dataset_id = ? ORDER BY ord", (dataset_id,))
        return [DatasetPrompt(**{**dict(r), "skipped": bool(r["skipped"])}) for r in rows]

    def set_prompt_text(self, prompt_id: int, text: str) -> None:
        self.library.execute("UPDATE dataset_prompts SET text = ? WHERE id = ?", (text, prompt_id))

    def set_skipped(self, prompt_id: int, skipped: bool = True) -> None:
        self.library.execute("UPDATE dataset_prompts SET skipped = ? WHERE id = ?", (int(skipped), prompt_id))

    def set_position(self, dataset_id: int, position: int) -> None:
        self.library.execute("UPDATE datasets SET position = ? WHERE id = ?", (max(0, position), dataset_id))

    # ----- takes ------------------------------------------------------------------------------
    def _take(self, r) -> Take:
        d = dict(r)
        d["path"] = Path(d["path"]) if d["path"] else None
        d["is_best"] = bool(d["is_best"])
        d["qc"] = json.loads(d["qc"]) if d["qc"] else {}
        return Take(**d)

    def takes(self, dataset_id: int, prompt_id: int | None = None, *, include_discarded: bool = False) -> list[Take]:
        sql = "SELECT * FROM dataset_takes WHERE dataset_id = ?"
        args: list = [dataset_id]
        if prompt_id is not None:
            sql += " AND prompt_id = ?"
            args.append(prompt_id)
        if not include_discarded:
            sql += " AND status NOT IN ('discarded', 'lost')"
        return [self._take(r) for r in self.library.query(sql + " ORDER BY id", tuple(args))]

    def take(self, take_id: int) -> Take:
        rows = self.library.query("SELECT * FROM dataset_takes WHERE id = ?", (take_id,))
        if not rows:
            raise DatasetError(f"take {take_id} does not exist")
        return self._take(rows[0])

    def best_takes(self, dataset_id: int) -> dict[int, Take]:
        """prompt id -> its best usable take."""
        rows = self.library.query(f"SELECT * FROM dataset_takes WHERE dataset_id = ? AND is_best = 1 "
                                  f"AND {_LIVE_SQL}", (dataset_id,))
        return {r["prompt_id"]: self._take(r) for r in rows}

    # The GUI asks these after every take: SQL aggregates and plain columns, no Take per row
    # (building them, as `best_takes` does, cost 40-190 ms for a 1132-prompt session).
    def progress(self, dataset_id: int) -> DatasetProgress:
        """Prompts, prompts with a best take (the same takes as `best_takes`) and their minutes."""
        q = self.library.query
        n_prompts = q("SELECT COUNT(*) FROM dataset_prompts WHERE dataset_id = ?", (dataset_id,))[0][0]
        n_best, seconds = q("SELECT COUNT(*), COALESCE(SUM(duration_s), 0) FROM dataset_takes "
                            f"WHERE dataset_id = ? AND is_best = 1 AND {_LIVE_SQL}", (dataset_id,))[0]
        return DatasetProgress(int(n_prompts), int(n_best), float(seconds) / 60.0)

    def prompt_texts(self, dataset_id: int) -> tuple[list[str], list[str]]:
        """(every prompt's text, the texts of prompts with a best take), in script order."""
        q = self.library.query
        every = [r[0] for r in q("SELECT text FROM dataset_prompts WHERE dataset_id = ? ORDER BY ord",
                                 (dataset_id,))]
        recorded = [r[0] for r in q("SELECT p.text FROM dataset_prompts p JOIN dataset_takes t ON t.prompt_id = p.id "
                                    f"WHERE p.dataset_id = ? AND t.is_best = 1 AND t.{_LIVE_SQL} ORDER BY p.ord",
                                    (dataset_id,))]
        return every, recorded

    def stored_qc(self, dataset_id: int) -> list[tuple[int, dict]]:
        """(take id, QC dict) of every live take with a successful QC, oldest first."""
        rows = self.library.query("SELECT id, qc FROM dataset_takes WHERE dataset_id = ? AND qc IS NOT NULL "
                                  "AND status NOT IN ('discarded', 'lost') ORDER BY id", (dataset_id,))
        out = [(int(r[0]), json.loads(r[1])) for r in rows if r[1]]
        return [(i, q) for i, q in out if q and "error" not in q]

    def take_name(self, prompt: DatasetPrompt) -> str:
        n = self.library.query("SELECT COUNT(*) FROM dataset_takes WHERE prompt_id = ?", (prompt.id,))[0][0]
        return f"{prompt.key}_take{n + 1}"

    def takes_folder(self, dataset_id: int) -> Path:
        p = self.folder(dataset_id) / "takes"
        p.mkdir(parents=True, exist_ok=True)
        return p

    def begin_take(self, dataset_id: int, prompt_id: int, name: str = "") -> int:
        """Reserve a take row (status "recording") before the Recorder starts; `name` is the file
        stem the Recorder is given."""
        with self.library.transaction() as c:
            cur = c.execute("INSERT INTO dataset_takes (dataset_id, prompt_id, status, name, created) VALUES (?,?,?,?,?)",
                            (dataset_id, prompt_id, "recording", name, _now()))
            c.execute("UPDATE datasets SET position = (SELECT ord FROM dataset_prompts WHERE id = ?) WHERE id = ?",
                      (prompt_id, dataset_id))
        return cur.lastrowid

    def set_streaming_path(self, take_id: int, path: Path) -> None:
        """The file the Recorder streams into (paths.incomplete); what recovery salvages."""
        self.library.execute("UPDATE dataset_takes SET path = ? WHERE id = ?", (str(path), take_id))

    def finish_take(self, take_id: int, path: Path, *, duration_s: float, sample_rate: int,
                    status: str = "done") -> Take:
        """Register the finished file; the first usable take of a prompt becomes its best."""
        with self.library.transaction() as c:
            r = c.execute("SELECT prompt_id FROM dataset_takes WHERE id = ?", (take_id,)).fetchone()
            if r is None:
                raise DatasetError(f"take {take_id} does not exist")
            has_best = c.execute("SELECT 1 FROM dataset_takes WHERE prompt_id = ? AND is_best = 1 AND id != ? "
                                 "AND status IN ('done','recovered')", (r[0], take_id)).fetchone()
            c.execute("UPDATE dataset_takes SET status = ?, path = ?, duration_s = ?, sample_rate = ?, is_best = ? "
                      "WHERE id = ?", (status, str(path), duration_s, sample_rate, 0 if has_best else 1, take_id))
        return self.take(take_id)

    def set_best(self, take_id: int) -> None:
        t = self.take(take_id)
        if not t.usable:
            raise DatasetError("only a finished take can be the best one")
        with self.library.transaction() as c:
            c.execute("UPDATE dataset_takes SET is_best = 0 WHERE prompt_id = ?", (t.prompt_id,))
            c.execute("UPDATE dataset_takes SET is_best = 1 WHERE id = ?", (take_id,))

    def discard_take(self, take_id: int) -> None:
        """Move the file to the trash (recoverable by hand) and promote the newest other take to best."""
        from studio.core.recovery import move_file, unique_path

        t = self.take(take_id)
        new_path = t.path
        if t.path is not None and t.path.exists():
            new_path = move_file(t.path, unique_path(self.paths.trash, t.path.stem))
        with self.library.transaction() as c:
            c.execute("UPDATE dataset_takes SET status = 'discarded', is_best = 0, path = ? WHERE id = ?",
                      (str(new_path) if new_path else None, take_id))
            if t.is_best:
                r = c.execute("SELECT id FROM dataset_takes WHERE prompt_id = ? AND status IN ('done','recovered') "
                              "ORDER BY id DESC LIMIT 1", (t.prompt_id,)).fetchone()
                if r:
                    c.execute("UPDATE dataset_takes SET is_best = 1 WHERE id = ?", (r[0],))

    def set_qc(self, take_id: int, qc: dict) -> None:
        self.library.execute("UPDATE dataset_takes SET qc = ? WHERE id = ?", (json.dumps(qc), take_id))

    # ----- crash recovery ---------------------------------------------------------------------
    def resume(self, dataset_id: int) -> int:
        """Recover takes interrupted by a crash; returns the prompt index (ord) to continue at."""
        self.recover_interrupted(dataset_id)
        return self.get(dataset_id).position

    def recover_interrupted(self, dataset_id: int) -> list[Take]:
        """Turn "recording" rows left by a crash into takes, keeping every sample on disk.

        The streamed WAV's header may be a second stale; recovery trusts the file size. If the
        start-up recovery dialog already moved the file to our takes folder, it is found by name.
        """
        from studio.core import recovery
        from studio.core.recorder_wav import inspect_wav

        out = []
        for r in self.library.query("SELECT id FROM dataset_takes WHERE dataset_id = ? AND status = 'recording'",
                                    (dataset_id,)):
            t = self.take(r["id"])
            dest_dir = self.takes_folder(dataset_id)
            final: Path | None = None
            if t.path is not None and t.path.exists():
                recs = [x for x in recovery.find_incomplete(t.path.parent) if x.wav_path == t.path]
                if not recs:  # its process is still alive: a take really in progress; leave it
                    continue
                final = recovery.recover(recs[0], dest_dir)
            elif t.name:
                exact = dest_dir / f"{t.name}.wav"  # unique_path names: "x.wav", "x (2).wav", ...
                found = [exact] if exact.exists() else sorted(dest_dir.glob(f"{t.name} (*).wav"))
                final = found[0] if found else None
            if final is None:
                self.library.execute("UPDATE dataset_takes SET status = 'lost' WHERE id = ?", (t.id,))
                continue
            lay = inspect_wav(final)
            out.append(self.finish_take(t.id, final, duration_s=lay.real_frames / float(lay.sample_rate),
                                        sample_rate=lay.sample_rate, status="recovered"))
        return out
