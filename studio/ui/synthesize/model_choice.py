"""Choosing a model in the Synthesize workspace: which engine is fastest on this hardware, what each
backend needs from a voice, and where a voice's encoded state is stored. No Qt widgets are built here."""
from __future__ import annotations

from pathlib import Path

from engine.backends.devices import hardware_summary, recommend_backend

NAMES = {"csm": "Sesame CSM-1B", "pocket": "Pocket TTS", "qwen3": "Qwen3-TTS"}


def transcript_optional(backend: str) -> bool:
    """Pocket TTS conditions on the audio alone; Qwen3-TTS clones from the audio alone too (with a
    transcript it clones closer, in context); CSM reads the reference's words with it."""
    return backend in ("pocket", "qwen3")


def qwen3_kind(folder) -> tuple[str, list[str]]:
    """(mode, preset speakers) of a Qwen3-TTS folder from its config.json: mode "base" (clones),
    "custom_voice" (preset speakers + a style instruction) or "voice_design" (a described voice).
    ("", []) when the folder is not a readable Qwen3-TTS folder."""
    import json

    try:
        cfg = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return "", []
    if not isinstance(cfg, dict) or cfg.get("model_type") != "qwen3_tts":
        return "", []
    speakers = list(((cfg.get("talker_config") or {}).get("spk_id") or {}))
    return str(cfg.get("tts_model_type") or "base"), speakers


def voice_state_dir(ctx, voice_id) -> Path:
    """The voice's folder in the library: encoded voice states live there, one per model weights."""
    return Path(ctx.paths.voices) / str(voice_id) / "states"  # VoiceStore._voice_dir: purged with the voice


def recommend(view, *, first_time: bool) -> str | None:
    """Say which installed engine will be fastest here; on first show, select its first model."""
    combo = view.model_combo
    backends = [combo.itemData(i)[2] for i in range(combo.count())]
    hw = hardware_summary()
    best, why = recommend_backend(hw, sorted(set(backends)) or ["pocket", "csm"])
    if best is None:
        view.recommendation.setText("")
        return None
    installed = best in backends
    view.recommendation.setText(f"Fastest here: {NAMES.get(best, best)} ({why})"
                                + ("" if installed else " — install it in Models"))
    if first_time and installed and combo.currentData() is not None and combo.currentData()[2] != best:
        combo.setCurrentIndex(backends.index(best))
    return best


PRESET = "preset:"  # voice ids of a model's preset voices (a recipe's voice_id, e.g. "preset:alba")


def chunk_rule(model, reference=None, language: str = "auto"):
    """How the chosen model cuts a script into chunks, for the editor's preview (None: CSM's rule, a
    character budget). Pocket TTS counts its own tokens (engine/backends/pocket_split.py), Qwen3-TTS its
    own KV cache positions with this voice's reference and the take's language
    (engine/backends/qwen3_split.py); neither imports torch, and the preview then shows the chunks
    generation will make. `model`: the combo's (id, folder, backend); `reference`: the voice's
    ReferenceSpec (or None); `language`: what the take asks for ("german", "auto")."""
    if not model or model[2] not in ("pocket", "qwen3"):
        return None
    if model[2] == "qwen3":
        return _qwen3_rule(model[1], reference, language)
    from engine.backends.pocket_files import PocketLoadError
    from engine.backends.pocket_split import splitter_for

    try:
        return splitter_for(model[1])
    except (PocketLoadError, OSError, ValueError):  # not loadable: generation will say why; keep CSM's preview
        return None


def _qwen3_rule(folder, reference, language: str):
    from engine.audio.io import AudioFileError, probe
    from engine.backends.qwen3_split import reference_frames, splitter_for
    from engine.hub.errors import CheckpointError

    text, frames = "", 0
    if reference is not None and reference.path is not None and reference.text.strip():
        try:  # the clip's header: how many code frames the reference will take in the prompt
            info = probe(reference.path)
            text, frames = reference.text, reference_frames(info.frames, info.sample_rate)
        except (AudioFileError, OSError):  # generation will say what is wrong with the clip
            pass
    try:
        return splitter_for(folder, reference_text=text, reference_frames=frames, language=language)
    except (CheckpointError, OSError, ValueError, KeyError, TypeError):  # generation will say why
        return None


