"""Pocket TTS in the Models catalog: one entry per model variant and per way of getting it.

Kyutai publishes each variant twice (the `pocket-tts` package's config files name the exact files):
- `kyutai/pocket-tts` (GATED: accept the terms on the page and use a token): the weights WITH the
  voice-cloning projection; any reference clip becomes a voice.
- `kyutai/pocket-tts-without-voice-cloning` (public): the same network without it, plus precomputed
  preset voices (`embeddings/<name>.safetensors`). A model from here never clones: the backend says so
  and offers the presets, it never swaps in a stock voice on its own.
Both repos carry the first release's files at their root (`tts_b6369a24.safetensors`, and in the public
one `tokenizer.model`, `embeddings/`) and every other variant under `languages/`. An entry lists its
files as catalog `sources` (repo + path + pinned revision); the ordinary `plan_files` then picks exactly
one variant (proven on the repos' recorded trees in tests/engine/hub_trees/kyutai--*.json). The
tokenizer always comes from the public repo (as the package's configs say), so a cloning download reads
two repos. The model folder keeps the repos' paths (`languages/<variant>/...`), which never collide.

Weights CC-BY-4.0 (attribution to Kyutai), code MIT. Sizes: `SIZES` below, the plan totals on the
recorded trees; exact only where every planned file's size is published (`size_exact`).
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.hub.catalog import CatalogEntry, HubFile, WeightLayout

CLONING_REPO = "kyutai/pocket-tts"
PUBLIC_REPO = "kyutai/pocket-tts-without-voice-cloning"
LICENCE = "CC-BY-4.0 (weights), MIT (code)"
PAGE = "https://huggingface.co/kyutai/pocket-tts"
# pocket_tts.utils.get_predefined_voice pins the preset voices at this revision of the public repo.
PRESET_REV = "a7056f505a4a8ca72d8b5fb1440071d6f1a35739"
# German's presets at the revision their sizes are recorded at: the package pins the German weights
# (and German 24-layer's, the same blob) at this revision too, so these are the states of those weights.
GERMAN_PRESET_REV = "1e08e6a23401048648a9fdcfde2f89348215c2a7"


@dataclass(frozen=True)
class Variant:
    name: str  # the package's config name, and the repos' languages/<name>/ folder
    label: str
    language: str  # ISO 639-1
    params_m: float  # parameters in millions (Mimi encoder included)
    layers: int
    tokenizer: str  # file name under languages/<name>/
    clone_rev: str  # revisions the package's config pins
    public_rev: str
    tokenizer_rev: str
    presets: tuple[str, ...] = ()  # preset voices named in the description (the download fetches every one)
    preset_rev: str = PRESET_REV  # the public repo's embeddings/ at this revision


# The 27 preset voices pocket_tts knows; every variant's embeddings/ folder holds one state per voice.
_ENGLISH_PRESETS = ("alba", "marius", "javert", "jean", "fantine", "cosette", "eponine", "azelma", "anna", "vera",
                    "charles", "paul", "george", "mary", "jane", "michael", "eve", "bill_boerst",
                    "peter_yearsley", "stuart_bell", "caro_davy", "giovanni", "lola", "juergen", "rafael", "daan",
                    "estelle")


def _first(voice: str) -> tuple[str, ...]:
    return (voice, *(v for v in _ENGLISH_PRESETS if v != voice))
VARIANTS: tuple[Variant, ...] = (
    Variant("english", "English", "en", 109.5, 6, "tokenizer.json", "db04f0e653473e5c7333c69686ac92b7460b0c1d",
            "a7056f505a4a8ca72d8b5fb1440071d6f1a35739", "00eac05ed3d16bdc3f6b5d598874019c34a89214", _ENGLISH_PRESETS),
    Variant("english_18m_2026-10", "English small (18M)", "en", 27.9, 8, "tokenizer.model",
            "db04f0e653473e5c7333c69686ac92b7460b0c1d", "a7056f505a4a8ca72d8b5fb1440071d6f1a35739",
            "08ffc58775e62aad9409511b9591c9af626270f3", _ENGLISH_PRESETS),
    Variant("english_7m_2026-10", "English tiny (7M)", "en", 16.6, 8, "tokenizer.model",
            "db04f0e653473e5c7333c69686ac92b7460b0c1d", "a7056f505a4a8ca72d8b5fb1440071d6f1a35739",
            "08ffc58775e62aad9409511b9591c9af626270f3", _ENGLISH_PRESETS),
    Variant("english_2m_2026-10", "English tiny (2M)", "en", 11.7, 8, "tokenizer.model",
            "db04f0e653473e5c7333c69686ac92b7460b0c1d", "a7056f505a4a8ca72d8b5fb1440071d6f1a35739",
            "08ffc58775e62aad9409511b9591c9af626270f3", _ENGLISH_PRESETS),
    *(Variant(lang, label, code, 109.5, 6, "tokenizer.json", clone, public, tok, _first(voice),
              GERMAN_PRESET_REV if lang == "german" else PRESET_REV)
      for lang, label, code, clone, public, tok, voice in (
          ("french", "French", "fr", "3e82814a68665eec246ff649b14c71331f955c06",
           "1e08e6a23401048648a9fdcfde2f89348215c2a7", "8843db76457a91db32077edf8dfcd1c0e3e755fd", "estelle"),
          ("german", "German", "de", "3e82814a68665eec246ff649b14c71331f955c06",
           "1e08e6a23401048648a9fdcfde2f89348215c2a7", "4e1e0a3e611c51c0b4ed8174fc10f32a54644303", "juergen"),
          ("portuguese", "Portuguese", "pt", "3e82814a68665eec246ff649b14c71331f955c06",
           "1e08e6a23401048648a9fdcfde2f89348215c2a7", "4e1e0a3e611c51c0b4ed8174fc10f32a54644303", "rafael"),
          ("italian", "Italian", "it", "3e82814a68665eec246ff649b14c71331f955c06",
           "1e08e6a23401048648a9fdcfde2f89348215c2a7", "4e1e0a3e611c51c0b4ed8174fc10f32a54644303", "giovanni"),
          ("spanish", "Spanish", "es", "3e82814a68665eec246ff649b14c71331f955c06",
           "1e08e6a23401048648a9fdcfde2f89348215c2a7", "4e1e0a3e611c51c0b4ed8174fc10f32a54644303", "lola"),
          ("dutch", "Dutch", "nl", "3e82814a68665eec246ff649b14c71331f955c06",
           "1e08e6a23401048648a9fdcfde2f89348215c2a7", "4e1e0a3e611c51c0b4ed8174fc10f32a54644303", "daan"))),
    *(Variant(f"{lang}_24l", f"{label} large (24 layers)", code, 336.1, 24, "tokenizer.json", clone, public, tok,
              _first(voice), GERMAN_PRESET_REV if lang == "german" else PRESET_REV)
      for lang, label, code, clone, public, tok, voice in (
          ("french", "French", "fr", "3e82814a68665eec246ff649b14c71331f955c06",
           "1e08e6a23401048648a9fdcfde2f89348215c2a7", "8843db76457a91db32077edf8dfcd1c0e3e755fd", "estelle"),
          ("german", "German", "de", "2dd944b099d06bb9edbd221fef138685711d9bf0",
           "4e1e0a3e611c51c0b4ed8174fc10f32a54644303", "4e1e0a3e611c51c0b4ed8174fc10f32a54644303", "juergen"),
          ("portuguese", "Portuguese", "pt", "2dd944b099d06bb9edbd221fef138685711d9bf0",
           "4e1e0a3e611c51c0b4ed8174fc10f32a54644303", "4e1e0a3e611c51c0b4ed8174fc10f32a54644303", "rafael"),
          ("italian", "Italian", "it", "3e82814a68665eec246ff649b14c71331f955c06",
           "1e08e6a23401048648a9fdcfde2f89348215c2a7", "4e1e0a3e611c51c0b4ed8174fc10f32a54644303", "giovanni"),
          ("spanish", "Spanish", "es", "2dd944b099d06bb9edbd221fef138685711d9bf0",
           "4e1e0a3e611c51c0b4ed8174fc10f32a54644303", "4e1e0a3e611c51c0b4ed8174fc10f32a54644303", "lola"),
          ("dutch", "Dutch", "nl", "2dd944b099d06bb9edbd221fef138685711d9bf0",
           "4e1e0a3e611c51c0b4ed8174fc10f32a54644303", "4e1e0a3e611c51c0b4ed8174fc10f32a54644303", "daan"))),
)


@dataclass(frozen=True)
class PocketEntry(CatalogEntry):
    """A Pocket TTS variant; its files and their repos are plain catalog `sources`, so plans, downloads,
    imports and the offline message go through the same code as every other model."""
    variant: str = ""
    language: str = ""
    cloning: bool = True


def _entry(v: Variant, cloning: bool) -> PocketEntry:
    here = f"languages/{v.name}"
    weights = HubFile(CLONING_REPO if cloning else PUBLIC_REPO, f"{here}/model.safetensors",
                      v.clone_rev if cloning else v.public_rev)
    sources = [weights, HubFile(PUBLIC_REPO, f"{here}/{v.tokenizer}", v.tokenizer_rev)]
    presets = () if cloning else (f"{here}/embeddings/*.safetensors",)
    if presets:
        sources.append(HubFile(PUBLIC_REPO, presets[0], v.preset_rev))
    size, exact = SIZES[(v.name, cloning)]
    what = ("clones any voice from a few seconds of reference (no transcript needed)" if cloning else
            f"preset voices only ({', '.join(v.presets[:4])}{'…' if len(v.presets) > 4 else ''}); "
            "no voice cloning: use the gated variant for that")
    return PocketEntry(
        model_id=f"{weights.repo}/{v.name}",
        name=f"Pocket TTS {v.label}{'' if cloning else ' (preset voices)'}",
        backend="pocket",
        description=(f"Kyutai Pocket TTS, {v.params_m:.0f}M parameters ({v.layers} transformer layers), "
                     f"continuous Mimi latents at 12.5 Hz, 24 kHz; {what}. Faster than real time on a laptop "
                     "CPU. Weights CC-BY-4.0: credit Kyutai when you publish audio made with it."),
        size_bytes=size, size_exact=exact, licence=LICENCE, gated=cloning,
        required_files=(f"{here}/{v.tokenizer}",),
        weight_files=(weights.path,), weight_indexes=(), layouts=(WeightLayout(files=(weights.path,)),),
        extra_patterns=presets,
        revision=weights.revision, homepage=PAGE if cloning else f"https://huggingface.co/{PUBLIC_REPO}",
        variant=v.name, language=v.language, cloning=cloning, repo_id=weights.repo, sources=tuple(sources),
        languages=(v.language,),
        runs_well_on=("any laptop CPU, faster than real time" if v.layers <= 8 else
                      "a recent 4-core CPU or a GPU (24 layers: about 3x the 6-layer model's work)"))


# Bytes each plan fetches (weights + tokenizer, + the 27 preset voices for a public variant) on the
# repos' recorded trees (tests/engine/hub_trees/kyutai--*.json, checked by tests/engine/test_hub_plans.py).
# Exact (True) only where every planned file's size is published; the rest are estimates (see the trees).
SIZES: dict[tuple[str, bool], tuple[int, bool]] = {
    ("english", True): (219_274_216, False),
    ("english", False): (389_537_464, False),
    ("english_18m_2026-10", True): (55_859_339, False),
    ("english_18m_2026-10", False): (169_368_172, False),
    ("english_7m_2026-10", True): (33_259_339, False),
    ("english_7m_2026-10", False): (61_636_548, False),
    ("english_2m_2026-10", True): (23_459_339, False),
    ("english_2m_2026-10", False): (66_025_151, False),
    ("french", True): (219_275_162, False),
    ("french", False): (384_279_146, False),
    ("german", True): (219_275_162, False),
    ("german", False): (384_279_146, True),
    ("portuguese", True): (219_275_162, False),
    ("portuguese", False): (384_279_146, False),
    ("italian", True): (219_275_162, False),
    ("italian", False): (384_279_146, False),
    ("spanish", True): (219_275_162, False),
    ("spanish", False): (384_279_146, False),
    ("dutch", True): (219_275_162, False),
    ("dutch", False): (384_279_146, False),
    ("french_24l", True): (672_424_642, False),
    ("french_24l", False): (1_353_480_938, False),
    ("german_24l", True): (672_424_642, False),
    ("german_24l", False): (1_353_480_938, True),
    ("portuguese_24l", True): (672_424_642, False),
    ("portuguese_24l", False): (1_353_480_938, False),
    ("italian_24l", True): (672_424_642, False),
    ("italian_24l", False): (1_353_480_938, False),
    ("spanish_24l", True): (672_424_642, False),
    ("spanish_24l", False): (1_353_480_938, False),
    ("dutch_24l", True): (672_424_642, False),
    ("dutch_24l", False): (1_353_480_938, False),
}
POCKET_ENTRIES: tuple[PocketEntry, ...] = tuple(_entry(v, c) for v in VARIANTS for c in (True, False))
