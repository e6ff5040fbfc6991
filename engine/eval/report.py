"""Evaluation report: score a fixed prompt set rendered by several systems (models, settings,
the real recordings) -> one CSV row per file, a per-system summary CSV, and PNG plots.

Layout read by `discover_systems`: AUDIO_DIR/<system>/<prompt id>.wav (one folder per system), or
audio files directly in AUDIO_DIR (one system named after the folder). Prompts come from a TSV:
`id<TAB>text` (header optional) or the test-data form with `file` and `transcript` columns.
A file whose name (without extension) is a prompt id, or starts with "<id>_" / "<id>-"
(e.g. "p01_seed3.wav"), is scored against that prompt's text.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from engine.audio.formats import IMPORT_SUFFIXES
from engine.eval.best_of_n import RankWeights, metric_components
from engine.eval.scorer import Scorer

AUDIO_EXTS = set(IMPORT_SUFFIXES)  # takes from any tool: WAV/FLAC/... and M4A, MP4, WebM, WMA, AMR
CSV_FIELDS = ["system", "prompt_id", "file", "duration_s", "wer", "cer", "similarity", "dnsmos_ovr",
              "dnsmos_sig", "dnsmos_bak", "dnsmos_p808", "combined", "peak_dbfs", "lufs", "clipped_fraction",
              "silence_ratio", "words_per_minute", "watermark", "text", "hypothesis", "asr", "qc_issues", "not_scorable",
              "error"]
SUMMARY_FIELDS = ["system", "files", "scored", "wer_pooled", "wer_mean", "cer_mean", "similarity_mean",
                  "dnsmos_ovr_mean", "dnsmos_p808_mean", "combined_mean"]


class ReportInputError(ValueError):
    """Input folders/files are not usable; the message is for the user."""


@dataclass
class ReportResult:
    rows: list[dict]
    summary: list[dict]
    csv_path: Path
    summary_path: Path
    plots: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_prompts(path: Path) -> dict[str, str]:
    """Prompt id -> text from a TSV (see module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise ReportInputError(f"prompt list {path} not found")
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [r for r in csv.reader(f, delimiter="\t") if r and any(c.strip() for c in r)]
    if not rows:
        raise ReportInputError(f"prompt list {path.name} is empty")
    head = [c.strip().lower() for c in rows[0]]
    if "transcript" in head or "text" in head:
        ti = head.index("transcript") if "transcript" in head else head.index("text")
        ki = next((head.index(k) for k in ("id", "file", "name") if k in head), 0)
        body = rows[1:]
    else:
        ki, ti, body = 0, 1, rows
    prompts: dict[str, str] = {}
    for n, r in enumerate(body, start=2 if body is not rows else 1):
        if len(r) <= max(ki, ti):
            raise ReportInputError(f"{path.name} line {n}: expected an id and a text separated by a tab")
        prompts[Path(r[ki].strip()).stem if "." in r[ki] else r[ki].strip()] = r[ti].strip()
    return prompts


def discover_systems(audio_dir: Path) -> dict[str, list[Path]]:
    audio_dir = Path(audio_dir)
    if not audio_dir.is_dir():
        raise ReportInputError(f"audio folder {audio_dir} not found")
    systems: dict[str, list[Path]] = {}
    loose = sorted(p for p in audio_dir.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTS)
    if loose:
        systems[audio_dir.name] = loose
    for sub in sorted(p for p in audio_dir.iterdir() if p.is_dir()):
        files = sorted(p for p in sub.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTS)
        if files:
            systems[sub.name] = files
    if not systems:
        raise ReportInputError(f"no audio files ({', '.join(sorted(AUDIO_EXTS))}) in {audio_dir} "
                               "or its sub-folders")
    return systems


def match_prompt(path: Path, prompts: dict[str, str]) -> str | None:
    stem = path.stem
    if stem in prompts:
        return stem
    hits = [k for k in prompts if stem.startswith(k + "_") or stem.startswith(k + "-")]
    return max(hits, key=len) if hits else None


def run_report(audio_dir: Path, out_dir: Path, *, scorer: Scorer, prompts: dict[str, str] | None = None,
               reference: Path | None = None, weights: RankWeights = RankWeights(), plots: bool = True,
               metrics: tuple[str, ...] = ("wer", "similarity", "dnsmos"),
               progress: Callable[[int, int, Path], None] | None = None,
               watermark: bool = True) -> ReportResult:
    """Score every audio file under `audio_dir`; write report.csv, summary.csv and plots to `out_dir`.

    With `watermark`, each row gets its AI watermark score (engine/provenance) and a reference
    recording that carries the mark is reported in `warnings` (it was generated, not recorded)."""
    from engine.audio.io import AudioFileError, read_audio

    systems = discover_systems(audio_dir)
    ref_audio = ref_sr = None
    if reference is not None:
        try:
            a = read_audio(reference)
        except AudioFileError as exc:
            raise ReportInputError(f"reference voice: {exc}") from exc
        ref_audio, ref_sr = a.samples, a.sample_rate
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    warnings: list[str] = []
    if watermark and ref_audio is not None:
        from engine import provenance

        score = provenance.detect(ref_audio, ref_sr)
        if score >= provenance.DETECT_THRESHOLD:
            warnings.append(f"reference voice {Path(reference).name}: {provenance.MESSAGE} "
                            f"(watermark score {score:.2f})")
    rows: list[dict] = []
    jobs = [(name, p) for name, files in systems.items() for p in files]
    for i, (system, p) in enumerate(jobs):
        if progress:
            progress(i, len(jobs), p)
        pid = match_prompt(p, prompts) if prompts else None
        if prompts and pid is None:
            warnings.append(f"{system}/{p.name}: no prompt with this id; scored without WER")
        text = prompts.get(pid) if prompts and pid else None
        row = {"system": system, "prompt_id": pid or p.stem, "file": str(p), "text": text}
        try:
            a = read_audio(p)
        except AudioFileError as exc:
            row["error"] = str(exc)
            rows.append(row)
            continue
        s = scorer.score(a.samples, a.sample_rate, text=text, reference=ref_audio, reference_sr=ref_sr,
                         metrics=metrics)
        comp = metric_components(s)
        w = weights.as_dict()
        active = {m: wt for m, wt in w.items() if comp.get(m) is not None and wt > 0}
        row.update(s.flat())
        if watermark:
            from engine import provenance

            row["watermark"] = provenance.detect(a.samples, a.sample_rate)
        row["combined"] = (sum(wt * comp[m] for m, wt in active.items()) / sum(active.values())) if active else None
        row["_wer_errors"] = s.wer.errors if s.wer else None
        row["_wer_words"] = s.wer.n_ref_words if s.wer else None
        rows.append(row)
    csv_path = out_dir / "report.csv"
    _write_csv(csv_path, CSV_FIELDS, rows)
    summary = summarize(rows)
    summary_path = out_dir / "summary.csv"
    _write_csv(summary_path, SUMMARY_FIELDS, summary)
    result = ReportResult(rows, summary, csv_path, summary_path, warnings=warnings)
    if plots:
        from engine.eval.report_plots import write_plots

        result.plots = write_plots(rows, out_dir)
    return result


def _mean(values) -> float | None:
    v = [float(x) for x in values if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return float(np.mean(v)) if v else None


def summarize(rows: list[dict]) -> list[dict]:
    out = []
    for system in dict.fromkeys(r["system"] for r in rows):
        rs = [r for r in rows if r["system"] == system]
        words = sum(r.get("_wer_words") or 0 for r in rs)
        errors = sum(r.get("_wer_errors") or 0 for r in rs)
        out.append({
            "system": system, "files": len(rs), "scored": sum(1 for r in rs if not r.get("error")),
            "wer_pooled": errors / words if words else None,
            "wer_mean": _mean(r.get("wer") for r in rs), "cer_mean": _mean(r.get("cer") for r in rs),
            "similarity_mean": _mean(r.get("similarity") for r in rs),
            "dnsmos_ovr_mean": _mean(r.get("dnsmos_ovr") for r in rs),
            "dnsmos_p808_mean": _mean(r.get("dnsmos_p808") for r in rs),
            "combined_mean": _mean(r.get("combined") for r in rs),
        })
    return out


def _write_csv(path: Path, fields: list[str], rows: list[dict]) -> None:
    tmp = path.with_suffix(".csv.part")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: _fmt(r.get(k)) for k in fields})
    tmp.replace(path)  # a crash mid-write never leaves a half report under the real name


def _fmt(v):
    if isinstance(v, float):
        return "" if math.isnan(v) else (f"{v:.4f}" if math.isfinite(v) else str(v))
    return "" if v is None else v
