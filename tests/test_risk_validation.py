"""Validation against a disaster record: capture curves with ties, zones 4-5, township Spearman, record parsing."""

import numpy as np
import pandas as pd
import pytest

from risk.assessment import risk_validation as V
from risk.grid import Grid


def test_capture_curve_perfect_random_and_ties():
    harm = np.array([5.0, 0, 0, 0, 0, 0, 0, 0, 0, 5.0])
    perfect = V.capture_curve(np.array([9, 0, 0, 0, 0, 0, 0, 0, 0, 8.0]), harm)
    assert V.capture_curve(np.array([9, 0, 0, 0, 0, 0, 0, 0, 0, 8.0]), harm, np.array([0.2]))[0] == 1.0  # top 20 %
    flat = V.capture_curve(np.zeros(10), harm)
    np.testing.assert_allclose(flat, V.AREA_STEPS)  # all tied: the diagonal, not an arbitrary order
    assert np.trapezoid(perfect, V.AREA_STEPS) > np.trapezoid(flat, V.AREA_STEPS)
    assert np.isnan(V.capture_curve(np.ones(3), np.zeros(3))).all()


def test_township_spearman():
    labels = np.array([1, 1, 2, 2, 3, 3, 0])
    score = np.array([0.1, 0.1, 0.5, 0.5, 0.9, 0.9, 5.0])
    assert V.township_spearman(score, labels, np.array([1.0, 2.0, 3.0])) == 1.0
    assert V.township_spearman(score, labels, np.array([3.0, 2.0, 1.0])) == -1.0
    assert V.township_spearman(score[:4], labels[:4], np.array([1.0, 2.0])) is None


def test_validate_reports_risk_and_baselines():
    shape = (10, 10)
    risk = np.zeros(shape)
    risk[:2] = 5.0
    hazard = np.linspace(0, 1, 100).reshape(shape)
    zones = np.where(risk > 0, 5, 1).astype("uint8")
    labels = np.repeat(np.arange(1, 6), 20).reshape(shape)
    record = pd.DataFrame({"hazard": ["wind", "wind", "wind", "fire"], "township": ["A", "A", "C", "A"],
                           "direct_loss_10k_yuan": [10.0, 20.0, 1.0, 3.0]})
    rows, cols = np.array([0, 1, 9, 0]), np.array([0, 5, 9, 0])
    scores = {"wind": V.hazard_scores(risk, risk, hazard, np.ones(shape))}
    out = V.validate(record, rows, cols, scores, {"wind": zones}, labels, ["A", "B", "C", "D", "E"])
    r = out["hazards"]["wind"]
    assert list(out["hazards"]) == ["wind"] and r["disasters"] == 3 and r["recorded_harm"] == 31
    assert r["zones45_area_share"] == 0.2
    assert r["scores"]["risk"]["harm_share_zones45"] == pytest.approx(30 / 31, abs=1e-4)
    assert r["scores"]["risk"]["capture_auc"] > r["scores"]["hazard"]["capture_auc"]
    t = V.table(out)
    assert list(t["score"]) == ["risk", "exposure", "hazard", "hazard_x_people"]
    with pytest.raises(ValueError, match="harm_column|no column"):
        V.validate(record, rows, cols, scores, {"wind": zones}, labels, list("ABCDE"), harm_column="loss")


def test_parse_record_names_the_bad_line_and_maps_cells():
    t = pd.DataFrame({"hazard": ["wind", "wind"], "lon": ["119.3", "abc"], "lat": ["41.2", "41.2"]})
    with pytest.raises(ValueError, match="line 3"):
        V.parse_record(t, "x.csv")
    with pytest.raises(ValueError, match="missing column"):
        V.parse_record(t.drop(columns="lat"), "x.csv")
    rec = V.parse_record(t.iloc[:1], "x.csv")
    grid = Grid.from_bounds((500_000, 4_560_000, 520_000, 4_580_000), "EPSG:4549", 100)
    r, c = V.record_rowcol(rec, grid)
    assert r.shape == (1,) and c.shape == (1,)


def test_validate_run_reads_one_hazard_at_a_time_with_the_same_result():
    import geopandas as gpd
    from pyproj import Transformer
    from shapely.geometry import box

    grid = Grid.from_bounds((500_000, 4_560_000, 502_000, 4_562_000), "EPSG:4549", 100)
    towns = gpd.GeoDataFrame({"name": ["甲", "乙"]}, geometry=[box(500_000, 4_560_000, 501_000, 4_562_000),
                                                             box(501_000, 4_560_000, 502_000, 4_562_000)], crs=grid.crs)
    lon, lat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True).transform([500_150, 501_550],
                                                                                     [4_561_850, 4_560_450])
    table = pd.DataFrame({"hazard": ["wind", "fire"], "township": ["甲", "乙"], "lon": [str(x) for x in lon],
                          "lat": [str(y) for y in lat], "direct_loss_10k_yuan": ["4", "2"]})
    rng = np.random.default_rng(0)
    layers = {h: {k: rng.random(grid.shape) for k in ("risk", "exposure", "hazard")}
              | {"zones": rng.integers(1, 6, grid.shape).astype("f4")} for h in ("wind", "fire", "quake")}
    calls = []

    def loader(h):
        def load():
            calls.append(h)
            return layers[h]
        return load

    people = np.ones(grid.shape)
    whole = V.validate_run(table, "x.csv", grid, towns, layers, people, name_field="name")
    lazy = V.validate_run(table, "x.csv", grid, towns, {h: loader(h) for h in layers}, people, name_field="name")
    assert lazy == whole and list(whole["hazards"]) == ["wind", "fire"] and calls == ["wind", "fire", "quake"]
