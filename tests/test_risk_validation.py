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


def _ranked(scores, zones, cells, harm_at, labels, harm_by_label, top=0.01):
    """The figures by ranking every cell of whole arrays (the former implementation): the reference."""
    harm_cells = np.zeros(zones.shape)
    harm_cells.flat[cells] = harm_at
    valid = np.isfinite(scores["risk"]) & (zones > 0)
    harm, high = harm_cells[valid], zones[valid] >= 4
    out = {"recorded_harm": round(float(harm.sum()), 3), "zones45_area_share": round(float(high.mean()), 4),
           "scores": {}}
    for name, arr in scores.items():
        curve = V.capture_curve(np.nan_to_num(arr[valid], nan=0.0), harm)
        harm45 = float(harm[high].sum() / harm.sum()) if name == "risk" else float(np.interp(high.mean(),
                                                                                              V.AREA_STEPS, curve))
        out["scores"][name] = {"capture_auc": round(float(np.trapezoid(curve, V.AREA_STEPS)), 4),
                               "harm_share_top": round(float(np.interp(top, V.AREA_STEPS, curve)), 4),
                               "harm_share_zones45": round(harm45, 4),
                               "township_spearman": V.township_spearman(arr[valid], labels[valid], harm_by_label),
                               "curve": [round(float(x), 4) for x in curve]}
    out["top_area_share"] = top
    return out


def _case(seed=0, shape=(60, 80)):
    """Rasters with many ties (zeros, a few levels), NaN outside, zones, townships and 40 harmed cells."""
    rng = np.random.default_rng(seed)
    risk = np.where(rng.random(shape) < 0.7, 0.0, rng.integers(1, 9, shape) / 4).astype("f4")
    risk[:, :9] = np.nan
    hazard = rng.random(shape).astype("f4")
    hazard[rng.random(shape) < 0.3] = np.nan  # NaN inside the area: counts as 0 in the ranking
    people = np.where(rng.random(shape) < 0.5, 0, rng.integers(0, 5, shape)).astype("f4")
    zones = np.where(np.isfinite(risk), rng.integers(1, 6, shape), 0).astype("uint8")
    labels = (np.arange(shape[1])[None, :] // 9 + 1).repeat(shape[0], 0).astype("int32")  # 9 townships + 0
    labels[:5] = 0
    cells = np.sort(rng.choice(risk.size, 40, replace=False))
    harm = rng.exponential(10.0, cells.size)
    harm[:3] = 0.0
    return (risk, risk * 2, hazard, people), zones, cells, harm, labels, rng.random(9)


@pytest.mark.parametrize("seed", [0, 1])
def test_block_sums_equal_ranking_every_cell_on_numpy_and_dask(seed):
    import dask.array as da

    layers, zones, cells, harm, labels, by_label = _case(seed)
    scores = V.hazard_scores(*layers)
    want = _ranked(scores, zones, cells, harm, labels, by_label, top=0.05)
    assert 0 < want["scores"]["risk"]["harm_share_top"] < 1  # the case is not degenerate
    assert V.validate_hazard(scores, zones, (cells, harm), labels, by_label, 0.05) == want
    for chunk in (16, 23):
        lazy = V.hazard_scores(*(da.from_array(a, chunks=chunk) for a in layers))
        got = V.validate_hazard(lazy, da.from_array(zones, chunks=chunk), (cells, harm), labels, by_label, 0.05)
        assert got == want, chunk


def test_capture_curve_from_groups_of_equal_scores():
    rng = np.random.default_rng(5)
    score = rng.integers(0, 4, 200).astype("f8")
    harm = np.where(rng.random(200) < 0.1, rng.random(200), 0.0)
    u, inv = np.unique(-score, return_inverse=True)
    got = V.curve_from_groups(np.bincount(inv), np.bincount(inv, weights=harm), harm.sum())
    np.testing.assert_array_equal(got, V.capture_curve(score, harm))
    assert got[0] == 0.0 and got[-1] == pytest.approx(1.0)
    assert np.isnan(V.curve_from_groups(np.array([3.0]), np.zeros(1), 0.0)).all()
