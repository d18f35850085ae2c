"""Plan targets: indicators from the yearly table, the on-track rule, and table errors."""

import numpy as np
import pandas as pd
import pytest

from risk.capacity import plan_targets as T
from risk.config import load_yaml
from tests.conftest import ROOT

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def default_targets():
    return load_yaml(SCHEMA)["properties"]["targets"]["properties"]["indicators"]["default"]


def stats_table() -> pd.DataFrame:
    years = [2020, 2021, 2022, 2023, 2024]
    df = pd.DataFrame({
        "year": years,
        "population": [560000, 558000, 556000, 553000, 550000],
        "gdp_100m_yuan": [160.0, 168, 175, 183, 190],
        "workers_industry_mining_commerce": [90000, 91000, 91500, 92000, 92500],
        "safety_deaths": [20, 19, 18, 16, 15],
        "accidents_total": [60, 58, 57, 55, 52],
        "accidents_larger_and_above": [3, 3, 2, 3, 2],
        "natural_disaster_deaths": [1, 0, 1, 0, 0],
        "people_affected": [90000, 70000, 80000, 60000, 65000],
        "direct_loss_10k_yuan": [25000, 12000, 15000, 9000, 10000],
        "fulltime_firefighters": [150, 170, 190, 205, 215],
        "first_aid_trained": [6000, 7000, 8500, 9500, 10500],
        "warning_coverage_pct": [85.0, 87, 89, 90, 91],
        "relief_hours": [14.0, 13, 12, 11, 11],
    })
    return df.astype(str)


def test_one_indicator_by_hand_and_every_kind():
    stats = T.validate_statistics(stats_table(), source="stats.csv")
    prog = T.assess_progress(stats, default_targets()).set_index("indicator")
    assert len(prog) == 12
    # deaths per 10^8 yuan GDP, reduce by 33 %: least squares by hand
    x = np.arange(2020, 2025, dtype=float)
    y = np.array([20, 19, 18, 16, 15]) / np.array([160.0, 168, 175, 183, 190])
    slope, icpt = np.polyfit(x, y, 1)
    r = prog.loc["deaths_per_100m_gdp"]
    assert r["baseline"] == pytest.approx(20 / 160)
    assert r["target"] == pytest.approx(20 / 160 * 0.67)
    assert r["projected"] == pytest.approx(slope * 2025 + icpt)
    assert r["trend_per_year"] == pytest.approx(slope)
    assert r["on_track"] == (slope * 2025 + icpt <= 20 / 160 * 0.67)
    # safety deaths -15 %: 20 -> 17; latest 15 already below, trend keeps falling -> achieved
    assert prog.loc["safety_deaths", "status"] == "achieved"
    # warning coverage at least 92 %: trend 85..91 -> 2025 ~ 92.6 -> on track, not yet achieved
    w = prog.loc["warning_coverage_pct"]
    assert w["projected"] == pytest.approx(np.polyval(np.polyfit(x, [85, 87, 89, 90, 91], 1), 2025))
    assert w["status"] == "on_track"
    # yearly average of natural-disaster deaths per million over 2021-2025 (2025 from the trend)
    d = prog.loc["disaster_deaths_per_million"]
    per_m = np.array([1, 0, 1, 0, 0]) / np.array([560000, 558000, 556000, 553000, 550000]) * 1e6
    p25 = max(np.polyval(np.polyfit(x, per_m, 1), 2025), 0)
    assert d["projected"] == pytest.approx(np.mean([*per_m[1:], p25]))
    assert d["on_track"] == (d["projected"] <= 1)
    # firefighters per mille: 215 / 550000 * 1000 = 0.39 -> trend passes 0.4 by 2025
    f = prog.loc["firefighters_per_mille"]
    assert f["latest"] == pytest.approx(215 / 550000 * 1000)
    # relief hours at most 10: 14,13,12,11,11 -> trend 2025 = 9.9 -> on track
    assert prog.loc["relief_hours", "on_track"]
    assert prog.loc["loss_share_of_gdp_pct", "latest"] == pytest.approx(10000 / (190 * 1e4) * 100)


def test_baseline_override_and_subset():
    stats = T.validate_statistics(stats_table())
    prog = T.assess_progress(stats, {"safety_deaths": {"kind": "reduce_by_pct", "value": 15}},
                             baselines={"safety_deaths": 30})
    assert prog["target"].item() == pytest.approx(25.5) and len(prog) == 1


def test_off_track_and_no_data():
    tab = stats_table()
    tab["warning_coverage_pct"] = ["85", "84", "85", "84", ""]
    stats = T.validate_statistics(tab)
    prog = T.assess_progress(stats, {"warning_coverage_pct": {"kind": "at_least", "value": 92}}).iloc[0]
    assert prog["status"] == "off_track" and prog["latest_year"] == 2023
    stats2 = T.validate_statistics(tab.drop(columns="relief_hours"), needed=["population"])
    prog2 = T.assess_progress(stats2, {"relief_hours": {"kind": "at_most", "value": 10}}).iloc[0]
    assert prog2["status"] == "no_data"


@pytest.mark.parametrize(("edit", "needles"), [
    (lambda d: d.drop(columns="gdp_100m_yuan"), ["stats.csv: missing column", "'gdp_100m_yuan'"]),
    (lambda d: d.assign(safety_deaths=d["safety_deaths"].where(d.index != 2, "十八")),
     ["stats.csv, line 4, column 'safety_deaths'", "'十八' is not a number"]),
    (lambda d: d.assign(year=d["year"].where(d.index != 3, "2022")), ["line 5, column 'year'", "already given"]),
])
def test_bad_statistics_name_file_line_column(edit, needles):
    with pytest.raises(T.StatisticsTableError) as err:
        T.validate_statistics(edit(stats_table()), source="stats.csv")
    for n in needles:
        assert n in str(err.value)


def test_unknown_indicator_is_refused():
    with pytest.raises(ValueError, match="unknown indicator"):
        T.assess_progress(T.validate_statistics(stats_table()), {"nope": {"kind": "at_most", "value": 1}})


def test_target_progress_needs_only_the_configured_columns():
    wanted = {"relief_hours": {"kind": "at_most", "value": 10},
              "deaths_per_100m_gdp": {"kind": "reduce_by_pct", "value": 33}}
    assert T.needed_columns(wanted) == ["gdp_100m_yuan", "relief_hours", "safety_deaths"]
    # a table without the other indicators' columns is fine
    raw = stats_table()[["year", "gdp_100m_yuan", "relief_hours", "safety_deaths"]]
    series, prog = T.target_progress(raw, wanted, 2020, 2025, 2021, {}, source="stats.csv")
    stats = T.validate_statistics(raw, T.needed_columns(wanted), source="stats.csv")
    pd.testing.assert_frame_equal(prog, T.assess_progress(stats, wanted, 2020, 2025, 2021, {}))
    pd.testing.assert_frame_equal(series, T.indicator_series(stats))
    assert list(prog["indicator"]) == ["deaths_per_100m_gdp", "relief_hours"]
    with pytest.raises(T.StatisticsTableError, match="stats.csv: missing column.*'relief_hours'"):
        T.target_progress(raw.drop(columns="relief_hours"), wanted, source="stats.csv")
