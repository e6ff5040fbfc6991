"""The models Mynah knows how to run, and the files each needs on disk.

A model folder is "present" when every required file is there and one of the weight layouts is
complete (a single safetensors file, or an index plus all the shards it names).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class CatalogEntry:
    model_id: str  # Hugging Face repo id
    name: str
    backend: str
    description: str
    size_bytes: int  # approximate download size
    licence: str
    gated: bool  # the repo asks users to accept terms and sign in (a token is needed)
    required_files: tuple[str, ...]  # besides the weights
    weight_files: tuple[str, ...] = ("model.safetensors",)  # one single-file layout...
    # ...or a sharded one: (index file, glob of its shards), in order of preference.
    weight_indexes: tuple[tuple[str, str], ...] = (
        ("model.safetensors.index.json", "model-*-of-*.safetensors"),
        ("transformers.safetensors.index.json", "transformers-*-of-*.safetensors"),
    )
    optional_files: tuple[str, ...] = ()
    revision: str = "main"
    homepage: str = ""
    extra_patterns: tuple[str, ...] = field(default_factory=tuple)

    @property
    def folder_name(self) -> str:
        """Where the model lives under the models dir (repo id with '/' replaced)."""
        return self.model_id.replace("/", "--")

    @property
    def weight_index(self) -> str:
        return self.weight_indexes[0][0]

    def download_patterns(self, repo_files: list[str]) -> list[str]:
        """What to fetch from a repo listing: the files it needs plus ONE weight layout (the
        public CSM repo carries both a sharded layout and other checkpoints; never fetch twice)."""
        base = [*self.required_files, *self.optional_files, *self.extra_patterns]
        names = set(repo_files)
        if all(w in names for w in self.weight_files):
            return base + list(self.weight_files)
        for index, shards in self.weight_indexes:
            if index in names:
                return base + [index, shards]
        return base + list(self.weight_files)  # let the "missing" check name what is absent


CSM_1B = CatalogEntry(
    model_id="sesame/csm-1b",
    name="Sesame CSM-1B",
    backend="csm",
    description="Conversational speech model: Llama-3.2-1B backbone + depth decoder over Mimi codes "
                "(24 kHz, 32 codebooks). Clones a voice from a 5-15 s reference with its transcript.",
    size_bytes=6_220_000_000,
    licence="Apache-2.0",
    gated=True,
    required_files=("config.json", "tokenizer.json"),
    optional_files=("tokenizer_config.json", "generation_config.json", "preprocessor_config.json", "special_tokens_map.json",
                    "chat_template.jinja"),
    homepage="https://huggingface.co/sesame/csm-1b",
)

def all_entries() -> tuple[CatalogEntry, ...]:
    """CSM-1B, then the Pocket TTS variants (engine/hub/catalog_pocket.py, which subclasses CatalogEntry:
    imported on first use, so either module can be imported first)."""
    from engine.hub.catalog_pocket import POCKET_ENTRIES

    return (CSM_1B, *POCKET_ENTRIES)


def __getattr__(name: str):
    if name == "CATALOG":  # `from engine.hub.catalog import CATALOG` keeps working
        return all_entries()
    raise AttributeError(name)


def get_entry(model_id: str) -> CatalogEntry:
    for e in all_entries():
        if e.model_id == model_id:
            return e
    raise KeyError(f"unknown model {model_id!r}; known: {', '.join(e.model_id for e in all_entries())}")


def missing_files(entry: CatalogEntry, folder: Path) -> list[str]:
    """Names of the files `folder` lacks for `entry` (empty: the folder is complete)."""
    folder = Path(folder)
    if not folder.is_dir():
        return [*entry.required_files, entry.weight_files[0]]
    missing = [f for f in entry.required_files if not (folder / f).is_file()]
    if all((folder / w).is_file() for w in entry.weight_files):
        return missing
    for index_name, _ in entry.weight_indexes:
        index = folder / index_name
        if index.is_file():
            try:
                shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
            except (ValueError, KeyError) as e:
                return missing + [f"{index_name} (unreadable: {e})"]
            return missing + [s for s in shards if not (folder / s).is_file()]
    return missing + [entry.weight_files[0]]


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
