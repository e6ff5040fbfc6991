"""Export takes to files people use: WAV/FLAC/Ogg Vorbis/Opus/MP3, resampled, loudness-normalized,
tagged as synthetic speech, with a JSON sidecar holding the recipe.

Pure numpy/soundfile/soxr/pyloudnorm: runs on a worker thread, never needs Qt.
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

from studio.core.export_tags import APP_VERSION, read_tags, tags_for, watermark_note, write_tags  # noqa: F401

LOUDNESS_PRESETS = {"Podcast (-16 LUFS)": -16.0, "Broadcast (-23 LUFS)": -23.0}
DEFAULT_TEMPLATE = "{voice}_{model}_seed{seed}_{take}"
_WRITE_BLOCK = 65536  # frames per write (see export_item's encode)


@dataclass(frozen=True)
class ExportFormat:
    key: str
    label: str
    container: str  # libsndfile major format
    subtype: str
    extension: str
    allowed_rates: tuple[int, ...] = ()  # empty: any rate


# Opus only runs at these rates; MP3 (MPEG-1/2/2.5 layer III) at the standard ones.
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
_LOSSY = ("VORBIS", "OPUS", "MPEG_LAYER_III")
_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)

ALL_FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat("wav16", "WAV 16-bit", "WAV", "PCM_16", "wav"),
    ExportFormat("wav24", "WAV 24-bit", "WAV", "PCM_24", "wav"),
    ExportFormat("wavf", "WAV 32-bit float", "WAV", "FLOAT", "wav"),
    ExportFormat("flac", "FLAC", "FLAC", "PCM_24", "flac"),
    ExportFormat("ogg", "Ogg Vorbis", "OGG", "VORBIS", "ogg"),
    ExportFormat("opus", "Ogg Opus", "OGG", "OPUS", "opus", _OPUS_RATES),
    ExportFormat("mp3", "MP3", "MP3", "MPEG_LAYER_III", "mp3", _MP3_RATES),
)


def available_formats() -> list[ExportFormat]:
    """The formats this machine's libsndfile can write (MP3/Opus need libsndfile >= 1.1/1.0.29)."""
    import soundfile as sf

    majors = sf.available_formats()
    out = []
    for f in ALL_FORMATS:
        if f.container in majors and f.subtype in sf.available_subtypes(f.container):
            out.append(f)
    return out


def format_by_key(key: str) -> ExportFormat:
    for f in available_formats():
        if f.key == key:
            return f
    raise ExportError(f"this installation cannot write {key!r}; available: "
                      + ", ".join(f.key for f in available_formats()))


class ExportError(Exception):
    """Export failed; the message is for the user."""


@dataclass(frozen=True)
class ExportOptions:
    format_key: str = "wav24"
    sample_rate: int | None = None  # None: keep the take's rate (nearest allowed for Opus/MP3)
    loudness_lufs: float | None = -16.0  # None: leave the level alone
    true_peak_db: float = -1.0
    sidecar: bool = True
    template: str = DEFAULT_TEMPLATE
    # Sign a C2PA manifest into the file (or `<file>.c2pa` beside it) with the identity kept in
    # this folder (Paths.credentials); None: no content credentials.
    credentials_dir: Path | None = None


@dataclass
class ExportItem:
    """One thing to export: audio plus what the tags and sidecar say about it."""

    audio: np.ndarray  # [T] float32 mono
    sample_rate: int
    take_id: str
    model_id: str
    voice_name: str
    text: str
    seed: int | None
    recipe: dict[str, Any] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    watermark: dict | None = None  # the take's WatermarkStamp dict; None: the audio is not marked
    voice_consent: bool | None = None  # the voice's consent tick (None: no voice)


@dataclass
class ExportResult:
    path: Path
    sidecar: Path | None
    sample_rate: int
    duration_s: float
    loudness_lufs: float
    true_peak_db: float
    warnings: list[str] = field(default_factory=list)


@dataclass
class BatchResult:
    results: list[ExportResult]
    errors: list[str]
    cancelled: bool


# --- loudness -------------------------------------------------------------------------------
# Measured with engine.audio.loudness (BS.1770); normalization here adds a look-ahead limiter,
# because an export must reach the chosen LUFS target (the engine's plain gain stops at the ceiling).
from engine.audio.loudness import integrated_lufs  # noqa: E402
from engine.audio.loudness import true_peak_dbfs as true_peak_db  # noqa: E402


