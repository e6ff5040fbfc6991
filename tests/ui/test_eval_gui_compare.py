"""Compare: the objective scores (cached engine.eval scores of takes) join the listening results in
the table, on each lane's label and in the CSV export."""
import csv

from studio.core.scores import ScoreStore
from tests.ui.eval_fakes import FakeScorer
from tests.ui.test_compare_workspace import _add_all, _setup


def put_scores(ws, take, similarity, hear=lambda t: t):
    """Score a take the way the Synthesize workspace caches it (fake ASR, real QC/WER)."""
    audio, sr = ws.controller.takes.load_audio(take)
    s = FakeScorer(hear=hear, similarities=[similarity]).score(audio, sr, text=take.recipe.text,
                                                               reference=audio, reference_sr=sr)
    ScoreStore(ws.ctx.library).put("take", take.id, s, config_key="cfg", audio_key="a")
    return s


def test_results_table_lane_labels_and_csv_carry_objective_scores(qtbot, tmp_path):
    ws, voice, quiet, loud = _setup(qtbot)
    put_scores(ws, quiet, 0.912)
    put_scores(ws, loud, 0.655, hear=lambda t: "")  # "two" dropped: WER 100 %
    c = ws.controller
    c.refresh_results()
    t = ws.view.results
    headers = [t.horizontalHeaderItem(j).text() for j in range(t.columnCount())]
    assert headers[-4:] == ["WER", "Similarity (ASV)", "DNSMOS ovr", "Scored takes"]
    rows = {t.item(r, 0).text(): [t.item(r, j).text() for j in range(t.columnCount())] for r in range(t.rowCount())}
    assert rows["sesame/csm-1b"][-4:-2] == ["0.0%", "0.912"]
    assert rows["other/model-x"][-4:-2] == ["100.0%", "0.655"]
    assert rows["sesame/csm-1b"][3] == "–"  # not rated yet: the listening columns stay empty
    _add_all(qtbot, ws, voice, quiet, loud)
    names = [r.name.text() for r in c.rows]
    assert "WER 0.0%" in names[0] and "sim 0.912" in names[0] and "WER" not in names[2]  # the recording
    ws.resize(1300, 700)
    ws.grab().save("/tmp/mynah-eval-compare.png")
    c.save_path = lambda: str(tmp_path / "results.csv")
    out = list(csv.DictReader(open(c.export_csv())))
    by_model = {r["model"]: r for r in out}
    assert float(by_model["sesame/csm-1b"]["mean_similarity"]) == 0.912
    assert float(by_model["other/model-x"]["mean_wer"]) == 1.0
    assert by_model["other/model-x"]["n_scored"] == "1"
