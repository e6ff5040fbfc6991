"""The models Mynah knows how to run, the files each needs on disk, and what a user needs to choose.

A model folder is "present" when every required file is there and one of the weight layouts is
complete (a single file, or an index plus all the shards it names). A Hub repository can hold
several checkpoints side by side (sesame/csm-1b carries the transformers export AND Sesame's
original `model.safetensors` + `ckpt.pt`): `plan_files` picks exactly one layout from the real file
listing, for a download (the Hub's tree) and for "Import local folder" (the folder's files) alike.
The catalog's `size_bytes` is the plan's total on the real tree (a test checks it against the
recorded trees in tests/engine/hub_trees).

To add a model: build a `CatalogEntry` (every field after `required_files` has a default) and add
it to `TTS_MODELS` or `ASR_MODELS`.
"""
from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class WeightLayout:
    """One way a checkpoint can be laid out: exact files, or an index plus a glob of its shards."""
    files: tuple[str, ...] = ()
    index: str = ""
    shards: str = ""
    shard_names: tuple[str, ...] = ()  # the shards' names in the public repo, to tell a user

    @property
    def sharded(self) -> bool:
        return bool(self.index)

    def describe(self) -> str:
        return f"{self.index} with its {self.shards} shards" if self.sharded else " + ".join(self.files)

    def matches(self, names: set[str]) -> list[str]:
        """The listed names this layout needs, or [] when the listing does not hold it complete
        (for shards: the index and at least one shard; the index names the rest)."""
        if self.sharded:
            shards = sorted(n for n in names if fnmatch.fnmatch(n, self.shards))
            return [self.index, *shards] if self.index in names and shards else []
        return list(self.files) if self.files and all(f in names for f in self.files) else []


@dataclass(frozen=True)
class HubFile:
    """Where a file (or a glob of files) of a model folder comes from: a repo at a pinned revision."""
    repo: str
    path: str  # a path or a glob inside the repo (the same path in the model folder)
    revision: str


