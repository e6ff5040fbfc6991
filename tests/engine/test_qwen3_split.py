"""Qwen3-TTS's chunk rule without torch (engine/backends/qwen3_split.py): the preview the Synthesize
editor draws equals the chunks the worker then generates, on the tiny model with a reference cloned in
context, for a real-length English script and a Chinese one (cut at 。！？, nothing lost, no spaces added)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from engine.backends.base import SamplingParams
from engine.backends.qwen3_split import max_frames_for_text, reference_frames, split, splitter_for
from engine.jobs import Done, EncodeReference, LoadModel, ReferenceSpec, Synthesize
from engine.text.normalize import normalize_for_tts
from engine.text.script import Speech, parse_script
from tests.engine.qwen3_texts import CHINESE, ENGLISH, SECOND_PART

SCRIPTS = {"english": ENGLISH + SECOND_PART["english"], "chinese": CHINESE + SECOND_PART["chinese"]}


@pytest.fixture(scope="module")
def tokenizer_folder(tmp_path_factory):
    """What the preview reads of a Qwen3-TTS folder: config.json and the text tokenizer (no weights)."""
    from tests.engine.qwen3_ref.tiny import config, write_tokenizer

    folder = tmp_path_factory.mktemp("qwen3-text")
    (folder / "config.json").write_text(json.dumps(config()))
    write_tokenizer(folder)
    return folder


def _preview(rule, script: str) -> list[str]:
    """As the editor's preview does (studio/ui/synthesize/chunk_marks.preview_chunks): each spoken part."""
    return [c for p in parse_script(script) if isinstance(p, Speech) for c in rule(p.text)]


def test_the_preview_never_imports_torch(tokenizer_folder):
    code = ("import sys; from engine.backends.qwen3_split import splitter_for; "
            f"chunks = splitter_for({str(tokenizer_folder)!r}, language='chinese')({CHINESE!r}); "
            "print(len(chunks), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    n, torch_loaded = out.stdout.split()
    assert int(n) > 1 and torch_loaded == "False"


def test_a_long_chinese_text_is_cut_at_its_sentence_ends_and_every_chunk_fits(tokenizer_folder):
    from engine.backends.qwen3_text import QwenTextTokenizer

    tok = QwenTextTokenizer(tokenizer_folder)
    text = normalize_for_tts(CHINESE, language="chinese")  # ，！？： become , ! ? : ; 。 stays
    chunks = split(text, tok.target, reference_positions=150)
    assert len(chunks) >= 3 and "".join(chunks) == text  # nothing lost, no space put between sentences
    assert all(c[-1] in "。!?" for c in chunks)  # whole sentences
    for c in chunks:
        assert len(tok.target(c)) + 12 + 150 + max_frames_for_text(c) <= 2048
    # A run with no punctuation at all still fits, cut between characters.
    run = "八哥会倾听然后回答" * 80
    pieces = split(run, tok.target)
    assert len(pieces) > 1 and "".join(pieces) == run
    # Japanese too: kana and kanji, 。 with no space after it.
    ja = "今日はとても良い天気です。公園を散歩しましょう。" * 40
    assert all(c.endswith("。") for c in split(ja, tok.target))


def test_a_chinese_take_has_room_for_slow_chinese_speech():
    sentence = "没有人教它们什么时候该说话。"  # 14 characters: about 4 s at a normal pace
    assert max_frames_for_text(sentence) / 12.5 >= len(sentence) / 3.5  # room even at 3.5 characters/s
    assert max_frames_for_text("Nobody taught them.") == max_frames_for_text("x" * 19)  # Latin: per letter


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 24000, 44100, 48000])
def test_reference_frames_count_the_resampled_clip(rate):
    from engine.audio.resample import resample

    for n in (rate // 2 + 1, 3 * rate + 7, 7 * rate + 1919):
        n24 = len(resample(np.zeros(n, np.float32), rate, 24000))
        assert reference_frames(n, rate) == int(np.ceil(n24 / 1920))


@pytest.fixture(scope="module")
def worker():
    import torch

    from engine.worker import EngineWorker
    from tests.engine.qwen3_ref.tiny import cached_full_model

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    w = EngineWorker().start()
    ev = w.run_sync(LoadModel(model_dir=cached_full_model(), backend="qwen3", model_id="tiny-qwen3", device="cpu"),
                    timeout=600)
    assert isinstance(ev, Done), getattr(ev, "traceback", ev)
    yield w
    w.shutdown()
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def reference(speech_clips):
    """A 6.6 s, 16 kHz clip with its transcript: cloned in context, it takes ~110 positions."""
    clip = next(r for r in speech_clips if r["file"] == "vctk_p225_008.wav")
    return ReferenceSpec(key="split-test", text=clip["transcript"], path=clip["path"])


@pytest.mark.slow
@pytest.mark.parametrize("language", ["english", "chinese"])
def test_the_preview_equals_the_chunks_the_worker_makes(worker, reference, language):
    from tests.engine.qwen3_ref.tiny import cached_full_model

    enc = worker.run_sync(EncodeReference(reference=reference), timeout=300)
    assert isinstance(enc, Done), getattr(enc, "traceback", enc)
    info = sf.info(str(reference.path))
    frames = reference_frames(info.frames, info.samplerate)
    assert frames == enc.result.n_frames == len(enc.result.payload["ref_codes"])

    script = SCRIPTS[language]
    preview = _preview(splitter_for(cached_full_model(), reference_text=reference.text, reference_frames=frames,
                                    language=language), script)
    without_reference = _preview(splitter_for(cached_full_model(), language=language), script)
    assert len(preview) >= 4 and preview != without_reference  # the reference's positions count

    params = SamplingParams(seed=1, max_audio_seconds=0.08, options={"language": language, "repeat_frames": 10_000,
                                                                     "silence_tail_s": 1000.0})
    done = worker.run_sync(Synthesize(text=script, voice=reference, params=params, watermark=False), timeout=600)
    assert isinstance(done, Done), getattr(done, "traceback", done)
    assert done.result.text_chunks == preview
