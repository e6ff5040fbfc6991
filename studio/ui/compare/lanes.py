"""Compare lanes without Qt: what each lane plays, loudness matching, and the blind shuffle.

All lanes are brought to one sample rate and one loudness before playback, so switching lanes is a
buffer swap (Player.set_source) and a louder take cannot win a comparison just by being louder.
"""
from __future__ import annotations

import random
import string
from dataclasses import dataclass, field

import numpy as np

from studio.core.ratings import RatedItem
from studio.core.takes import TakeStore

MAX_LANES = 6
MIN_LANES = 2
MATCH_LUFS = -23.0  # quiet enough that matching rarely has to touch peaks


class LaneError(ValueError):
    """A lane could not be added; the message is for the user."""


@dataclass
class Lane:
    item: RatedItem  # identity (hidden in blind mode)
    label: str  # human label, e.g. "csm-1b · seed 5 · 3.2 s" or "Reference: Ann"
    audio: np.ndarray  # float32 [T], at the comparison rate, loudness-matched when asked
    sample_rate: int
    lufs: float = float("-inf")  # before matching
    gain_db: float = 0.0
    played: bool = False
    notes: list[str] = field(default_factory=list)
    raw: np.ndarray | None = None  # the audio as loaded, kept to re-match or to switch matching off
    raw_sr: int = 0

    def fresh(self) -> "Lane":
        """This lane back at its loaded audio (before rate change and matching)."""
        raw = self.raw if self.raw is not None else self.audio
        return Lane(self.item, self.label, raw, self.raw_sr or self.sample_rate, raw=raw,
                    raw_sr=self.raw_sr or self.sample_rate, played=self.played)


def lane_for_take(takes: TakeStore, take_id: str, voice_name: str = "") -> Lane:
    t = takes.get(take_id)
    audio, sr = takes.load_audio(t)
    item = RatedItem(key=f"take:{t.id}", model=t.recipe.model_id, setting=t.recipe.setting_label(),
                     voice=voice_name or ("" if t.recipe.voice_id is None else str(t.recipe.voice_id)))
    return Lane(item, t.label(), np.asarray(audio, np.float32), sr)


def lane_for_recording(voice, samples: np.ndarray, sr: int) -> Lane:
    """The real recording of a voice: a valid lane (the reference every take is judged against)."""
    item = RatedItem(key=f"recording:voice{voice.id}", model="reference", setting="", voice=voice.name)
    return Lane(item, f"Reference: {voice.name}", np.asarray(samples, np.float32), int(sr))


def prepare(lanes: list[Lane], *, match_loudness: bool = True, sample_rate: int | None = None) -> list[Lane]:
    """Resample every lane to one rate and (by default) to the same integrated loudness.

    Runs off the GUI thread (resampling, loudness). Returns the same lanes, modified.
    """
    from engine.audio.loudness import integrated_lufs
    from engine.audio.resample import resample

    if not lanes:
        return lanes
    sr = sample_rate or max(l.sample_rate for l in lanes)
    for lane in lanes:
        if lane.raw is None:
            lane.raw, lane.raw_sr = lane.audio, lane.sample_rate
        if lane.sample_rate != sr:
            lane.audio = resample(lane.audio, lane.sample_rate, sr).astype(np.float32)
            lane.sample_rate = sr
        lane.lufs = integrated_lufs(lane.audio, sr)
        if match_loudness and np.isfinite(lane.lufs):
            lane.gain_db = MATCH_LUFS - lane.lufs
            lane.audio = (lane.audio * np.float32(10 ** (lane.gain_db / 20))).astype(np.float32)
            peak = float(np.max(np.abs(lane.audio))) if lane.audio.size else 0.0
            if peak > 1.0:  # rare at -23 LUFS; clipping would be audible, so scale and say so
                lane.audio /= np.float32(peak)
                lane.gain_db -= 20 * np.log10(peak)
                lane.notes.append("peaks limited the loudness match")
    return lanes


def blind_order(n: int, rng: random.Random | None = None) -> list[int]:
    """A shuffled order of lane indices for a blind test."""
    order = list(range(n))
    (rng or random.SystemRandom()).shuffle(order)
    return order


def blind_label(i: int) -> str:
    return string.ascii_uppercase[i]
