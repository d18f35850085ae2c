"""Capacity index: one township recomputed by hand, grades, TOPSIS, and errors that name file, line, column."""

import numpy as np
import pandas as pd
import pytest

from risk.capacity import capacity_index as C
from risk.config import load_yaml
from risk.weights import InconsistentJudgementError
from tests.conftest import ROOT

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"

TOWNSHIPS = pd.DataFrame({"code": ["211382001", "211382002", "211382003", "211382004", "211382005"],
                          "name": ["城关街道", "宋杖子镇", "三十家子镇", "刀尔登镇", "大河北镇"]})


def raw_table() -> pd.DataFrame:
    rows = [
        # township, population, mgmt_staff, risk_assessment_done, funding, reserve, beds, fire, vol, militia,
        # trained, shelter_capacity, warning, drills
        ["城关街道", 80000, 40, 1, 300, 150, 600, 60, 400, 200, 4000, 30000, 98, 6],
        ["宋杖子镇", 25000, 8, 1, 40, 20, 60, 5, 80, 120, 600, 5000, 90, 2],
        ["三十家子镇", 30000, 6, 0, 25, 10, 45, 0, 40, 90, 300, 2500, 85, 1],
        ["刀尔登镇", 18000, 9, 1, 35, 18, 50, 4, 60, 100, 700, 6000, 92, 3],
        ["211382005", 22000, 5, 0, 15, 6, 30, 0, 20, 60, 150, 1500, 80, 1],  # named by code
    ]
    df = pd.DataFrame(rows, columns=list(C.TABLE_COLUMNS))
    return df.astype(str)


def default_ahp():
    return load_yaml(SCHEMA)["properties"]["capacity"]["properties"]["ahp"]["properties"]


@pytest.fixture
def ahp():
    return {k: v["default"] for k, v in default_ahp().items()}


def _eig_weights(a):
    vals, vecs = np.linalg.eig(np.asarray(a, float))
    w = np.abs(vecs[:, np.argmax(vals.real)].real)
    return w / w.sum()


def _frac(v):
    if isinstance(v, str):
        n, d = v.split("/")
        return float(n) / float(d)
    return float(v)


def test_one_township_recomputed_independently(ahp):
    table = C.validate_capacity_table(raw_table(), TOWNSHIPS, "capacity.csv")
    res, wtab, info = C.capacity_index(table, ahp=ahp, weighting="combined", combination="multiplicative")

    # --- by hand: raw counts -> rates for every township (needed for min-max) ---
    raw = raw_table().set_index("township").astype(float)
    pop = raw["population"]
    ind = pd.DataFrame({
        "mgmt_staff_per_10k": raw["mgmt_staff"] / pop * 1e4,
        "risk_assessment": raw["risk_assessment_done"],
        "funding_per_capita": raw["funding_10k_yuan"] * 1e4 / pop,
        "drills_per_year": raw["plan_drills_per_year"],
        "reserve_per_capita": raw["reserve_value_10k_yuan"] * 1e4 / pop,
        "hospital_beds_per_10k": raw["hospital_beds"] / pop * 1e4,
        "rescue_force_per_10k": (raw["firefighters"] + raw["volunteers"] + raw["militia"]) / pop * 1e4,
        "trained_share_pct": raw["trained_people"] / pop * 100,
        "shelter_places_per_person": raw["shelter_capacity"] / pop,
        "warning_coverage_pct": raw["warning_coverage_pct"],
    })
    norm = (ind - ind.min()) / (ind.max() - ind.min())
    # AHP: group weight x local weight, from the eigenvectors of the default matrices
    groups = {"management": ["mgmt_staff_per_10k", "risk_assessment", "funding_per_capita", "drills_per_year"],
              "preparedness": ["reserve_per_capita", "hospital_beds_per_10k", "rescue_force_per_10k"],
              "self_rescue": ["trained_share_pct", "shelter_places_per_person", "warning_coverage_pct"]}
    gw = _eig_weights([[_frac(v) for v in row] for row in ahp["groups"]])
    w_ahp = {}
    for g, wg in zip(groups, gw, strict=True):
        lw = _eig_weights([[_frac(v) for v in row] for row in ahp[g]])
        w_ahp.update({k: wg * wl for k, wl in zip(groups[g], lw, strict=True)})
    w_ahp = pd.Series(w_ahp)[ind.columns]
    # entropy on the normalised values
    p = norm / norm.sum()
    e = -(p * np.log(p.where(p > 0, 1.0))).sum() / np.log(len(norm))
    w_ent = (1 - e) / (1 - e).sum()
    w = w_ahp * w_ent / (w_ahp * w_ent).sum()
    expected = float((norm.loc["宋杖子镇"] * w).sum())

    got = res.set_index("name").loc["宋杖子镇"]
    assert got["code"] == "211382002"
    assert got["mgmt_staff_per_10k"] == pytest.approx(8 / 25000 * 1e4)
    assert got["n_rescue_force_per_10k"] == pytest.approx(norm.loc["宋杖子镇", "rescue_force_per_10k"])
    assert got["capacity_index"] == pytest.approx(expected, rel=1e-9)
    assert got["w_warning_coverage_pct"] == pytest.approx(w["warning_coverage_pct"])
    assert wtab["weight"].sum() == pytest.approx(1.0)
    np.testing.assert_allclose(wtab.set_index("indicator")["w_ahp"][ind.columns], w_ahp, rtol=1e-9)
    # grade by mean ± 0.5 / 1.5 sd of the five indices
    idx = res["capacity_index"].to_numpy()
    mu, sd = idx.mean(), idx.std()
    x = got["capacity_index"]
    want = 1 + sum(x > b for b in (mu - 1.5 * sd, mu - 0.5 * sd, mu + 0.5 * sd, mu + 1.5 * sd))
    assert got["grade"] == want
    assert got["grade_zh"] == C.GRADE_LABELS[want][0]
    # the best-equipped town is the strongest; CRs recorded
    assert res.loc[res["rank"] == 1, "name"].item() == "城关街道"
    assert set(info["consistency_ratio"]) == {"groups", "management", "preparedness", "self_rescue"}
    assert all(v < 0.1 for v in info["consistency_ratio"].values())


