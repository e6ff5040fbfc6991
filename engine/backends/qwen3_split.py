"""Qwen3-TTS's chunk rule, computable without torch: Qwen3Backend.split_text generates with it, and the
Synthesize editor previews with it on the GUI thread before any model is loaded, so the marks shown are
the chunks the worker makes.

A chunk fits when the talker's KV cache (`cache_positions`: MAX_POSITIONS, or the model's own limit
when smaller) holds its whole take:
    the text in chat form (its Qwen2 ids) + PROMPT_OVERHEAD (role, codec tags, speaker, pad/bos)
    + the reference transcript's ids and the reference's code frames (a voice cloned in context)
    + up to `max_frames_for_text(chunk)` frames of speech.
The text is cut by engine/text/chunking.chunk_text: whole sentences (Chinese and Japanese ones end at
。！？ with no space after), then clauses, then words (CJK runs: characters).
tests/engine/test_qwen3_split.py proves the preview equals the worker's chunks.
"""
from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Callable

from engine.text.chunking import chunk_text
from engine.text.sentences import WIDE

# Talker positions the KV cache holds: prompt + one text chunk's frames (2048 = a 2-3 min chunk).
# Each position costs 28 layers x K and V x 8 heads x 128 x 4 B = 229 KB in fp32 at 0.6B size.
MAX_POSITIONS = 2048
PROMPT_OVERHEAD = 12  # role, codec tags, speaker, pad/bos positions around the text
SAMPLE_RATE, FRAME_RATE = 24000, 12.5
SAMPLES_PER_FRAME = 1920  # 24 kHz / 12.5 Hz
MIN_SECONDS = 3.0  # a generous floor so a single word still has room to be said
SECONDS_PER_CHAR = 0.125  # slow speech is ~8 letters/s; past that a take is a runaway
SECONDS_PER_WIDE_CHAR = 0.3  # a Han, kana or Hangul character is a syllable: slow speech says ~3.5/s
_WIDE_CHAR = re.compile(f"[{WIDE}]")


def max_frames_for_text(text: str, max_audio_seconds: float | None = None) -> int:
    """Frames a take of this text may use before it counts as a runaway (CSM's rule, with each CJK
    character counted as the syllable it is: Chinese would otherwise be cut off at half its length)."""
    if max_audio_seconds:
        seconds = max_audio_seconds
    else:
        text = text.strip()
        wide = len(_WIDE_CHAR.findall(text))
        seconds = MIN_SECONDS + SECONDS_PER_CHAR * (len(text) - wide) + SECONDS_PER_WIDE_CHAR * wide
    return max(1, math.ceil(seconds * FRAME_RATE))


def prompt_positions(n_text_ids: int, reference_positions: int = 0) -> int:
    """Positions the prompt of a chunk takes: its chat-form text ids, the fixed tags, the reference."""
    return n_text_ids + PROMPT_OVERHEAD + reference_positions


def reference_frames(n_samples: int, sample_rate: int) -> int:
    """Code frames of a reference clip of `n_samples` at `sample_rate` (resampled to 24 kHz first, as
    soxr does: the nearest whole sample count)."""
    n24 = n_samples if sample_rate == SAMPLE_RATE else (2 * n_samples * SAMPLE_RATE + sample_rate) // (2 * sample_rate)
    return -(-n24 // SAMPLES_PER_FRAME)


def cache_positions(config: dict) -> int:
    """The talker's KV cache length for a model's config.json (what qwen3_loader allocates)."""
    return min(MAX_POSITIONS, int(config["talker_config"]["max_position_embeddings"]))


def split(text: str, text_ids: Callable[[str], list[int]], *, reference_positions: int = 0,
          max_positions: int = MAX_POSITIONS) -> list[str]:
    """The chunks Qwen3-TTS generates `text` (already normalized) in. `text_ids`: the chat-form ids of a
    chunk (QwenTextTokenizer.target); `reference_positions`: the in-context reference's transcript ids
    plus its code frames (0 without one). Raises TextTooLongError when one word cannot fit."""
    def fits(chunk: str) -> bool:
        return prompt_positions(len(text_ids(chunk)), reference_positions) + max_frames_for_text(chunk) <= max_positions

    return chunk_text(text, fits=fits)


@lru_cache(maxsize=4)
def _model(folder: str, stamp: tuple[float, ...]):
    from engine.backends.qwen3_text import QwenTextTokenizer

    cfg = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    return QwenTextTokenizer(Path(folder)), cache_positions(cfg), str(cfg.get("tts_model_type") or "base")


@lru_cache(maxsize=512)
def _cut(folder: str, stamp: tuple[float, ...], reference_positions: int, language: str, normalize: bool,
         part: str) -> tuple[str, ...]:
    """One spoken part's chunks, remembered: while the user types, the other paragraphs are not cut again."""
    from engine.text.normalize import normalize_for_tts

    tok, max_positions, _ = _model(folder, stamp)
    text = normalize_for_tts(part, language=language) if normalize else part
    if not text:
        return ()
    return tuple(c for c in split(text, tok.target, reference_positions=reference_positions,
                                  max_positions=max_positions) if c.strip())


def splitter_for(model_dir: Path, *, reference_text: str = "", reference_frames: int = 0,
                 language: str = "auto", normalize: bool = True) -> Callable[[str], list[str]]:
    """What the worker makes of one spoken part of a script with the Qwen3-TTS model in `model_dir`:
    the part normalized for the take's `language` (engine/worker_synth.plan_items), then `split`. A Base
    model clones in context when the reference has a transcript: its ids and `reference_frames` count.
    The tokenizer is read once per folder. Raises CheckpointError / OSError / ValueError (KeyError
    included) when the folder is not a readable Qwen3-TTS model."""
    folder = Path(model_dir)
    stamp = tuple((folder / n).stat().st_mtime if (folder / n).exists() else 0.0
                  for n in ("config.json", "vocab.json", "merges.txt", "tokenizer.json"))
    tok, _, mode = _model(str(folder), stamp)
    in_context = mode == "base" and bool(reference_text.strip()) and reference_frames > 0
    ref = len(tok.reference(reference_text)) + reference_frames if in_context else 0
    return lambda part: list(_cut(str(folder), stamp, ref, language, normalize, part))
