"""Survey rounds matched point by point (risk.followup.changes) and the rectification history (history)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from risk.followup.changes import RoundMismatch, change_counts, match_rounds
from risk.followup.history import is_open, join_history, open_past_deadline, point_history

CRS = "EPSG:4549"


def frame(rows, crs=CRS):
    """rows: (category, id, x, y, inspection, depth)."""
    df = pd.DataFrame(rows, columns=["category", "id", "x", "y", "inspection", "max_depth_m"])
    df["township"] = "T1"
    return gpd.GeoDataFrame(df.drop(columns=["x", "y"]), geometry=gpd.points_from_xy(df["x"], df["y"]), crs=crs)


X0, Y0 = 440000.0, 4530000.0
PREV = [
    ("crane", "QZ-1", X0, Y0, "合格", np.nan),            # unchanged
    ("crane", "QZ-2", X0 + 5000, Y0, "不合格", np.nan),     # rectified (passed)
    ("crane", "QZ-3", X0 + 10000, Y0, "合格", np.nan),     # worsened
    ("crane", "QZ-4", X0 + 15000, Y0, "合格", np.nan),     # moved 300 m
    ("crane", "QZ-5", X0 + 20000, Y0, "合格", np.nan),     # removed
    ("crane", "QZ-6", X0 + 25000, Y0, "合格", np.nan),     # renumbered -> QZ-60, 10 m away
    ("billboard", "GG-1", X0, Y0 + 5000, "过期", np.nan),   # taken down
    ("waterlogging", "NL-1", X0, Y0 + 10000, None, 0.8),   # depth reduced
    ("waterlogging", "NL-2", X0 + 5000, Y0 + 10000, None, 0.3),  # depth increased
    ("waterlogging", "NL-3", X0 + 10000, Y0 + 10000, None, 0.3),  # within tolerance: unchanged
]
CUR = [
    ("crane", "QZ-1", X0, Y0, "合格", np.nan),
    ("crane", "QZ-2", X0 + 5000, Y0, "合格", np.nan),
    ("crane", "QZ-3", X0 + 10000, Y0, "不合格", np.nan),
    ("crane", "QZ-4", X0 + 15300, Y0, "合格", np.nan),
    ("crane", "QZ-60", X0 + 25000, Y0 + 10, "合格", np.nan),
    ("crane", "QZ-7", X0 + 30000, Y0, "合格", np.nan),     # new
    ("billboard", "GG-1", X0, Y0 + 5000, "已拆除", np.nan),
    ("waterlogging", "NL-1", X0, Y0 + 10000, None, 0.2),
    ("waterlogging", "NL-2", X0 + 5000, Y0 + 10000, None, 0.7),
    ("waterlogging", "NL-3", X0 + 10020, Y0 + 10000, None, 0.32),
]


def kinds(changes) -> dict:
    return {(r.id or r.previous_id): r.kind for r in changes.itertuples()}


def test_every_kind_is_found_and_nothing_else():
    ch, note = match_rounds(frame(PREV), frame(CUR), tolerance_m=50)
    assert note == ""
    assert kinds(ch) == {"QZ-1": "unchanged", "QZ-2": "rectified", "QZ-3": "worsened", "QZ-4": "moved",
                         "QZ-5": "removed", "QZ-60": "rematched", "QZ-7": "new", "GG-1": "rectified",
                         "NL-1": "rectified", "NL-2": "worsened", "NL-3": "unchanged"}
    row = ch[ch["id"] == "QZ-60"].iloc[0]
    assert row["previous_id"] == "QZ-6" and row["match"] == "distance" and row["distance_m"] == pytest.approx(10)
    assert ch.loc[ch["id"] == "QZ-4", "distance_m"].iloc[0] == pytest.approx(300)
    assert "拆除" in ch.loc[ch["id"] == "GG-1", "note"].iloc[0]
    removed = ch[ch["kind"] == "removed"].iloc[0]
    assert removed.geometry.x == X0 + 20000  # drawn where it was
    counts = change_counts(ch)
    total = counts[(counts["township"] == "合计 total") & (counts["category"] == "crane")].iloc[0]
    assert (total["new"], total["removed"], total["moved"], total["rematched"]) == (1, 1, 1, 1)


def test_ids_reused_for_other_points_are_reported_not_paired():
    prev = frame([("crane", "A", X0, Y0, "合格", np.nan), ("crane", "B", X0 + 9000, Y0, "合格", np.nan)])
    cur = frame([("billboard", "A", X0, Y0, "合格", np.nan),  # same id, other category
                 ("crane", "B", X0 + 9000, Y0 + 5000, "合格", np.nan),  # same id, 5 km away
                 ("billboard", "Z", X0 + 40000, Y0, "合格", np.nan)])
    ch, _ = match_rounds(prev, cur, tolerance_m=50, max_move_m=1000, prev_categories=["crane", "billboard"])
    amb = ch[ch["kind"] == "ambiguous"]
    assert set(amb["id"]) == {"A", "B"} and len(amb) == 3
    assert any("billboard" in n and "crane" in n for n in amb["note"])
    assert any("reused" in n and "5000 m" in n for n in amb["note"])
    assert set(ch["kind"]) == {"ambiguous", "new"}


def test_several_candidates_within_the_tolerance_are_ambiguous():
    prev = frame([("crane", "A", X0, Y0, "合格", np.nan)])
    cur = frame([("crane", "X", X0 + 10, Y0, "合格", np.nan), ("crane", "Y", X0 - 10, Y0, "合格", np.nan)])
    ch, _ = match_rounds(prev, cur, tolerance_m=50)
    assert (ch["kind"] == "ambiguous").all() and len(ch) == 3
    assert "X, Y" in ch[ch["previous_id"] == "A"]["note"].iloc[0]


def test_duplicate_id_in_one_round_is_ambiguous():
    prev = frame([("crane", "A", X0, Y0, "合格", np.nan)])
    cur = frame([("crane", "A", X0, Y0, "合格", np.nan), ("crane", "A", X0 + 3000, Y0, "合格", np.nan)])
    ch, _ = match_rounds(prev, cur)
    assert sorted(ch["kind"]) == ["ambiguous", "ambiguous", "removed"]
    assert ch[ch["kind"] == "ambiguous"]["note"].str.contains("used for 2 points in this round").all()


def test_other_crs_is_reprojected_and_said():
    prev = frame(PREV).to_crs("EPSG:4326")
    ch, note = match_rounds(prev, frame(CUR), tolerance_m=50)
    assert "reprojected from EPSG:4326" in note
    assert kinds(ch) == kinds(match_rounds(frame(PREV), frame(CUR), tolerance_m=50)[0])


def test_no_crs_geographic_crs_and_category_sets_are_refused():
    with pytest.raises(RoundMismatch, match="no CRS"):
        match_rounds(frame(PREV).set_crs(None, allow_override=True), frame(CUR))
    with pytest.raises(RoundMismatch, match="not projected"):
        match_rounds(frame(PREV), frame(CUR).to_crs("EPSG:4326"))
    with pytest.raises(RoundMismatch, match="only in the previous round: garden; only in this round: power"):
        match_rounds(frame(PREV), frame(CUR), prev_categories=["crane", "garden"], cur_categories=["crane", "power"])


def test_history_days_open_and_the_overdue_list():
    prev, cur = frame(PREV), frame(CUR)
    ch, _ = match_rounds(prev, cur, tolerance_m=50)
    assert list(is_open(cur, 0.5)) == [False, False, True, False, False, False, False, False, True, False]
    register = cur.assign(rank=np.arange(1, len(cur) + 1), risk_level=[1, 2, 5, 1, 1, 1, 1, 1, 4, 1],
                          risk_score=np.linspace(1, 0, len(cur)))
    h = join_history(register, point_history(cur, prev, ch, "2024-06-30", "2022-10-31", open_depth_m=0.5))
    by = h.set_index("id")
    assert by.loc["QZ-3", "status"] == "open" and by.loc["QZ-3", "open_since"] == "2024-06-30"  # newly failed
    assert by.loc["QZ-3", "days_open"] == 0
    assert by.loc["QZ-2", "status"] == "closed" and np.isnan(by.loc["QZ-2", "days_open"])
    assert by.loc["QZ-2", "status_history"] == "2022-10-31 open; 2024-06-30 closed"
    assert by.loc["QZ-7", "first_seen"] == "2024-06-30" and by.loc["QZ-60", "first_seen"] == "2022-10-31"
    assert by.loc["QZ-60", "previous_id"] == "QZ-6"
    # a third round: the history goes back through the earlier one, days count from the first open round
    prior = pd.DataFrame({"category": ["waterlogging"], "id": ["NL-2"], "first_seen": ["2020-05-01"],
                          "open_since": ["2020-05-01"], "status_history": ["2020-05-01 open; 2022-10-31 open"]})
    prev2 = prev.copy()
    prev2.loc[prev2["id"] == "NL-2", "max_depth_m"] = 0.9  # open in the previous round too
    h3 = join_history(register, point_history(cur, prev2, ch, "2024-06-30", "2022-10-31", prior, open_depth_m=0.5))
    nl2 = h3.set_index("id").loc["NL-2"]
    assert nl2["first_seen"] == "2020-05-01" and nl2["open_since"] == "2020-05-01"
    assert nl2["days_open"] == (pd.Timestamp("2024-06-30") - pd.Timestamp("2020-05-01")).days
    assert nl2["status_history"] == "2020-05-01 open; 2022-10-31 open; 2024-06-30 open"
    overdue = open_past_deadline(h3, 365)
    assert list(overdue["id"]) == ["NL-2"]
    assert list(open_past_deadline(h3, 10_000)["id"]) == []


def test_round_mismatches_are_input_errors_and_rounds_far_apart_are_refused():
    from risk.errors import InputError

    assert issubclass(RoundMismatch, InputError)  # a rule stops with one line, no traceback
    wrong_zone = frame(PREV).set_crs("EPSG:4547", allow_override=True)  # the same numbers, labelled 114°E
    with pytest.raises(RoundMismatch, match=r"do not overlap \(their points are \d+ km apart.*wrong CRS"):
        match_rounds(wrong_zone, frame(CUR))
    ch, note = match_rounds(frame(PREV).to_crs("EPSG:4547"), frame(CUR))  # truly in another CRS: reprojected
    assert "reprojected from EPSG:4547" in note and (ch["kind"] != "ambiguous").all()


def test_an_id_that_moved_under_another_name_is_ambiguous():
    prev = frame([("crane", "A", X0, Y0, "合格", np.nan), ("crane", "B", X0 + 9000, Y0, "合格", np.nan),
                  ("crane", "C", X0 + 18000, Y0, "合格", np.nan)]).assign(name=["东塔吊", "西塔吊", "南塔吊"])
    cur = frame([("crane", "A", X0 + 400, Y0, "合格", np.nan), ("crane", "B", X0 + 9400, Y0, "合格", np.nan),
                 ("crane", "C", X0 + 18010, Y0, "合格", np.nan)]).assign(name=["北门吊", "西塔吊", "南塔吊二号"])
    got = match_rounds(prev, cur, tolerance_m=50)[0].set_index("id")
    assert got.loc["A", "kind"] == "ambiguous" and "renamed 东塔吊 -> 北门吊" in got.loc["A", "note"]
    assert got.loc["B", "kind"] == "moved"  # same name: it moved
    assert got.loc["C", "kind"] == "unchanged"  # renamed in place: the same point


def test_point_history_survives_its_csv_and_joins_the_register(tmp_path):
    from risk.followup.history import HISTORY_COLUMNS
    from risk.io import write_table
    from risk.io.followup import read_history

    rows = [(c, "=" + i if i == "QZ-3" else i, x, y, insp, d) for c, i, x, y, insp, d in CUR]
    cur = frame(rows).assign(id=lambda g: g["id"].replace({"NL-3": "0012"}))
    prev = frame(PREV).assign(id=lambda g: g["id"].replace({"QZ-3": "=QZ-3", "NL-3": "0012"}))
    ch, _ = match_rounds(prev, cur, tolerance_m=50)
    hist = point_history(cur, prev, ch, "2024-06-30", "2022-10-31")
    assert len(hist) == len(cur) and list(hist.columns) == ["category", "id", *HISTORY_COLUMNS]
    write_table(hist, tmp_path / "point_history.csv")
    text = (tmp_path / "point_history.csv").read_text(encoding="utf-8-sig")
    assert "'=QZ-3" in text and "\n=QZ-3" not in text  # neutralised for Excel
    back = read_history([tmp_path / "point_history.csv"])
    register = cur.assign(rank=np.arange(1, len(cur) + 1), risk_level=3, risk_score=0.5)
    a, b = join_history(register, hist), join_history(register, back)
    assert list(a.columns) == [*register.columns, *HISTORY_COLUMNS]
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry")))
    by = b.set_index("id")
    assert by.loc["=QZ-3", "status"] == "open" and by.loc["0012", "first_seen"] == "2022-10-31"
    assert read_history([]) is None


def test_survey_changes_rule_writes_the_history_the_register_reads(tmp_path):
    from risk.io import write_layers
    from risk.mock import mock_snakemake, script_main

    def survey_db(rows, path):
        g = frame(rows)
        write_layers({c: g[g["category"] == c].drop(columns="category") for c in sorted(set(g["category"]))}, path)

    survey_db(CUR, tmp_path / "r" / "survey" / "survey.gpkg")
    survey_db(PREV, tmp_path / "prev" / "survey" / "survey.gpkg")
    fu = {"previous": str(tmp_path / "prev"), "date": "2024-06-30", "previous_date": "2022-10-31"}
    cfg = {"results_dir": str(tmp_path / "r"), "inputs": {"townships": str(tmp_path / "none.gpkg")}, "followup": fu}
    write_layers({"townships": gpd.GeoDataFrame({"name": ["T1"]}, geometry=gpd.GeoSeries.from_xy([X0], [Y0]).buffer(
        40000), crs=CRS)}, tmp_path / "none.gpkg")
    sm = mock_snakemake("survey_changes", config=cfg)
    script_main("survey_changes")(sm)
    hist = pd.read_csv(sm.output.history, encoding="utf-8-sig", keep_default_na=False)
    assert hist.set_index("id").loc["QZ-60", "previous_id"] == "QZ-6"
    assert mock_snakemake("risk_register", config=cfg).input.history == [sm.output.history]
    assert mock_snakemake("open_past_deadline", config=cfg).input.register.endswith("points/risk_register.gpkg")
    assert mock_snakemake("risk_register", config={**cfg, "followup": {"previous": None}}).input.history == []
    survey_db([r for r in PREV if r[0] != "billboard"], tmp_path / "prev" / "survey" / "survey.gpkg")
    with pytest.raises(RoundMismatch, match="only in this round: billboard"):
        script_main("survey_changes")(sm)
