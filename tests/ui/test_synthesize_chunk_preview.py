"""The Synthesize editor previews the chunks the CHOSEN model will make: a Pocket TTS model cuts by its
own token count (it can make 2 chunks of a text CSM's rule keeps whole), and switching models redraws."""
from __future__ import annotations

import pytest

from studio.ui.synthesize.workspace import SynthesizeWorkspace
from tests.engine.tiny_pocket import TINY_CONFIG, write_tokenizer
from tests.ui.test_synthesize_helpers import make_ctx

TEXT = "The quick brown fox jumps over the lazy dog. Then it runs far away into the deep woods."


def _pocket_folder(folder):
    """What the preview reads of a Pocket TTS folder: its tokenizer and config (weights never)."""
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"not read by the preview")
    (folder / "config.yaml").write_text(TINY_CONFIG)
    write_tokenizer(folder / "tokenizer.json", 160)  # one token per character: 50 tokens ~ 50 characters
    return folder


def test_the_preview_follows_the_chosen_models_split_rule(qtbot, tmp_path):
    from engine.backends.pocket_split import splitter_for

    pocket = _pocket_folder(tmp_path / "pocket")
    ws = SynthesizeWorkspace(make_ctx())
    qtbot.addWidget(ws)
    c, v = ws.controller, ws.view
    c.extra_models += [("some-csm", tmp_path / "csm", "csm"), ("tiny-pocket", pocket, "pocket")]
    c.refresh_models()
    v.text_edit.setPlainText(TEXT)
    v.model_combo.setCurrentIndex(v.model_combo.findText("some-csm"))
    c.update_chunk_marks()
    assert v.chunk_info.text().startswith("1 chunk ·")  # CSM: one chunk fits its budget
    v.model_combo.setCurrentIndex(v.model_combo.findText("tiny-pocket"))  # the marks redraw on their own
    assert v.chunk_info.text().startswith("2 chunks ·")
    assert len(splitter_for(pocket)(TEXT)) == 2  # what generation makes (test_pocket_split: the package's split)
    assert len(v.text_edit.extraSelections()) == 2  # both chunks marked in the text, final period or not
    v.model_combo.setCurrentIndex(v.model_combo.findText("some-csm"))
    assert v.chunk_info.text().startswith("1 chunk ·")


@pytest.mark.parametrize("backend", ["pocket", "qwen3"])
def test_an_unreadable_model_folder_keeps_a_preview(qtbot, tmp_path, backend):
    (tmp_path / "empty").mkdir()
    ws = SynthesizeWorkspace(make_ctx())
    qtbot.addWidget(ws)
    ws.controller.extra_models.append((f"broken-{backend}", tmp_path / "empty", backend))
    ws.controller.refresh_models()
    ws.view.text_edit.setPlainText(TEXT)
    ws.controller.update_chunk_marks()
    assert ws.view.chunk_info.text().startswith("1 chunk ·")  # CSM's rule; generation will say what is wrong


def _qwen3_folder(folder):
    """What the preview reads of a Qwen3-TTS folder: config.json and the text tokenizer (weights never)."""
    import json

    from tests.engine.qwen3_ref.tiny import config, write_tokenizer

    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"not read by the preview")
    (folder / "config.json").write_text(json.dumps(config()))
    write_tokenizer(folder)
    return folder


def _marks(editor):
    return [(s.cursor.selectionStart(), s.cursor.selectionEnd()) for s in editor.extraSelections()]


def test_a_qwen3_model_previews_its_own_chunks_with_the_voice_and_language(qtbot, tmp_path):
    from engine.backends.qwen3_split import reference_frames, splitter_for
    from studio.ui.synthesize import chunk_marks
    from tests.engine.qwen3_texts import CHINESE
    from tests.ui.test_synthesize_helpers import speechlike

    qwen3 = _qwen3_folder(tmp_path / "qwen3")
    ctx = make_ctx()
    transcript = "These take the shape of a long round arch, with its path high above."
    ctx.voices.create("Ann", transcript=transcript, consent=True, samples=speechlike(24000, 8.0), sample_rate=24000)
    ws = SynthesizeWorkspace(ctx)
    qtbot.addWidget(ws)
    c, v = ws.controller, ws.view
    c.extra_models += [("some-csm", tmp_path / "csm", "csm"), ("tiny-qwen3", qwen3, "qwen3")]
    c.refresh_models()
    script = CHINESE + "\n\n今天就讲到这里。谢谢大家！"
    v.text_edit.setPlainText(script)
    v.model_combo.setCurrentIndex(v.model_combo.findText("some-csm"))
    csm_marks = _marks(v.text_edit)
    v.model_combo.setCurrentIndex(v.model_combo.findText("tiny-qwen3"))  # the marks redraw on their own
    v.voice_combo.setCurrentIndex(v.voice_combo.findText("Ann"))
    c.update_chunk_marks()

    # What generation will make: Chinese (detected), Ann's 8 s reference and transcript in context.
    rule = splitter_for(qwen3, reference_text=transcript, reference_frames=reference_frames(8 * 24000, 24000),
                        language="chinese")
    expected = rule(CHINESE) + rule("今天就讲到这里。谢谢大家！")
    assert 4 <= len(expected) and v.chunk_info.text().startswith(f"{len(expected)} chunks · 1 pause")
    marks = _marks(v.text_edit)
    assert marks == [(s.start, s.end) for s in chunk_marks.locate(script, expected)] and marks != csm_marks
    assert len(marks) == len(expected) + 1  # every chunk found in the typed text (，！？ read as , ! ?) + the pause
    chunk_ends = sorted(e for s, e in marks if script[s] != "\n")
    assert all(script[e - 1] in "。！？" for e in chunk_ends)  # each mark ends at a sentence's end

    v.voice_combo.setCurrentIndex(v.voice_combo.findText("(no reference voice)"))  # more room for text
    qtbot.waitUntil(lambda: _marks(v.text_edit) != marks, timeout=3000)
    no_voice = splitter_for(qwen3, language="chinese")
    assert v.chunk_info.text().startswith(f"{len(no_voice(CHINESE)) + 1} chunks")