def test_group_subindices_and_weights_table(ahp):
    table = C.validate_capacity_table(raw_table(), TOWNSHIPS)
    res, wtab, _ = C.capacity_index(table, ahp=ahp, weighting="ahp")
    assert list(wtab["indicator"]) == list(C.INDICATOR_KEYS)
    assert wtab.groupby("group")["weight"].sum().to_dict() == pytest.approx(
        {"management": 0.4, "preparedness": 0.4, "self_rescue": 0.2}, abs=1e-9)
    # with AHP weights the index is the group-weighted mean of the sub-indices
    np.testing.assert_allclose(res["capacity_index"],
                               0.4 * res["management"] + 0.4 * res["preparedness"] + 0.2 * res["self_rescue"])


def test_grades_std_mean_and_fixed():
    s = pd.Series([0.0, 0.4, 0.5, 0.6, 1.0])
    b = C.grade_breaks(s)
    mu, sd = s.mean(), s.std(ddof=0)
    np.testing.assert_allclose(b, [mu - 1.5 * sd, mu - 0.5 * sd, mu + 0.5 * sd, mu + 1.5 * sd])
    assert C.grade(s, b).tolist() == [1, 3, 3, 3, 5]
    fixed = C.grade_breaks([0.5], "fixed", [0.2, 0.4, 0.6, 0.8])
    assert C.grade(pd.Series([0.1, 0.3, 0.5, 0.7, 0.9]), fixed).tolist() == [1, 2, 3, 4, 5]
    # equal indices: everyone is 中等
    assert C.grade(pd.Series([0.5, 0.5]), C.grade_breaks([0.5, 0.5])).tolist() == [3, 3]


def test_topsis_small_example():
    norm = pd.DataFrame({"a": [1.0, 0.0, 0.5], "b": [0.0, 1.0, 0.5]})
    w = pd.Series({"a": 0.75, "b": 0.25})
    t = C.topsis(norm, w)
    v = norm * w
    dp = np.sqrt(((v - v.max()) ** 2).sum(axis=1))
    dm = np.sqrt(((v - v.min()) ** 2).sum(axis=1))
    np.testing.assert_allclose(t, dm / (dp + dm))
    assert t.iloc[0] > t.iloc[2] > t.iloc[1]


def test_chinese_headers_are_accepted():
    raw = raw_table().rename(columns={k: v[0] for k, v in C.TABLE_COLUMNS.items()})
    t = C.validate_capacity_table(raw, TOWNSHIPS)
    assert t.loc["211382001", "population"] == 80000
    # with units in brackets, full- or half-width, as a county office writes them
    raw = raw_table().rename(columns={"population": "常住人口（人）", "hospital_beds": "医疗卫生机构床位 (张)"})
    assert C.validate_capacity_table(raw, TOWNSHIPS).loc["211382002", "hospital_beds"] == 60


