"""Ratings: validation, persistence across restart, results table statistics, CSV export."""
import csv
import io

import pytest

from studio.core.library import Library
from studio.core.paths import get_paths
from studio.core.ratings import RatedItem, RatingError, RatingStore, mean_ci95

A = RatedItem("take:a1", "sesame/csm-1b", "T=0.9 k=50 p=1", "v1")
A2 = RatedItem("take:a2", "sesame/csm-1b", "T=0.9 k=50 p=1", "v1")
B = RatedItem("take:b1", "sesame/csm-1b", "T=0.5 k=20 p=1", "v1")
REF = RatedItem("recording:v1", "reference", "", "v1")


def _store():
    return RatingStore(Library(get_paths().library_db))


def test_bad_ratings_are_refused_with_a_message():
    s = _store()
    with pytest.raises(RatingError, match="1 to 5"):
        s.add_mos(A, 6, kind="naturalness", listener="ann")
    with pytest.raises(RatingError, match="-3 to \\+3"):
        s.add_cmos(A, B, 4, listener="ann")
    with pytest.raises(RatingError, match="listener"):
        s.add_mos(A, 3, kind="naturalness", listener="  ")
    assert s.all() == []


def test_ratings_survive_a_restart_with_listener_and_time():
    s = _store()
    s.add_mos(A, 4, kind="naturalness", listener="ann")
    s.add_mos(REF, 5, kind="similarity", listener="bob")
    again = RatingStore(Library(get_paths().library_db)).all()
    assert [(r.kind, r.item_a.key, r.score, r.listener) for r in again] == [
        ("mos_naturalness", "take:a1", 4.0, "ann"), ("mos_similarity", "recording:v1", 5.0, "bob")]
    assert all(r.created > 1e9 for r in again)


def test_results_table_mean_ci_count_and_win_rate():
    s = _store()
    for score in (4, 5, 3):
        s.add_mos(A, score, kind="naturalness", listener="ann")
    s.add_mos(A2, 4, kind="naturalness", listener="bob")  # same group as A
    s.add_mos(B, 2, kind="naturalness", listener="ann")
    s.add_cmos(A, B, -2, listener="ann")  # A preferred
    s.add_cmos(B, A2, 1, listener="bob")  # A2 (same group as A) preferred
    s.add_cmos(A, B, 0, listener="cy")   # tie
    rows = {r.setting: r for r in s.results()}
    a, b = rows["T=0.9 k=50 p=1"], rows["T=0.5 k=20 p=1"]
    assert a.mos_naturalness == pytest.approx(4.0) and a.mos_naturalness_n == 4
    m, ci = mean_ci95([4, 5, 3, 4])
    assert a.mos_naturalness_ci95 == pytest.approx(ci) and 0.5 < ci < 1.5
    assert b.mos_naturalness == 2.0 and b.mos_naturalness_ci95 is None  # one rating: no interval
    assert a.win_rate == pytest.approx(2.5 / 3) and b.win_rate == pytest.approx(0.5 / 3)
    assert a.cmos == pytest.approx(1.0) and b.cmos == pytest.approx(-1.0)
    text = s.results_csv()
    rows_csv = list(csv.DictReader(io.StringIO(text)))
    assert {r["setting"] for r in rows_csv} == {"T=0.9 k=50 p=1", "T=0.5 k=20 p=1"}
    assert rows_csv[1]["mos_naturalness_n"] == "4"


def test_abx_summary_counts_and_p_value(tmp_path):
    s = _store()
    for correct in (True, True, True, True, False):
        s.add_abx(A, B, correct=correct, listener="ann")
    (row,) = s.abx_summary()
    assert row["trials"] == 5 and row["correct"] == 4
    assert row["p_value"] == pytest.approx(6 / 32)
    out = s.export_csv(tmp_path / "r.csv")
    assert out.read_text().startswith("model,setting,voice")
