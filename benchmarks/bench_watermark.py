"""The AI watermark (engine/provenance, Perth implicit): cost, robustness and quality, on real speech.

    python benchmarks/bench_watermark.py                 # everything (~15-25 min on the loaded 2-core box)
    python benchmarks/bench_watermark.py --only speed    # speed | robustness | quality
    python benchmarks/bench_watermark.py --clips 12      # a subset of the clips

1. Speed: embed and detect seconds per minute of audio (24 kHz speech; median of --repeats), torch's
   thread count printed beside it.
2. Robustness: detection rate (score >= 0.5) on the clean clips and on the marked clips, then on the
   marked clips after each export path Mynah offers (written and re-read by studio.core.export:
   WAV 16-bit, FLAC, Ogg Vorbis, Opus, MP3, -16 LUFS loudness normalisation, resampling to 16 and
   48 kHz, a trim) and after white noise at 30/20/10 dB SNR.
3. Quality cost, clean vs marked over the clips: WER (bundled Whisper), speaker similarity to another
   clip of the same speaker (resemblyzer), DNSMOS overall.
Prints figures; asserts nothing. On a shared CPU the timings move with the load (printed too).
"""
from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SPEECH = Path(os.environ.get("MYNAH_SHARED", REPO.parent / "shared")) / "testdata" / "speech"
SR = 24000  # marked as a CSM take would be

EXPORTS = {
    "WAV 16-bit": dict(format_key="wav16", loudness_lufs=None),
    "FLAC": dict(format_key="flac", loudness_lufs=None),
    "Ogg Vorbis": dict(format_key="ogg", loudness_lufs=None),
    "Opus": dict(format_key="opus", loudness_lufs=None),
    "MP3": dict(format_key="mp3", loudness_lufs=None),
    "loudness -16 LUFS": dict(format_key="wavf", loudness_lufs=-16.0),
    "resampled 16 kHz": dict(format_key="wav16", sample_rate=16000, loudness_lufs=None),
    "resampled 48 kHz": dict(format_key="wav16", sample_rate=48000, loudness_lufs=None),
    "trimmed (0.3 s / 0.2 s)": dict(format_key="wav16", loudness_lufs=None),
}
SNRS = (30, 20, 10)


