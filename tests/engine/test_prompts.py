"""Prompt scripts: the shipped CMU ARCTIC list, user TXT/CSV/TSV files, and bad input."""
from __future__ import annotations

import time

import pytest

from engine.text.phonemes import ARPABET, coverage, text_phones
from engine.text.prompts import (ASSETS_DIR, PromptScriptError, builtin_script, load_script,
                                 parse_script)


def test_cmu_arctic_ships_with_its_notice():
    s = builtin_script("cmu_arctic")
    assert len(s.prompts) == 1132 and not s.issues
    assert s.prompts[0].id == "arctic_a0001"
    assert s.prompts[0].text == "Author of the danger trail, Philip Steels, etc."
    notice = (ASSETS_DIR / "NOTICE.md").read_text()
    assert "Carnegie Mellon University" in notice and "Kominek" in notice and "Modification" in notice


def test_txt_one_prompt_per_line_with_dedupe(tmp_path):
    p = tmp_path / "my script.txt"
    p.write_text("Hello there.\n\n  Hello   there. \nSecond line.\n", encoding="utf-8")
    s = load_script(p)
    assert [x.text for x in s.prompts] == ["Hello there.", "Second line."]
    assert [i.kind for i in s.issues] == ["duplicate_text"]
    assert "line 3" in s.issues[0].message and "line 1" in s.issues[0].message
    assert len({x.id for x in s.prompts}) == 2


def test_csv_with_header_quotes_and_duplicate_ids(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text('id,text\nq1,"Yes, indeed."\nq1,Another one\nq2,Unquoted, with comma\n', encoding="utf-8")
    s = load_script(p)
    assert [(x.id, x.text) for x in s.prompts] == [("q1", "Yes, indeed."), ("q1-2", "Another one"),
                                                   ("q2", "Unquoted, with comma")]
    assert any(i.kind == "duplicate_id" and "q1-2" in i.message for i in s.issues)


def test_tsv_id_text_and_flags(tmp_path):
    long = "word " * 80
    p = tmp_path / "s.tsv"
    p.write_text(f"a1\tFine.\na2\t{long}\na3\tCafé ☕ time\na4\t\n", encoding="utf-8")
    s = load_script(p)
    assert [x.id for x in s.prompts] == ["a1", "a2", "a3"]  # a4 is empty: skipped, reported
    kinds = {(i.prompt_id, i.kind) for i in s.issues}
    assert ("a2", "overlong") in kinds and ("a3", "unknown_chars") in kinds and ("a4", "empty") in kinds
    assert s.flagged_ids() == {"a2", "a3"}
    assert s.prompts[2].text == "Café ☕ time"  # flagged, not altered or lost


def test_empty_and_unreadable_scripts_say_why(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_text("", encoding="utf-8")
    with pytest.raises(PromptScriptError, match="empty"):
        load_script(p)
    p.write_text("\n\n   \n", encoding="utf-8")
    with pytest.raises(PromptScriptError, match="empty"):
        load_script(p)
    t = tmp_path / "ids_only.tsv"
    t.write_text("a1\t\na2\t \n", encoding="utf-8")
    with pytest.raises(PromptScriptError, match="no prompts"):
        load_script(t)
    b = tmp_path / "bin.txt"
    b.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(PromptScriptError, match="not a text file"):
        load_script(b)
    with pytest.raises(PromptScriptError, match="cannot read"):
        load_script(tmp_path / "missing.txt")


def test_ten_thousand_lines_and_other_encodings(tmp_path):
    p = tmp_path / "big.txt"
    p.write_text("\n".join(f"Sentence number {i} is here." for i in range(10_000)), encoding="utf-8")
    t = time.perf_counter()
    s = load_script(p)
    assert len(s.prompts) == 10_000 and len({x.id for x in s.prompts}) == 10_000
    assert time.perf_counter() - t < 30  # sanity bound only (not a benchmark): must not hang
    u = tmp_path / "utf16.txt"
    u.write_text("Ünïcödé line.\n", encoding="utf-16")
    assert load_script(u).prompts[0].text == "Ünïcödé line."
    w = tmp_path / "latin.txt"
    w.write_bytes("Café au lait.\n".encode("cp1252"))
    assert load_script(w).prompts[0].text == "Café au lait."


def test_phoneme_coverage():
    full = coverage(p.text for p in builtin_script().prompts)
    assert full.covered == set(ARPABET) and full.fraction == 1.0
    one = coverage(["Hello world"])
    assert 0 < one.fraction < 0.5 and "missing" in one.summary()
    phones, unknown = text_phones("Read the zxqvbn")
    assert phones[:3] == ["R", "EH", "D"] and unknown == ["zxqvbn"]