def _limit(x: np.ndarray, sr: int, ceiling_db: float) -> np.ndarray:
    """Look-ahead peak limiter: the gain reaches its floor before a peak and recovers over ~5 ms."""
    from engine.sci import preload

    preload()
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    ceiling = 10 ** (ceiling_db / 20) * 0.97  # margin for inter-sample peaks
    need = np.minimum(1.0, ceiling / np.maximum(np.abs(x), 1e-12))  # [T] gain that would be enough
    w = max(3, int(0.005 * sr))
    # Averaging over w samples a minimum taken over 2w+1 keeps gain[t] <= need[t] everywhere.
    gain = uniform_filter1d(minimum_filter1d(need, size=2 * w + 1), size=w)
    return (x * gain).astype(np.float32)


def normalize_loudness(x: np.ndarray, sr: int, target_lufs: float, ceiling_db: float) -> tuple[np.ndarray, list[str]]:
    """Gain to the target loudness, peaks held under the true-peak ceiling by a limiter."""
    warnings: list[str] = []
    now = integrated_lufs(x, sr)
    if not np.isfinite(now):
        warnings.append("the audio is silent or shorter than 0.4 s: loudness left unchanged")
        return x, warnings
    y = x
    for _ in range(3):  # limiting lowers loudness a little; re-gain and limit again
        y = (y * 10 ** ((target_lufs - integrated_lufs(y, sr)) / 20)).astype(np.float32)
        if true_peak_db(y, sr) > ceiling_db:
            y = _limit(y, sr, ceiling_db)
        if abs(integrated_lufs(y, sr) - target_lufs) < 0.2:
            break
    got = integrated_lufs(y, sr)
    if abs(got - target_lufs) > 0.5:
        warnings.append(f"reached {got:.1f} LUFS, not {target_lufs:.1f}: the true-peak ceiling "
                        f"({ceiling_db:.1f} dBTP) does not leave room")
    return y, warnings


# --- file names -----------------------------------------------------------------------------
_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


def render_name(template: str, item: ExportItem) -> str:
    fields_ = {"voice": item.voice_name or "voice", "model": item.model_id.split("/")[-1],
               "seed": "random" if item.seed is None else str(item.seed), "take": item.take_id,
               "date": datetime.fromtimestamp(item.created).strftime("%Y%m%d-%H%M%S"),
               "text": " ".join(item.text.split()[:6])}
    try:
        name = template.format(**fields_)
    except (KeyError, IndexError, ValueError) as e:
        raise ExportError(f"the file-name template {template!r} is not valid ({e}); use "
                          "{voice} {model} {seed} {take} {date} {text}") from None
    name = _UNSAFE.sub("_", name).strip("._") or item.take_id
    return name[:120]


def _free_path(path: Path) -> Path:
    """Never overwrite an earlier export: add -2, -3, ... instead."""
    if not path.exists():
        return path
    i = 2
    while True:
        p = path.with_name(f"{path.stem}-{i}{path.suffix}")
        if not p.exists():
            return p
        i += 1