@dataclass(frozen=True)
class CatalogEntry:
    model_id: str  # Hugging Face repo id
    name: str
    backend: str  # "csm", "whisper", ...
    description: str
    size_bytes: int  # what a download fetches (= the plan's total on the real tree)
    licence: str
    gated: bool  # the repo asks users to accept terms and sign in (a token is needed)
    required_files: tuple[str, ...]  # besides the weights
    weight_files: tuple[str, ...] = ("model.safetensors",)  # one single-file layout...
    # ...or a sharded one: (index file, glob of its shards), in order of preference.
    weight_indexes: tuple[tuple[str, str], ...] = (
        ("model.safetensors.index.json", "model-*-of-*.safetensors"),
        ("transformers.safetensors.index.json", "transformers-*-of-*.safetensors"),
    )
    optional_files: tuple[str, ...] = ()  # fetched when the repo has them
    revision: str = "main"
    homepage: str = ""
    extra_patterns: tuple[str, ...] = field(default_factory=tuple)
    # Layouts in order of preference. Empty: `weight_files` first, then `weight_indexes`.
    layouts: tuple[WeightLayout, ...] = ()
    # Files a Hub download never fetches even when no other layout is listed (a checkpoint in a
    # format this backend cannot read, that happens to have a usable-looking name).
    hub_excluded: tuple[str, ...] = ()
    # What a user needs to decide:
    kind: str = "tts"  # "tts" | "asr"
    languages: tuple[str, ...] = ("en",)  # ISO 639-1 codes
    runs_well_on: str = ""  # hardware guidance, in words
    speed_class: str = ""  # ASR: "fastest" … "slowest" on a CPU, relative to the other Whispers
    # Files from several repos (Pocket TTS: gated weights, public tokenizer and presets): each source
    # says which repo and revision the paths it matches come from; any other path comes from `repo` at
    # `revision`. The folder keeps every file under its path in its repo.
    sources: tuple[HubFile, ...] = ()
    repo_id: str = ""  # the repo files come from by default (empty: `model_id` is the repo)
    size_exact: bool = True  # False: `size_bytes` is an estimate (the Hub publishes no size for some file)

    def __post_init__(self) -> None:
        if not self.layouts:
            derived = ((WeightLayout(files=self.weight_files),) if self.weight_files else ()) + tuple(
                WeightLayout(index=i, shards=s) for i, s in self.weight_indexes)
            object.__setattr__(self, "layouts", derived)

    @property
    def repo(self) -> str:
        return self.repo_id or self.model_id

    def source_of(self, path: str) -> tuple[str, str]:
        """(repo, revision) the file at `path` comes from."""
        for s in self.sources:
            if path == s.path or (fnmatch.fnmatch(path, s.path) and path.count("/") == s.path.count("/")):
                return s.repo, s.revision
        return self.repo, self.revision

    def hub_trees(self) -> list[tuple[str, str]]:
        """Every (repo, revision) whose file tree a download plan reads."""
        return list(dict.fromkeys([(self.repo, self.revision), *((s.repo, s.revision) for s in self.sources)]))

    @property
    def folder_name(self) -> str:
        """Where the model lives under the models dir (repo id with '/' replaced)."""
        return self.model_id.replace("/", "--")

    @property
    def weight_index(self) -> str:
        return next((lay.index for lay in self.layouts if lay.sharded), "")

    @property
    def preferred_layout(self) -> WeightLayout:
        return self.layouts[0]

    def needed_files(self) -> list[str]:
        """The names to fetch when nothing is known of the repo (the offline message)."""
        lay = self.preferred_layout
        weights = ([lay.index, *(lay.shard_names or (lay.shards,))] if lay.sharded else list(lay.files))
        return [*self.required_files, *weights]

    def download_patterns(self, repo_files: list[str]) -> list[str]:
        """What to fetch from a repo listing (kept for callers of the old API): the plan's names."""
        plan = plan_files(self, {n: 0 for n in repo_files}, hub=True)
        return [f for f, _ in plan.files] if plan.layout is not None else [
            *self.required_files, *self.optional_files, *self.needed_files()[len(self.required_files):]]

    @property
    def languages_text(self) -> str:
        if len(self.languages) > 3:
            return f"{len(self.languages)} languages"
        names = {"en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
                 "pt": "Portuguese", "nl": "Dutch", "zh": "Chinese", "ja": "Japanese", "ko": "Korean",
                 "ru": "Russian"}
        return ", ".join(names.get(c, c) for c in self.languages)


@dataclass(frozen=True)
class Plan:
    """Exactly the files to fetch (or copy) for one entry: (name, size) in listing order."""
    files: tuple[tuple[str, int], ...]
    layout: WeightLayout | None  # None: no usable layout in the listing
    missing: tuple[str, ...]  # required files the listing lacks

    @property
    def total(self) -> int:
        return sum(s for _, s in self.files)

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.files]


def plan_files(entry: CatalogEntry, listing: dict[str, int], *, hub: bool = False) -> Plan:
    """Choose what to fetch from `listing` (path -> size): the required files, the optional ones
    present, and ONE weight layout, the first complete one in the entry's order. `hub`: the listing is
    the Hub's tree, where `entry.hub_excluded` files are never candidates."""
    names = set(listing) - (set(entry.hub_excluded) if hub else set())
    chosen, weights = None, []
    for lay in entry.layouts:
        weights = lay.matches(names)
        if weights:
            chosen = lay
            break
    wanted = [*entry.required_files, *(f for f in entry.optional_files if f in names), *entry.extra_patterns, *weights]
    picked = [n for n in listing if n in names and any(fnmatch.fnmatch(n, w) for w in wanted)]
    missing = tuple(f for f in entry.required_files if f not in names)
    return Plan(tuple((n, int(listing[n])) for n in picked), chosen if weights else None, missing)


def hub_listing(entry: CatalogEntry, tree_of) -> dict:
    """The one listing `plan_files` reads for a download: each path from the tree of the repo and
    revision the entry takes it from (`tree_of(repo, revision)` -> {path: size or file info}).
    A single-repo entry reads one tree as it is."""
    out = {}
    for repo, revision in entry.hub_trees():
        for path, info in tree_of(repo, revision).items():
            if path not in out and entry.source_of(path) == (repo, revision):
                out[path] = info
    return out


