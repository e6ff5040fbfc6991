"""The dataset card (README.md) written beside every export, and its duration histogram PNG.

The PNG is drawn with numpy and written with zlib (no plotting library, no Qt: this runs on the
export worker thread and in the CLI).
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

HIST_BINS_S = np.arange(0.0, 16.0, 1.0)  # 1 s bins, 0..15 s; longer clips land in the last bin


def write_png(path: Path, rgb: np.ndarray) -> None:
    """rgb: uint8 [H, W, 3]."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))  # filter type 0 per row

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
    Path(path).write_bytes(png)


def histogram_png(path: Path, durations_s: list[float], *, width: int = 480, height: int = 200) -> list[int]:
    """Bar chart of clip durations (1 s bins); returns the counts drawn."""
    d = np.clip(np.asarray(durations_s, dtype=np.float64), 0, HIST_BINS_S[-1] + 0.999)
    counts, _ = np.histogram(d, bins=np.append(HIST_BINS_S, HIST_BINS_S[-1] + 1.0))
    img = np.full((height, width, 3), 255, dtype=np.uint8)
    margin = 10
    n = len(counts)
    bar_w = (width - 2 * margin) // n
    top = max(1, int(counts.max()))
    for i, c in enumerate(counts):
        bh = int((height - 2 * margin) * c / top)
        x0 = margin + i * bar_w
        img[height - margin - bh: height - margin, x0 + 1: x0 + bar_w - 1] = (70, 110, 200)
    img[height - margin, margin: width - margin] = (0, 0, 0)  # x axis
    write_png(path, img)
    return [int(c) for c in counts]


def write_card(root: Path, result, info: dict) -> Path:
    """README.md for an export (`result`: ExportResult). `info` may hold name, speaker, language,
    consent, licence, coverage (str), qc_summary (dict flag -> count)."""
    from engine.text.phonemes import coverage

    clips = result.clips
    durs = [c.duration_s for c in clips]
    counts = histogram_png(root / "durations.png", durs)
    total = sum(durs)
    cov = info.get("coverage") or coverage(c.text for c in clips).summary()
    qc = info.get("qc_summary") or {}
    n_eval = sum(1 for c in clips if c.split == "eval")
    lines = [
        f"# {info.get('name', 'Mynah dataset')}",
        "",
        f"Speaker: {info.get('speaker') or (clips[0].speaker if clips else '-')}  ",
        f"Language: {info.get('language', 'en')}  ",
        f"Clips: {len(clips)} ({len(clips) - n_eval} train, {n_eval} eval)  ",
        f"Total: {total / 3600:.3f} hours ({total / 60:.1f} minutes); "
        f"clip length {min(durs, default=0):.1f}-{max(durs, default=0):.1f} s, "
        f"median {float(np.median(durs)) if durs else 0:.1f} s",
        "",
        "## Duration histogram",
        "",
        "![clip durations](durations.png)",
        "",
        "| seconds | " + " | ".join(f"{int(b)}" for b in HIST_BINS_S) + " |",
        "|---|" + "---|" * len(HIST_BINS_S),
        "| clips | " + " | ".join(str(c) for c in counts) + " |",
        "",
        "## Phoneme coverage (CMU dictionary)",
        "",
        cov,
        "",
        "## Quality checks",
        "",
    ]
    if qc:
        lines += [f"- {k}: {v} take(s) flagged" for k, v in sorted(qc.items())]
    else:
        lines.append("No QC flags recorded for the exported takes.")
    lines += [
        "",
        "## Licence and consent",
        "",
        info.get("consent") or ("The speaker consented to being recorded for training a voice model. "
                                "Confirm the scope of that consent before sharing this dataset."),
        "",
        f"Licence: {info.get('licence', 'set by the dataset owner')}",
        "",
        "Recorded and exported with Mynah.",
        "",
    ]
    p = root / "README.md"
    p.write_text("\n".join(lines), encoding="utf-8")
    return p
