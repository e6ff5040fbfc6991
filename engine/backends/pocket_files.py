"""Pocket TTS model folders without torch: where the weights, tokenizer, config and preset voices are
(the layouts engine/backends/pocket_load.py loads), and which language a variant speaks. The GUI reads
these (preset voices, the chunk preview) before any model is loaded; pocket_load re-exports them."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

TOKENIZER_NAMES = ("tokenizer.json", "tokenizer.model")
LANGUAGES = {"english": "en", "french": "fr", "german": "de", "portuguese": "pt", "italian": "it",
             "spanish": "es", "dutch": "nl"}


def variant_language(variant: str) -> str:
    """"french_24l" -> "fr"; a variant the package does not name (a fine-tune folder) reads as English."""
    return next((code for name, code in LANGUAGES.items() if variant.startswith(name)), "en")


class PocketLoadError(Exception):
    """The folder is not a loadable Pocket TTS model; the message says what is wrong."""


@dataclass
class PocketFolder:
    weights: Path
    tokenizer: Path
    config: Path  # a yaml: the folder's own or the package's
    variant: str  # e.g. "english", or the folder name for a flat folder
    presets: dict[str, Path] = field(default_factory=dict)  # preset voice name -> voice state file


def package_config_dir() -> Path:
    """The package's config folder, found without importing it (its __init__ imports torch models)."""
    import importlib.util

    spec = importlib.util.find_spec("pocket_tts")
    if spec is None or not spec.submodule_search_locations:
        raise PocketLoadError("the pocket-tts package is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "config"


def find_folder(model_dir: Path) -> PocketFolder:
    model_dir = Path(model_dir)
    languages = model_dir / "languages"
    if languages.is_dir():
        variants = sorted(p for p in languages.iterdir() if (p / "model.safetensors").is_file())
        if not variants:
            raise PocketLoadError(f"{languages} holds no languages/<variant>/model.safetensors")
        if len(variants) > 1:
            raise PocketLoadError(f"{languages} holds several variants ({', '.join(p.name for p in variants)}); "
                                  "keep one per model folder")
        here = variants[0]
    elif (model_dir / "model.safetensors").is_file():
        here = model_dir
    else:
        raise PocketLoadError(f"{model_dir} holds neither model.safetensors nor languages/<variant>/model.safetensors")
    tokenizer = next((here / n for n in TOKENIZER_NAMES if (here / n).is_file()), None)
    if tokenizer is None:
        raise PocketLoadError(f"{here} has no tokenizer ({' or '.join(TOKENIZER_NAMES)})")
    config = here / "config.yaml"
    if not config.is_file():
        if here is model_dir:
            raise PocketLoadError(f"{model_dir} has no config.yaml (needed outside the languages/<variant> layout)")
        config = package_config_dir() / f"{here.name}.yaml"
        if not config.is_file():
            raise PocketLoadError(f"the pocket-tts package does not know the variant {here.name!r}; "
                                  "add its config.yaml next to model.safetensors")
    emb = here / "embeddings"
    presets = {p.stem: p for p in sorted(emb.glob("*.safetensors"))} if emb.is_dir() else {}
    return PocketFolder(here / "model.safetensors", tokenizer, config, here.name, presets)