def folder_listing(folder: Path) -> dict[str, int]:
    """Relative path -> size of every file under `folder` (links followed), POSIX separators."""
    folder = Path(folder)
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        # `.cache` inside the folder (huggingface_hub's download state), not above it: a folder under
        # ~/.cache (the Hub's own cache, where users often import from) is listed as any other.
        if p.is_file() and not p.name.endswith((".part", ".incomplete")) and ".cache" not in rel.parts:
            out[rel.as_posix()] = p.stat().st_size
    return out


# ---- the catalog ----------------------------------------------------------------------------------
CSM_1B = CatalogEntry(
    model_id="sesame/csm-1b",
    name="Sesame CSM-1B",
    backend="csm",
    description="Conversational speech model: Llama-3.2-1B backbone + depth decoder over Mimi codes "
                "(24 kHz, 32 codebooks). Clones a voice from a 5-15 s reference with its transcript.",
    # transformers-00001 (4,944,026,784) + -00002 (2,189,474,180) + index (59,730) + config, tokenizer
    # (17,209,980) and the small JSON/template files: tests/engine/hub_trees/sesame--csm-1b.json.
    size_bytes=7_150_827_503,
    licence="Apache-2.0",
    gated=True,
    required_files=("config.json", "tokenizer.json"),
    optional_files=("tokenizer_config.json", "generation_config.json", "preprocessor_config.json", "special_tokens_map.json",
                    "chat_template.jinja"),
    homepage="https://huggingface.co/sesame/csm-1b",
    # The transformers export first: it carries Mimi (`codec_model.*`). A single model.safetensors is
    # what transformers' save_pretrained writes for a small model (a local folder).
    layouts=(WeightLayout(index="transformers.safetensors.index.json", shards="transformers-*-of-*.safetensors",
                          shard_names=("transformers-00001-of-00002.safetensors",
                                       "transformers-00002-of-00002.safetensors")),
             WeightLayout(index="model.safetensors.index.json", shards="model-*-of-*.safetensors"),
             WeightLayout(files=("model.safetensors",))),
    # On sesame/csm-1b these are Sesame's original checkpoint (torchtune names, no Mimi).
    hub_excluded=("model.safetensors", "ckpt.pt"),
    runs_well_on="an NVIDIA GPU with 8 GB or more (bf16); on a CPU it is many times slower than real time",
)

# faster-whisper's language codes: 99 for every Whisper, plus Cantonese from large-v3 on.
WHISPER_LANGUAGES = (
    "af", "am", "ar", "as", "az", "ba", "be", "bg", "bn", "bo", "br", "bs", "ca", "cs", "cy", "da", "de", "el",
    "en", "es", "et", "eu", "fa", "fi", "fo", "fr", "gl", "gu", "ha", "haw", "he", "hi", "hr", "ht", "hu", "hy",
    "id", "is", "it", "ja", "jw", "ka", "kk", "km", "kn", "ko", "la", "lb", "ln", "lo", "lt", "lv", "mg", "mi",
    "mk", "ml", "mn", "mr", "ms", "mt", "my", "ne", "nl", "nn", "no", "oc", "pa", "pl", "ps", "pt", "ro", "ru",
    "sa", "sd", "si", "sk", "sl", "sn", "so", "sq", "sr", "su", "sv", "sw", "ta", "te", "tg", "th", "tk", "tl",
    "tr", "tt", "uk", "ur", "uz", "vi", "yi", "yo", "zh")


def _whisper(repo: str, label: str, size: int, speed: str, runs_on: str, *, english: bool,
             v3: bool = False) -> CatalogEntry:
    langs = ("en",) if english else WHISPER_LANGUAGES + (("yue",) if v3 else ())
    return CatalogEntry(
        model_id=repo, name=f"Whisper {label}", backend="whisper", kind="asr",
        description=(f"OpenAI Whisper {label} in CTranslate2 format (faster-whisper), for take scoring, "
                     "reference transcripts, dataset QC and segmenting long recordings."
                     + (" English only: more accurate on English than the multilingual model of its size."
                        if english else "")),
        size_bytes=size, licence="MIT", gated=False,
        # faster-whisper reads these; large-v3 and its turbo have a JSON vocabulary.
        required_files=("config.json", "tokenizer.json", "vocabulary.json" if v3 else "vocabulary.txt"),
        weight_files=("model.bin",), weight_indexes=(), optional_files=("preprocessor_config.json",),
        homepage=f"https://huggingface.co/{repo}", languages=langs, runs_well_on=runs_on, speed_class=speed)