def load_clips(n: int | None):
    import soundfile as sf

    from engine.audio.resample import resample

    with open(SPEECH / "transcripts.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    rows = rows[:n] if n else rows
    for r in rows:
        x, sr = sf.read(SPEECH / r["file"], dtype="float32", always_2d=False)
        r["audio"] = resample(x if x.ndim == 1 else x.mean(axis=1), sr, SR)
    return rows


def speed(rows, repeats: int) -> None:
    import torch

    from engine import provenance

    minute = np.concatenate([r["audio"] for r in rows])[: 60 * SR]
    minute = np.tile(minute, int(np.ceil(60 * SR / minute.size)))[: 60 * SR]
    provenance.detect(minute[:SR], SR)  # load the net once, outside the timing
    print(f"\n== speed (1 min of speech at {SR} Hz, torch threads {torch.get_num_threads()}, "
          f"load average {os.getloadavg()[0]:.1f})")
    for name, fn in (("embed", provenance.embed), ("detect", provenance.detect)):
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn(minute, SR)
            times.append(time.perf_counter() - t)
        print(f"{name:>7}: {statistics.median(times):.2f} s per minute of audio "
              f"(median of {repeats}; min {min(times):.2f} s)")


def robustness(rows) -> None:
    import soundfile as sf

    from engine import provenance
    from studio.core.export import ExportItem, ExportOptions, available_formats, export_item

    formats = {f.key for f in available_formats()}
    found = {k: [] for k in ["clean (false alarms)", "marked", *EXPORTS, *(f"white noise {s} dB SNR" for s in SNRS)]}
    rng = np.random.default_rng(0)
    out = Path(tempfile.mkdtemp(prefix="bench-watermark-"))
    t0 = time.perf_counter()
    for i, r in enumerate(rows):
        x = r["audio"]
        marked = provenance.embed(x, SR)
        r["marked"] = marked
        hit = lambda a, sr=SR: provenance.detect(a, sr) >= provenance.DETECT_THRESHOLD  # noqa: E731
        found["clean (false alarms)"].append(hit(x))
        found["marked"].append(hit(marked))
        for name, opts in EXPORTS.items():
            if opts["format_key"] not in formats:
                continue
            audio = marked[int(0.3 * SR): len(marked) - int(0.2 * SR)] if name.startswith("trim") else marked
            item = ExportItem(audio=audio, sample_rate=SR, take_id=f"c{i}", model_id="bench", voice_name="",
                              text=r["transcript"], seed=0)
            res = export_item(item, out, ExportOptions(sidecar=False, template="{take}", **opts))
            y, ysr = sf.read(str(res.path), dtype="float32")
            res.path.unlink()
            found[name].append(hit(y, ysr))
        power = float(np.mean(marked ** 2))
        for snr in SNRS:
            noise = rng.standard_normal(marked.size).astype(np.float32) * np.sqrt(power / 10 ** (snr / 10))
            found[f"white noise {snr} dB SNR"].append(hit(marked + noise))
        print(f"\r  {i + 1}/{len(rows)} clips", end="", file=sys.stderr)
    print(file=sys.stderr)
    print(f"\n== detection rate over {len(rows)} clips (score >= {provenance.DETECT_THRESHOLD}; "
          f"{time.perf_counter() - t0:.0f} s)")
    for name, hits in found.items():
        if hits:
            print(f"{name:>26}: {np.mean(hits):.3f} ({sum(hits)}/{len(hits)})")


def quality(rows) -> None:
    from engine import provenance
    from engine.eval.scorer import Scorer

    scorer = Scorer()
    by_speaker: dict[str, list[dict]] = {}
    for r in rows:
        by_speaker.setdefault(r.get("speaker", r["file"]), []).append(r)
    sums = {"clean": {"wer_err": 0, "words": 0, "sim": [], "mos": []},
            "marked": {"wer_err": 0, "words": 0, "sim": [], "mos": []}}
    for i, r in enumerate(rows):
        marked = r.get("marked")
        if marked is None:
            marked = provenance.embed(r["audio"], SR)
        others = [o for o in by_speaker[r.get("speaker", r["file"])] if o is not r]
        ref = others[0]["audio"] if others else None
        for kind, audio in (("clean", r["audio"]), ("marked", marked)):
            s = scorer.score(audio, SR, text=r["transcript"], reference=ref, reference_sr=SR if ref is not None else None,
                             metrics=("wer", "similarity", "dnsmos"))
            if s.wer is not None:
                sums[kind]["wer_err"] += s.wer.errors
                sums[kind]["words"] += s.wer.n_ref_words
            if s.similarity is not None:
                sums[kind]["sim"].append(s.similarity)
            if s.dnsmos is not None:
                sums[kind]["mos"].append(s.dnsmos.ovr)
        print(f"\r  {i + 1}/{len(rows)} clips scored", end="", file=sys.stderr)
    print(file=sys.stderr)
    print(f"\n== quality cost over {len(rows)} clips (clean -> marked)")
    c, m = sums["clean"], sums["marked"]
    wer = lambda d: d["wer_err"] / max(1, d["words"])  # noqa: E731
    print(f"  WER (pooled, bundled Whisper): {wer(c):.4f} -> {wer(m):.4f}")
    if c["sim"]:
        print(f"  speaker similarity to another clip of the speaker (mean of {len(c['sim'])}): "
              f"{np.mean(c['sim']):.3f} -> {np.mean(m['sim']):.3f}")
    if c["mos"]:
        print(f"  DNSMOS overall (mean): {np.mean(c['mos']):.3f} -> {np.mean(m['mos']):.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["speed", "robustness", "quality"], default=None)
    ap.add_argument("--clips", type=int, default=None, help="use the first N clips (default: all)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    if not SPEECH.is_dir():
        print(f"speech test data not found at {SPEECH} (set MYNAH_SHARED)", file=sys.stderr)
        return 1
    rows = load_clips(args.clips)
    print(f"{len(rows)} clips, {sum(r['audio'].size for r in rows) / SR / 60:.1f} min of speech")
    if args.only in (None, "speed"):
        speed(rows, args.repeats)
    if args.only in (None, "robustness"):
        robustness(rows)
    if args.only in (None, "quality"):
        quality(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