def preset_voices(folder) -> list[str]:
    """Names of the preset voices a model ships: a Pocket TTS folder's `languages/<variant>/embeddings/*`,
    a Qwen3-TTS CustomVoice model's speakers (config.json)."""
    if folder is None:
        return []
    mode, speakers = qwen3_kind(folder)
    if mode == "custom_voice":
        return speakers
    return sorted(p.stem for p in Path(folder).glob("languages/*/embeddings/*.safetensors"))


def preset_spec(voice_id: str, folder):
    """The engine input for a preset voice: its stored state file (Pocket TTS), or None for a Qwen3-TTS
    speaker (the take's `options['speaker']` names it). GenerateError when it is not there."""
    from engine.jobs import ReferenceSpec
    from studio.ui.synthesize.generation import GenerateError

    name = voice_id[len(PRESET):]
    mode, speakers = qwen3_kind(folder) if folder else ("", [])
    if mode:
        if name not in speakers:
            raise GenerateError(f"The preset speaker “{name}” belongs to another model; pick the model it came with.")
        return None
    files = sorted(Path(folder).glob(f"languages/*/embeddings/{name}.safetensors")) if folder else []
    if not files:
        raise GenerateError(f"The preset voice “{name}” belongs to another model; pick the model it came with.")
    return ReferenceSpec(key=voice_id, text="", path=files[0])


DEFAULT_TEMPERATURE = {"csm": 0.9, "pocket": 0.3, "qwen3": 0.9}  # each model's recommended value


def apply_backend(view, backend: str | None, previous: str | None) -> None:
    """Show the knobs the chosen engine has: top-k/top-p for token models, EOS/steps/clamp for Pocket TTS.
    A temperature still at the previous engine's default moves to this one's."""
    pocket = backend == "pocket"
    view.settings_form.setRowVisible(view.pocket_box, pocket)
    for w in (view.top_k, view.top_p):
        w.setEnabled(not pocket)
        w.setToolTip("Pocket TTS samples continuous latents: top-k/top-p do not apply" if pocket else "")
    old, new = DEFAULT_TEMPERATURE.get(previous or ""), DEFAULT_TEMPERATURE.get(backend or "")
    if new is not None and (old is None or abs(view.temperature.value() - old) < 1e-9):
        view.temperature.setValue(new)


DETECT = "detect"  # the language combo's first item: detected from the text when generating


def apply_model(view, model) -> None:
    """Qwen3-TTS's own fields: the take's language (all its models), the style instruction (CustomVoice)
    or the voice description (VoiceDesign). `model`: the combo's (id, folder, backend) or None."""
    qwen3 = bool(model) and model[2] == "qwen3"
    mode = qwen3_kind(model[1])[0] if qwen3 else ""
    view.pick_form.setRowVisible(view.language_combo, qwen3)
    view.pick_form.setRowVisible(view.instruct_edit, mode in ("custom_voice", "voice_design"))
    view.instruct_edit.setPlaceholderText(
        "Describe the voice: “a warm, low female voice, slow, with a slight rasp”" if mode == "voice_design"
        else "Optional style: “calm, slightly amused”")


def take_language(view) -> str:
    """The language a Qwen3-TTS take asks for, by the model's name for it ("german"): the combo's
    choice, or detected from the script (DETECT); "auto" (the model's own guess) when the script has no
    letters to tell."""
    from engine.text.detect_language import NAMES, take_language as detected

    code = view.language_combo.currentData()
    if code == DETECT:
        return detected(view.text_edit.toPlainText())
    return NAMES.get(code, "auto") if code else "auto"


def options(view, backend: str | None) -> dict:
    """Backend options from the view; a knob at its default is left out (the recipe stays minimal)."""
    if backend == "qwen3":
        out = {"language": take_language(view)}
        voice = view.voice_combo.currentData()
        if isinstance(voice, str) and voice.startswith(PRESET):
            out["speaker"] = voice[len(PRESET):]
        if view.instruct_edit.isVisibleTo(view) and view.instruct_edit.text().strip():
            out["instruct"] = view.instruct_edit.text().strip()
        return out
    if backend != "pocket":
        return {}
    out = {}
    if view.eos_threshold.value() > view.eos_threshold.minimum():
        out["eos_threshold"] = round(view.eos_threshold.value(), 3)
    if view.flow_steps.value() != 1:
        out["decode_steps"] = int(view.flow_steps.value())
    if view.noise_clamp.value() > 0:
        out["noise_clamp"] = round(view.noise_clamp.value(), 3)
    return out