@pytest.mark.parametrize(("edit", "needles"), [
    (lambda d: d.drop(columns="hospital_beds"), ["capacity.csv", "missing column", "'hospital_beds'", "医疗卫生机构床位"]),
    (lambda d: d.assign(township=d["township"].where(d.index != 2, "不存在镇")),
     ["capacity.csv, line 4", "column 'township'", "'不存在镇' is not a township"]),
    (lambda d: d.assign(population=d["population"].where(d.index != 1, "约2万")),
     ["capacity.csv, line 3 (宋杖子镇)", "column 'population'", "'约2万' is not a number"]),
    (lambda d: d.assign(militia=d["militia"].where(d.index != 0, "")), ["line 2", "'militia'", "empty cell"]),
    (lambda d: d.assign(risk_assessment_done=d["risk_assessment_done"].where(d.index != 3, "2")),
     ["line 5", "'risk_assessment_done'", "must be 1 (yes) or 0 (no)"]),
    (lambda d: d.assign(volunteers=d["volunteers"].where(d.index != 3, "-3")), ["line 5", "'volunteers'", "negative"]),
    (lambda d: d.iloc[:4], ["no row for township(s) 大河北镇 (211382005)"]),
    (lambda d: pd.concat([d, d.iloc[[1]]]), ["line 7", "already given on line 3"]),
])
def test_bad_tables_name_file_line_and_column(edit, needles):
    with pytest.raises(C.CapacityTableError) as err:
        C.validate_capacity_table(edit(raw_table()).reset_index(drop=True), TOWNSHIPS, "capacity.csv")
    for n in needles:
        assert n in str(err.value)


def test_inconsistent_ahp_is_rejected(ahp):
    table = C.validate_capacity_table(raw_table(), TOWNSHIPS)
    bad = dict(ahp, preparedness=[[1, 9, "1/9"], ["1/9", 1, 9], [9, "1/9", 1]])
    with pytest.raises(InconsistentJudgementError, match=r"capacity\.ahp\.preparedness: consistency ratio"):
        C.capacity_index(table, ahp=bad)
    with pytest.raises(InconsistentJudgementError, match=r"capacity\.ahp\.groups: expected a 3 × 3"):
        C.capacity_index(table, ahp=dict(ahp, groups=[[1, 2], ["1/2", 1]]))


def test_entropy_only_needs_no_matrices():
    table = C.validate_capacity_table(raw_table(), TOWNSHIPS)
    res, wtab, info = C.capacity_index(table, weighting="entropy", aggregation="topsis")
    assert wtab["w_ahp"].isna().all() and info["consistency_ratio"] == {}
    assert res["capacity_index"].between(0, 1).all()


def test_township_capacity_gives_the_three_outputs(ahp):
    import geopandas as gpd
    from shapely.geometry import box

    # township codes as numbers in the layer (as a GeoPackage may store them); one table row names its code
    layer = gpd.GeoDataFrame({"code": [int(c) for c in TOWNSHIPS["code"]], "name": TOWNSHIPS["name"]},
                             geometry=[box(i, 0, i + 1, 1) for i in range(5)], crs="EPSG:4549")
    result, weights, out = C.township_capacity(raw_table(), layer, source="capacity.csv", ahp=ahp,
                                               weighting="combined", grading="std_mean")
    table = C.validate_capacity_table(raw_table(), TOWNSHIPS, "capacity.csv")
    want, want_w, info = C.capacity_index(table, ahp=ahp, weighting="combined", grading="std_mean")
    pd.testing.assert_frame_equal(result, want)
    pd.testing.assert_frame_equal(weights, C.describe_weights(want_w, info))
    assert list(out["code"]) == list(result["code"]) and out.geometry.name == "geometry"
    assert out.set_index("code").loc["211382003"].geometry.bounds == (2.0, 0.0, 3.0, 1.0)
    assert layer["code"].dtype.kind == "i"  # the caller's layer is left as it was


def test_describe_weights_records_the_method(ahp):
    table = C.validate_capacity_table(raw_table(), TOWNSHIPS)
    _, wtab, info = C.capacity_index(table, ahp=ahp, weighting="combined", combination="linear")
    w = C.describe_weights(wtab, info)
    assert list(w.columns) == [*wtab.columns, "group_cr", "groups_cr", "method", "grade_breaks"]
    by = w.groupby("group")["group_cr"].first()
    assert by.to_dict() == pytest.approx({g: info["consistency_ratio"][g] for g in C.GROUPS})
    assert (w["groups_cr"] == info["consistency_ratio"]["groups"]).all()
    assert set(w["method"]) == {"combined (linear), weighted_sum, minmax"}
    assert w["grade_breaks"].iloc[0] == ";".join(f"{b:.6f}" for b in info["grade_breaks"])
    assert "method" not in wtab  # a new table
    # entropy weights have no consistency ratio at all
    _, wtab, info = C.capacity_index(table, weighting="entropy")
    w = C.describe_weights(wtab, info)
    assert "group_cr" not in w and w["groups_cr"].isna().all() and set(w["method"]) == {"entropy, weighted_sum, minmax"}