# Sizes: the four files each plan fetches, from the recorded trees (tests/engine/hub_trees).
ASR_MODELS: tuple[CatalogEntry, ...] = (
    _whisper("Systran/faster-whisper-tiny.en", "tiny.en", 78_090_594, "fastest", "any CPU", english=True),
    _whisper("Systran/faster-whisper-tiny", "tiny", 78_203_619, "fastest", "any CPU", english=False),
    _whisper("Systran/faster-whisper-base.en", "base.en", 147_769_510, "fast", "any CPU", english=True),
    _whisper("Systran/faster-whisper-base", "base", 147_882_941, "fast", "any CPU", english=False),
    _whisper("Systran/faster-whisper-small.en", "small.en", 486_098_798, "moderate",
             "a 4-core CPU or better", english=True),
    _whisper("Systran/faster-whisper-small", "small", 486_212_372, "moderate", "a 4-core CPU or better",
             english=False),
    _whisper("Systran/faster-whisper-medium", "medium", 1_530_571_735, "slow",
             "an 8-core CPU, or a GPU", english=False),
    _whisper("mobiuslabsgmbh/faster-whisper-large-v3-turbo", "large-v3-turbo", 1_621_665_983, "slow",
             "a GPU; usable on an 8-core CPU", english=False, v3=True),
    _whisper("Systran/faster-whisper-large-v3", "large-v3", 3_090_835_702, "slowest",
             "an NVIDIA GPU (about 4 GB of GPU memory in int8)", english=False, v3=True),
)


def all_entries() -> tuple[CatalogEntry, ...]:
    """CSM-1B, the Pocket TTS variants and the Qwen3-TTS checkpoints (engine/hub/catalog_pocket.py and
    catalog_qwen3.py subclass CatalogEntry: imported on first use, so any of them can be imported first),
    then the Whispers."""
    return (*_tts_models(), *ASR_MODELS)


def _tts_models() -> tuple[CatalogEntry, ...]:
    from engine.hub.catalog_pocket import POCKET_ENTRIES
    from engine.hub.catalog_qwen3 import QWEN3_ENTRIES

    return (CSM_1B, *POCKET_ENTRIES, *QWEN3_ENTRIES)


def __getattr__(name: str):
    # `from engine.hub.catalog import CATALOG / TTS_MODELS` keeps working (built on first use)
    if name == "CATALOG":
        return all_entries()
    if name == "TTS_MODELS":
        return _tts_models()
    raise AttributeError(name)


def get_entry(model_id: str) -> CatalogEntry:
    for e in all_entries():
        if e.model_id == model_id:
            return e
    raise KeyError(f"unknown model {model_id!r}; known: {', '.join(e.model_id for e in all_entries())}")


def missing_files(entry: CatalogEntry, folder: Path) -> list[str]:
    """Names of the files `folder` lacks for `entry` (empty: the folder is complete and its weights
    are in a format the backend reads)."""
    from engine.hub.layouts import unreadable_weights

    folder = Path(folder)
    if not folder.is_dir():
        return entry.needed_files()
    missing = [f for f in entry.required_files if not (folder / f).is_file()]
    for lay in entry.layouts:
        if lay.sharded:
            index = folder / lay.index
            if not index.is_file():
                continue
            try:
                shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
            except (ValueError, KeyError, TypeError) as e:
                return missing + [f"{lay.index} (unreadable: {e})"]
            return missing + [s for s in shards if not (folder / s).is_file()]
        if lay.files and all((folder / f).is_file() for f in lay.files):
            why = unreadable_weights(entry, folder, lay)
            return missing + ([why] if why else [])
    why = unreadable_weights(entry, folder, None)
    return missing + [why or entry.preferred_layout.describe()]


def folder_size(folder: Path) -> int:
    folder = Path(folder)
    if not folder.exists():
        return 0
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) + \
        sum(p.resolve().stat().st_size for p in folder.rglob("*") if p.is_symlink() and p.resolve().is_file())


def human_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"
