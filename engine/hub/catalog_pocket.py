"""Pocket TTS in the Models catalog: one entry per model variant and per way of getting it.

Kyutai publishes each variant twice (the `pocket-tts` package's config files name the exact files):
- `kyutai/pocket-tts` (GATED: accept the terms on the page and use a token): the weights WITH the
  voice-cloning projection; any reference clip becomes a voice.
- `kyutai/pocket-tts-without-voice-cloning` (public): the same network without it, plus precomputed
  preset voices (`embeddings/<name>.safetensors`). A model from here never clones: the backend says so
  and offers the presets, it never swaps in a stock voice on its own.
Both repos carry older files at their root (`tts_b6369a24.safetensors`, `tokenizer.model`, `embeddings/`)
and every other variant under `languages/`; a download plan fetches exactly one variant
(`plan_files`, proven on the repos' file trees in tests/engine/data/pocket_hub_trees.json).
The tokenizer always comes from the public repo (as the package's configs say), so a cloning download
reads two repos.

Weights CC-BY-4.0 (attribution to Kyutai), code MIT. Sizes: the Hub files are bf16 (2 bytes/parameter).
New catalog fields another branch adds (languages, hardware, kind) would read: languages=(LANGUAGE,),
hardware="cpu" (faster than real time on a laptop CPU), kind="tts".
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from engine.hub.catalog import CatalogEntry

CLONING_REPO = "kyutai/pocket-tts"
PUBLIC_REPO = "kyutai/pocket-tts-without-voice-cloning"
LICENCE = "CC-BY-4.0 (weights), MIT (code)"
PAGE = "https://huggingface.co/kyutai/pocket-tts"


@dataclass(frozen=True)
class HubFile:
    repo: str
    path: str  # a path or a glob inside the repo
    revision: str


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
    presets: tuple[str, ...] = ()  # preset voices the public repo ships for it (a sample; see plan_files)


_ENGLISH_PRESETS = ("alba", "marius", "javert", "jean", "fantine", "cosette", "eponine", "azelma", "anna", "vera",
                    "charles", "paul", "george", "mary", "jane", "michael", "eve", "bill_boerst",
                    "peter_yearsley", "stuart_bell", "caro_davy")
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
    *(Variant(lang, label, code, 109.5, 6, "tokenizer.json", clone, public, tok, (voice,))
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
              (voice,))
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
    variant: str = ""
    language: str = ""
    cloning: bool = True
    repo_id: str = ""  # the repo the weights come from (model_id names the variant: repo + "/" + variant)
    sources: tuple[HubFile, ...] = field(default_factory=tuple)  # every file (or glob) the plan fetches

    def download_patterns(self, repo_files: list[str]) -> list[str]:
        """Patterns for the weights repo's own listing (the files of `sources` that live there)."""
        return [s.path for s in self.sources if s.repo == self.repo_id]


def _entry(v: Variant, cloning: bool) -> PocketEntry:
    here = f"languages/{v.name}"
    weights = HubFile(CLONING_REPO if cloning else PUBLIC_REPO, f"{here}/model.safetensors",
                      v.clone_rev if cloning else v.public_rev)
    sources = [weights, HubFile(PUBLIC_REPO, f"{here}/{v.tokenizer}", v.tokenizer_rev)]
    presets_mb = 0.0
    if not cloning:
        sources.append(HubFile(PUBLIC_REPO, f"{here}/embeddings/*.safetensors", v.public_rev))
        presets_mb = len(v.presets) * v.layers * 1.0  # ~1 MB of KV cache per layer and voice
    size = int(v.params_m * 2e6 + presets_mb * 1e6)
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
        size_bytes=size, licence=LICENCE, gated=cloning,
        required_files=(f"{here}/{v.tokenizer}",),
        weight_files=(f"{here}/model.safetensors",),
        revision=weights.revision, homepage=PAGE if cloning else f"https://huggingface.co/{PUBLIC_REPO}",
        variant=v.name, language=v.language, cloning=cloning, repo_id=weights.repo, sources=tuple(sources),
        languages=(v.language,),
        runs_well_on=("any laptop CPU, faster than real time" if v.layers <= 8 else
                      "a recent 4-core CPU or a GPU (24 layers: about 3x the 6-layer model's work)"))


POCKET_ENTRIES: tuple[PocketEntry, ...] = tuple(_entry(v, c) for v in VARIANTS for c in (True, False))


def plan_files(entry: PocketEntry, trees: dict[str, list[str]]) -> list[HubFile]:
    """Exactly the files `entry` needs, from each repo's file list (paths). A source with no match is
    reported by the caller's missing-files check, never replaced by something else."""
    out = []
    for s in entry.sources:
        listing = trees.get(s.repo, [])
        hits = [p for p in listing if fnmatch.fnmatch(p, s.path) and p.count("/") == s.path.count("/")]
        out.extend(HubFile(s.repo, p, s.revision) for p in sorted(hits))
    return out
