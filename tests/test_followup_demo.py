"""The demo's second survey round: every planted change is found with its kind, and nothing else."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from risk.demo import generate
from risk.demo.survey_files import FILES
from risk.followup.changes import match_rounds
from risk.io import read_aoi
from risk.survey.ingest import ingest_sources

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    aoi = read_aoi(ROOT / "data" / "lingyuan_boundary.geojson", "EPSG:4549")
    xmin = aoi.total_bounds[0]
    cut = aoi.geometry.iloc[0].intersection(shapely.box(xmin - 2000, 4525000, xmin + 13000, 4537000))
    piece = gpd.GeoDataFrame(geometry=[cut], crs="EPSG:4549").to_crs("OGC:CRS84")
    out = tmp_path_factory.mktemp("rounds") / "demo"
    cfg = generate(piece, out, seed=11, res=250.0, verbose=False)
    return out, cfg


def _round(cfg, folder: str):
    sources = [{**s, "path": s["path"].replace("/survey/", f"/{folder}/")} for s in cfg["survey"]["sources"]]
    res = ingest_sources(sources, ".", cfg["aoi"], cfg["grid"]["crs"], cfg["survey"]["aoi_tolerance_m"])
    return res, gpd.GeoDataFrame(pd.concat(list(res.layers.values()), ignore_index=True), crs=cfg["grid"]["crs"])


def test_round2_has_the_same_files_and_every_row_is_accepted(demo):
    out, cfg = demo
    assert sorted(p.name for p in (out / "survey_round2").iterdir() if p.name != "README.md") == sorted(FILES.values())
    res, _ = _round(cfg, "survey_round2")
    assert len(res.rejected) == 0
    assert set(res.layers) == set(FILES)


def test_every_planted_change_is_found_with_its_kind_and_nothing_else(demo):
    out, cfg = demo
    _, r1 = _round(cfg, "survey")
    _, r2 = _round(cfg, "survey_round2")
    changes, note = match_rounds(r1, r2, tolerance_m=50)
    truth = pd.read_csv(out / "truth" / "round_changes.csv", encoding="utf-8-sig", keep_default_na=False)
    assert set(truth["kind"]) == {"new", "removed", "moved", "rematched", "rectified", "worsened"}
    found = changes[changes["kind"] != "unchanged"]
    assert note == "" and "ambiguous" not in set(changes["kind"])
    assert sorted(zip(found["category"], found["id"], found["kind"], strict=True)) == \
        sorted(zip(truth["category"], truth["id"], truth["kind"], strict=True))
    re = found[found["kind"] == "rematched"].set_index("id")["previous_id"]
    assert re.to_dict() == truth[truth["kind"] == "rematched"].set_index("id")["previous_id"].to_dict()
    assert (changes["kind"] == "unchanged").sum() > len(truth)
