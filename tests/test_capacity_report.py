"""Township capacity assessment reports: every section for every township and the county summary."""

import re

import pandas as pd

from risk.capacity import report
from risk.io.capacity_report import write_reports
from tests.conftest import ROOT

TEMPLATE = ROOT / "workflow" / "report" / "capacity_report.html.j2"


def _tables():
    weights = pd.DataFrame({
        "indicator": ["staff", "beds"], "group": ["management", "preparedness"], "group_zh": ["灾害管理能力", "备灾能力"],
        "name_zh": ["管理人员", "病床"], "name_en": ["Staff", "Beds"], "unit": ["人/万人", "张/万人"],
        "formula": ["staff / pop", "beds / pop"], "w_ahp": [0.6, 0.4], "w_entropy": [0.5, 0.5], "weight": [0.55, 0.45],
        "group_weight": [0.55, 0.45], "method": "combined", "grade_breaks": "0.2;0.4;0.6;0.8"})
    capacity = pd.DataFrame({
        "code": ["T1", "T/2", "T3"], "name": ["甲镇", "乙乡", "丙街道"], "population": [1000, 2000, 3000],
        "staff": [1.0, 2.0, 3.0], "beds": [30.0, 10.0, None], "n_staff": [0.0, 0.5, 1.0], "n_beds": [1.0, 0.0, 0.5],
        "management": [0.0, 0.5, 1.0], "preparedness": [1.0, 0.0, 0.5], "capacity_index": [0.45, 0.275, 0.775],
        "grade": [3, 2, 4], "grade_zh": ["中等", "较弱", "较强"], "grade_en": ["Medium", "Fairly weak", "Fairly strong"],
        "rank": [2, 3, 1]})
    priority = pd.DataFrame({"code": ["T1", "T/2", "T3"], "name": ["甲镇", "乙乡", "丙街道"], "priority": [False, True, False],
                             "reason": ["", "风险高 high risk; 能力弱 low capacity", ""]})
    raw = pd.DataFrame({"township": ["甲镇", "乙乡", "丙街道"], "staff": ["1", "4", "9"]})
    return capacity, weights, priority, raw


def test_findings_name_the_weak_indicators_and_the_priority():
    capacity, weights, priority, _ = _tables()
    t = report.township_report(capacity.iloc[1], capacity, weights, priority)
    assert t["file"] == "T_2.html" and t["rank"] == 3 and t["grade_en"] == "Fairly weak"
    f = t["findings"]
    assert f["priority"] and "low capacity" in f["priority_reason"]
    assert [w["name_en"] for w in f["weak"]] == ["Beds"]  # normalised 0.0; staff (0.5) is not weak
    assert f["recommendations"][0].startswith("列为重点乡镇") and "county median 20.0" in f["recommendations"][1]
    assert report.data_quality(_tables()[3], capacity, weights)["missing"] == {"beds": 1}


def test_every_report_has_every_section(tmp_path):
    capacity, weights, priority, raw = _tables()
    meta = {"area_name": "某县", "date": "2026-01-01", "config_sha256": "ab" * 32, "source": "cap.csv",
            "source_sha256": "cd" * 32}
    written = write_reports(TEMPLATE, tmp_path, capacity, weights, raw, priority, meta)
    assert sorted(p.name for p in written) == ["T1.html", "T3.html", "T_2.html", "index.html"]
    for path in written:
        html = path.read_text(encoding="utf-8")
        for anchor, zh, en in report.SECTIONS:
            assert f'id="{anchor}"' in html and zh in html and en in html, (path.name, anchor)
        assert "某县" in html and "2026-01-01" in html
    town = (tmp_path / "T_2.html").read_text(encoding="utf-8")
    assert "乙乡" in town and "重点乡镇 Priority township" in town and "Fairly weak" in town
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{f}"' in index for f in ("T1.html", "T_2.html", "T3.html"))
    assert re.search(r"乙乡 \(T/2\): 风险高", index)  # the county's priority list


def test_model_validation_table_has_a_row_per_hazard():
    from risk.models.summary import validation_table

    t = validation_table({
        "geological": {"mode": "model", "model": {"name": "logistic"}, "auc_spatial_cv": 0.78, "auc_random_cv": 0.8,
                       "auc_spatial_cv_folds": [0.7, 0.9], "n_presence": 40, "n_background": 1000,
                       "feature_ranking": ["geological/slope"]},
        "wind": {"mode": "index", "weighting": {"method": "ahp_entropy"}, "consistency_ratio": 0.02}})
    assert list(t["hazard"]) == ["geological", "wind"]
    geo, wind = t.iloc[0], t.iloc[1]
    assert geo["model"] == "logistic" and geo["auc_spatial_min_fold"] == 0.7 and geo["top_feature"] == "geological/slope"
    assert wind["model"] == "ahp_entropy" and wind["consistency_ratio"] == 0.02 and pd.isna(wind["auc_spatial_cv"])
