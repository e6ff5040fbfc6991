"""Explicit pauses and paragraph breaks in what the user types."""
from __future__ import annotations

import pytest

from engine.text.script import MAX_PAUSE_S, Pause, ScriptError, Speech, parse_script


def test_pause_markers_and_blank_lines():
    parts = parse_script("Hello there.[pause 1.5s] Next bit\n\nNew paragraph [PAUSE 250ms] end [pause]",
                         default_pause_s=0.5)
    assert parts == [Speech("Hello there."), Pause(1.5), Speech("Next bit"), Pause(0.5),
                     Speech("New paragraph"), Pause(0.25), Speech("end"), Pause(0.5)]


def test_adjacent_pauses_merge_and_are_capped():
    assert parse_script("a [pause 1s][pause 2s] b") == [Speech("a"), Pause(3.0), Speech("b")]
    assert parse_script("a [pause 1500s] b")[1] == Pause(MAX_PAUSE_S)


def test_single_newlines_are_spaces_and_crlf_works():
    assert parse_script("one\ntwo\r\n\r\nthree", default_pause_s=1.0) == [
        Speech("one two"), Pause(1.0), Speech("three")]


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "[pause 2s]", "[pause] \n\n [pause 1s]"])
def test_nothing_to_say_is_a_clear_error(text):
    with pytest.raises(ScriptError, match="no text to speak"):
        parse_script(text)


def test_unknown_brackets_are_spoken_text():
    assert parse_script("see [note] here") == [Speech("see [note] here")]
