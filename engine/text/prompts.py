"""Prompt scripts for dataset recording: parse TXT/CSV/TSV, dedupe, validate.

A script problem never silently loses a prompt: empty lines are skipped, exact duplicate texts are
dropped (with a note naming both lines), duplicate ids are renamed, and overlong prompts or prompts
with characters a speaker cannot read are kept but flagged so the user decides.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets" / "prompts"
BUILTIN_SCRIPTS = {"cmu_arctic": "cmu_arctic.tsv"}
MAX_PROMPT_CHARS = 250  # ~15 s of read speech; longer prompts make clips trainers truncate
MAX_SCRIPT_BYTES = 20_000_000
# Characters an English reader can say; anything else (emoji, CJK, control, markup) is flagged.
_READABLE = re.compile(r"[A-Za-z0-9\s.,;:!?'\"()\-\u2018\u2019\u201c\u201d\u2013\u2014&%$/]")
_ID_OK = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


class PromptScriptError(ValueError):
    """The script cannot be used at all (unreadable, empty); the message is for the user."""


@dataclass(frozen=True)
class Prompt:
    id: str
    text: str


@dataclass(frozen=True)
class PromptIssue:
    line: int  # 1-based line in the source file (0 when not tied to a line)
    kind: str  # "empty" | "duplicate_text" | "duplicate_id" | "bad_id" | "overlong" | "unknown_chars"
    message: str
    prompt_id: str | None = None


@dataclass
class PromptScript:
    name: str
    prompts: list[Prompt]
    issues: list[PromptIssue] = field(default_factory=list)

    def flagged_ids(self) -> set[str]:
        return {i.prompt_id for i in self.issues if i.prompt_id and i.kind in ("overlong", "unknown_chars")}


def _rows(text: str, fmt: str) -> list[tuple[int, str | None, str]]:
    """(line, id or None, text) per data row."""
    if fmt == "txt":
        return [(n, None, line) for n, line in enumerate(text.splitlines(), 1)]
    delim = "\t" if fmt == "tsv" else ","
    # TSV scripts carry quotes as part of the text, so only CSV honours quoting.
    reader = csv.reader(io.StringIO(text), delimiter=delim, quoting=csv.QUOTE_MINIMAL if fmt == "csv" else csv.QUOTE_NONE)
    rows: list[tuple[int, str | None, str]] = []
    id_col, text_col = 0, 1
    for k, row in enumerate(reader):
        n = reader.line_num
        if k == 0:
            head = [c.strip().lower() for c in row]
            if "text" in head:  # a header row names the columns
                text_col = head.index("text")
                id_col = head.index("id") if "id" in head else -1
                continue
            if len(row) == 1:
                id_col, text_col = -1, 0
        if not row:
            rows.append((n, None, ""))
        elif text_col >= len(row):
            rows.append((n, None, row[-1]))  # a lone cell in an id+text file is the text
        else:
            pid = row[id_col].strip() if id_col >= 0 else None
            # Unquoted commas in the last (text) column split it; glue them back.
            body = delim.join(row[text_col:]) if text_col == max(id_col, text_col) else row[text_col]
            rows.append((n, pid or None, body))
    return rows


def guess_format(name: str, text: str) -> str:
    ext = Path(name).suffix.lower().lstrip(".")
    if ext in ("tsv", "csv"):
        return ext
    first = [line for line in text.splitlines()[:20] if line.strip()]
    if first and all("\t" in line for line in first):
        return "tsv"
    return "txt"


def parse_script(text: str, *, name: str = "script", fmt: str | None = None) -> PromptScript:
    """Parse a script's text. `fmt`: "txt" (one prompt per line), "csv" or "tsv" (id+text, or a
    header with `id`/`text` columns); guessed from `name` and the content when None."""
    fmt = fmt or guess_format(name, text)
    issues: list[PromptIssue] = []
    prompts: list[Prompt] = []
    seen_ids: set[str] = set()
    seen_text: dict[str, int] = {}
    width = max(4, len(str(len(text.splitlines()))))
    for line, pid, raw in _rows(text, fmt):
        body = " ".join(unicodedata.normalize("NFC", raw).split())
        if not body:
            if pid:
                issues.append(PromptIssue(line, "empty", f"line {line}: prompt {pid} has no text (skipped)", pid))
            continue
        key = body.casefold()
        if key in seen_text:
            issues.append(PromptIssue(line, "duplicate_text",
                                      f"line {line}: same text as line {seen_text[key]} (dropped)", pid))
            continue
        seen_text[key] = line
        if pid is not None and not _ID_OK.match(pid):
            issues.append(PromptIssue(line, "bad_id", f"line {line}: id {pid!r} is not a usable file name; "
                                      "a line-number id was used", pid))
            pid = None
        if pid is None:
            pid = f"{_slug(name)}_{line:0{width}d}"
        if pid in seen_ids:
            new = _unique(pid, seen_ids)
            issues.append(PromptIssue(line, "duplicate_id", f"line {line}: id {pid} repeats; renamed to {new}", new))
            pid = new
        seen_ids.add(pid)
        if len(body) > MAX_PROMPT_CHARS:
            issues.append(PromptIssue(line, "overlong", f"line {line}: {len(body)} characters "
                                      f"(over {MAX_PROMPT_CHARS}; likely longer than 15 s)", pid))
        odd = sorted({c for c in body if not _READABLE.match(c)})
        if odd:
            shown = " ".join(f"{c!r}" if c.isprintable() else f"U+{ord(c):04X}" for c in odd[:8])
            issues.append(PromptIssue(line, "unknown_chars", f"line {line}: unusual characters {shown}", pid))
        prompts.append(Prompt(pid, body))
    if not prompts:
        raise PromptScriptError(f"{name} has no prompts: every line is empty" if text.strip()
                                else f"{name} is empty: add one prompt per line")
    return PromptScript(Path(name).stem, prompts, issues)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", Path(name).stem).strip("_")[:24] or "prompt"


def _unique(pid: str, seen: set[str]) -> str:
    k = 2
    while f"{pid}-{k}" in seen:
        k += 1
    return f"{pid}-{k}"


def load_script(path: str | Path) -> PromptScript:
    p = Path(path)
    try:
        if p.stat().st_size > MAX_SCRIPT_BYTES:
            raise PromptScriptError(f"{p.name} is {p.stat().st_size // 1_000_000} MB: too large for a prompt script")
        raw = p.read_bytes()
    except OSError as e:
        raise PromptScriptError(f"cannot read {p.name}: {e.strerror or e}") from e
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise PromptScriptError(f"{p.name} is not a text file")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16", errors="replace")
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            # Spreadsheet exports on Windows are often cp1252; undecodable bytes become U+FFFD,
            # which validation then flags on the lines that have them.
            text = raw.decode("cp1252", errors="replace")
    return parse_script(text, name=p.name)


def builtin_script(key: str = "cmu_arctic") -> PromptScript:
    if key not in BUILTIN_SCRIPTS:
        raise PromptScriptError(f"no built-in script named {key!r}")
    return load_script(ASSETS_DIR / BUILTIN_SCRIPTS[key])