# --- export ---------------------------------------------------------------------------------
def export_item(item: ExportItem, dest_dir: Path, options: ExportOptions) -> ExportResult:
    import soundfile as sf
    import soxr

    fmt = format_by_key(options.format_key)
    x = np.asarray(item.audio, dtype=np.float32).reshape(-1)  # [T]
    if x.size == 0:
        raise ExportError(f"take {item.take_id} has no audio to export")
    warnings: list[str] = []
    sr_out = int(options.sample_rate or item.sample_rate)
    if fmt.allowed_rates and sr_out not in fmt.allowed_rates:
        new = min((r for r in fmt.allowed_rates if r >= sr_out), default=max(fmt.allowed_rates))
        warnings.append(f"{fmt.label} cannot store {sr_out} Hz: exported at {new} Hz")
        sr_out = new
    if sr_out != item.sample_rate:
        x = soxr.resample(x, item.sample_rate, sr_out).astype(np.float32)
    if options.loudness_lufs is not None:
        x, w = normalize_loudness(x, sr_out, options.loudness_lufs, options.true_peak_db)
        warnings += w
    else:
        x = np.clip(x, -1.0, 1.0)
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    path = _free_path(dest_dir / f"{render_name(options.template, item)}.{fmt.extension}")
    created_iso = datetime.fromtimestamp(item.created, tz=timezone.utc).isoformat(timespec="seconds")
    tags = tags_for(item.model_id, item.voice_name, item.text, created_iso, item.watermark)
    tmp = path.with_name(path.name + ".part")

    def encode(samples: np.ndarray) -> np.ndarray:
        """Write `samples` to the .part file; returns what a player will decode from it."""
        with sf.SoundFile(str(tmp), "w", samplerate=sr_out, channels=1, format=fmt.container,
                          subtype=fmt.subtype) as f:
            write_tags(f, tags)
            # In blocks: libsndfile's Vorbis encoder segfaults on one multi-minute write (a 231 s
            # take at 24 kHz crashed the process), and blocks cost nothing elsewhere.
            for i in range(0, samples.size, _WRITE_BLOCK):
                f.write(samples[i:i + _WRITE_BLOCK])
        decoded, _ = sf.read(str(tmp), dtype="float32", always_2d=False)
        return decoded

    try:
        decoded = encode(x)
        if fmt.subtype in _LOSSY and options.loudness_lufs is not None:
            # Lossy encoders low-pass and reshape the signal, so the file can land a dB or more
            # away from the target (MP3 at 24 kHz on bright audio): measure the decoded file and
            # correct the gain once.
            off = options.loudness_lufs - integrated_lufs(decoded, sr_out)
            if np.isfinite(off) and abs(off) > 0.2:
                x, _ = normalize_loudness(x, sr_out, integrated_lufs(x, sr_out) + off, options.true_peak_db)
                decoded = encode(x)
        tmp.replace(path)  # a cancelled or failed export leaves no half-written file
    except Exception as e:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"could not write {path.name}: {e}") from e
    lufs = integrated_lufs(decoded, sr_out)  # what the listener gets, after the codec
    peak = true_peak_db(decoded, sr_out)
    credentials = _content_credentials(item, path, options, created_iso, warnings)
    sidecar = None
    if options.sidecar:
        sidecar = path.with_name(path.name + ".json")
        sidecar.write_text(json.dumps({
            "file": path.name, "synthetic_speech": True, "generator": f"Mynah {APP_VERSION}",
            "model_id": item.model_id, "voice": item.voice_name, "take_id": item.take_id,
            "text": item.text, "seed": item.seed, "format": fmt.label, "sample_rate": sr_out,
            "duration_s": len(x) / sr_out, "loudness_lufs": None if not np.isfinite(lufs) else round(lufs, 2),
            "true_peak_dbtp": None if not np.isfinite(peak) else round(peak, 2),
            "exported": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "recipe": item.recipe, "warnings": warnings,
            "watermark": {"present": bool(item.watermark), "statement": watermark_note(item.watermark),
                          **(item.watermark or {})},
            "voice_consent": item.voice_consent, "content_credentials": credentials,
        }, indent=2, ensure_ascii=False), encoding="utf-8")
    return ExportResult(path, sidecar, sr_out, len(x) / sr_out, lufs, peak, warnings)


def _content_credentials(item: ExportItem, path: Path, options: ExportOptions, created_iso: str,
                         warnings: list[str]) -> dict | None:
    """Sign a C2PA manifest on the written file; a failure is a warning, never a lost export."""
    if options.credentials_dir is None:
        return None
    from engine.provenance import credentials as c2

    manifest = c2.manifest_for(title=path.name, generator="Mynah", generator_version=APP_VERSION,
                               model=item.model_id, voice=item.voice_name, voice_consent=item.voice_consent,
                               created_iso=created_iso, watermark=item.watermark)
    try:
        where = c2.sign_file(path, manifest, Path(options.credentials_dir))
    except Exception as e:  # c2pa missing or refusing: the audio is exported all the same
        warnings.append(f"content credentials could not be added: {e}")
        return {"c2pa": None, "error": str(e)}
    out = {"c2pa": where, "sha256": c2.file_sha256(path)}
    if where == "sidecar":
        out["manifest_file"] = path.name + c2.SIDECAR_SUFFIX
        out["manifest"] = manifest  # what the signed .c2pa beside the file states, readable here too
    return out


def export_batch(items: list[ExportItem], dest_dir: Path, options: ExportOptions, *,
                 progress: Callable[[int, int, str], None] | None = None,
                 cancel: threading.Event | None = None) -> BatchResult:
    """Export items in order; a failing item is reported and the rest go on. Cancel stops between
    files (files already written stay, the one in progress is never half-written)."""
    results: list[ExportResult] = []
    errors: list[str] = []
    for i, item in enumerate(items):
        if cancel is not None and cancel.is_set():
            return BatchResult(results, errors, True)
        if progress:
            progress(i, len(items), item.take_id)
        try:
            results.append(export_item(item, dest_dir, options))
        except ExportError as e:
            errors.append(str(e))
    if progress:
        progress(len(items), len(items), "")
    return BatchResult(results, errors, False)
