"""`mynah synth` with a Qwen3-TTS model: which language the take asks for (engine/text/detect_language.py,
the detector the Synthesize workspace uses), checked against the model's config before it is loaded."""
from __future__ import annotations

from pathlib import Path


def qwen3_language(model: Path, text: str, asked: str | None) -> tuple[str, str]:
    """The language a Qwen3-TTS take asks for, by the model's name for it (what the take's recipe keeps),
    and a line saying which and why: the one --language names (a name or an ISO code; "auto": the model
    guesses), else detected from the text as the Synthesize workspace does. ValueError when the model does
    not speak the one named."""
    import json

    from engine.backends.qwen3_config import Qwen3Spec
    from engine.lm.config import ConfigError
    from engine.text.detect_language import CODE_OF, LABELS, NAMES, take_language

    try:
        known = Qwen3Spec.from_hf(json.loads((model / "config.json").read_text(encoding="utf-8"))).language_names()
    except (OSError, ValueError, ConfigError):
        known = None  # loading the model will say what is wrong with the folder
    if asked is None:
        name, why = take_language(text), "detected from the text; --language overrides"
        if name == "auto":
            why = "nothing in the text tells: the model guesses; --language overrides"
        elif known is not None and name not in known:
            name, why = "auto", f"{name} detected, which {model.name} does not list: the model guesses"
    else:
        asked = str(asked).strip()
        name = NAMES.get(asked.lower(), asked.lower())
        why = "--language: the model guesses" if name == "auto" else "--language"
        if known is not None and name not in known:
            raise ValueError(f"{model.name} does not speak {asked!r}: --language takes {', '.join(known)} (or an "
                             "ISO code such as zh or de), or leave it out to detect the language from the text")
    return name, f"Language: {LABELS[CODE_OF[name]] if name in CODE_OF else name} ({why})"
