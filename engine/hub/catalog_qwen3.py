"""Qwen3-TTS (12 Hz) in the Models catalog: the five public checkpoints, each one Hub repo.

Every repo carries the whole model folder the `qwen3` backend reads: config.json, generation_config.json,
the Qwen2 text tokenizer (vocab.json, merges.txt, tokenizer_config.json), model.safetensors (talker, code
predictor and, in Base models, the speaker encoder) and speech_tokenizer/ (the 16-codebook codec: its
config.json and model.safetensors, the same 682 MB blob in every repo). So no entry reads the separate
`Qwen/Qwen3-TTS-Tokenizer-12Hz` repo. The plan fetches exactly one checkpoint: the two safetensors files
together are the one weight layout (tests/engine/test_hub_plans.py on tests/engine/hub_trees/Qwen--*.json).

Apache-2.0, ungated. Sizes: the plan's total on the recorded trees, all exact: each tree is the Hub repo's
complete file list at a pinned revision, every size (and the weights' LFS SHA-256) as public projects
that check them pin it (each tree's `source` names the repository, path and commit).
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.hub.catalog import CatalogEntry, WeightLayout

LICENCE = "Apache-2.0"
LANGUAGES = ("zh", "en", "ja", "ko", "de", "fr", "ru", "pt", "es", "it")
WEIGHTS = ("model.safetensors", "speech_tokenizer/model.safetensors")
# The CustomVoice models' preset speakers (config.json `talker_config.spk_id`), with their native language.
PRESET_SPEAKERS = (("vivian", "zh"), ("serena", "zh"), ("uncle_fu", "zh"), ("dylan", "zh"), ("eric", "zh"),
                   ("ryan", "en"), ("aiden", "en"), ("ono_anna", "ja"), ("sohee", "ko"))


@dataclass(frozen=True)
class Qwen3Entry(CatalogEntry):
    """A Qwen3-TTS checkpoint: `mode` is what it does with a voice ("clone": a reference clip,
    "custom": preset speakers + a style instruction, "design": a voice from a written description)."""
    mode: str = "clone"
    params_b: float = 0.6


_NON_WEIGHT = ("config.json", "vocab.json", "merges.txt", "speech_tokenizer/config.json")
_OPTIONAL = ("generation_config.json", "tokenizer_config.json", "preprocessor_config.json",
             "speech_tokenizer/preprocessor_config.json")
_WHAT = {
    "clone": "clones a voice from about 3 s of reference (with its transcript for the closest match, or without)",
    "custom": ("9 preset speakers (Vivian, Serena, Uncle Fu, Dylan, Eric, Ryan, Aiden, Ono Anna, Sohee) with a "
               "style instruction (\"calm, slightly amused\"); no voice cloning"),
    "design": "a new voice from a written description (\"a warm, low female voice, slow\"); no voice cloning",
}


def _entry(size_label: str, kind: str, mode: str, size: int, exact: bool) -> Qwen3Entry:
    repo = f"Qwen/Qwen3-TTS-12Hz-{size_label}-{kind}"
    params = 0.6 if size_label == "0.6B" else 1.7
    return Qwen3Entry(
        model_id=repo,
        name=f"Qwen3-TTS {size_label} {'Base' if mode == 'clone' else kind}",
        backend="qwen3",
        description=(f"Alibaba Qwen3-TTS, {params}B parameters: a Qwen3 talker + code predictor over its own "
                     f"16-codebook 12.5 Hz speech tokenizer, 24 kHz, 10 languages; {_WHAT[mode]}."),
        size_bytes=size, size_exact=exact, licence=LICENCE, gated=False,
        required_files=_NON_WEIGHT, optional_files=_OPTIONAL,
        weight_files=WEIGHTS, weight_indexes=(), layouts=(WeightLayout(files=WEIGHTS),),
        homepage=f"https://huggingface.co/{repo}", languages=LANGUAGES,
        runs_well_on=("an NVIDIA GPU with 4 GB or more; on a 2-core CPU about 2x slower than real time" if params < 1
                      else "an NVIDIA GPU with 8 GB or more (bf16); on a CPU many times slower than real time"),
        mode=mode, params_b=params)


# Bytes each plan fetches on the recorded trees (tests/engine/hub_trees/Qwen--*.json): the two weight files
# (model.safetensors: 0.6B Base 1,829,344,272, 1.7B Base 3,857,413,744, 0.6B CustomVoice 1,811,626,576,
# 1.7B CustomVoice and VoiceDesign 3,833,402,552; the codec's 682,293,092 everywhere) + about 4.46 MB of
# configs and tokenizer files.
QWEN3_ENTRIES: tuple[Qwen3Entry, ...] = (
    _entry("0.6B", "Base", "clone", 2_516_100_816, True),
    _entry("1.7B", "Base", "clone", 4_544_170_288, True),
    _entry("0.6B", "CustomVoice", "custom", 2_498_383_534, True),
    _entry("1.7B", "CustomVoice", "custom", 4_520_159_510, True),
    _entry("1.7B", "VoiceDesign", "design", 4_520_159_023, True),
)
