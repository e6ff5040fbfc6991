"""The Synthesize editor previews the chunks the CHOSEN model will make: a Pocket TTS model cuts by its
own token count (it can make 2 chunks of a text CSM's rule keeps whole), and switching models redraws."""
from __future__ import annotations

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


def test_a_broken_pocket_folder_keeps_a_preview(qtbot, tmp_path):
    (tmp_path / "empty").mkdir()
    ws = SynthesizeWorkspace(make_ctx())
    qtbot.addWidget(ws)
    ws.controller.extra_models.append(("broken-pocket", tmp_path / "empty", "pocket"))
    ws.controller.refresh_models()
    ws.view.text_edit.setPlainText(TEXT)
    ws.controller.update_chunk_marks()
    assert ws.view.chunk_info.text().startswith("1 chunk ·")  # CSM's rule; generation will say what is wrong
