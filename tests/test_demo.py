"""The synthetic demo generator (risk.demo): files, formats, determinism, planted relations, survey mess."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
import yaml

from risk.__main__ import main
from risk.demo import generate
from risk.io import read_aoi

ROOT = Path(__file__).resolve().parents[1]
RES = 200.0
REASONS = {"missing_coordinates", "invalid_coordinates", "outside_aoi", "duplicate_id", "out_of_range", "unreadable"}


@pytest.fixture(scope="module")
def piece():
    """A ~15 x 12 km piece of Lingyuan cut along its western boundary (an irregular AOI), in WGS84."""
    aoi = read_aoi(ROOT / "data" / "lingyuan_boundary.geojson", "EPSG:4549")
    xmin = aoi.total_bounds[0]
    cut = aoi.geometry.iloc[0].intersection(shapely.box(xmin - 2000, 4525000, xmin + 13000, 4537000))
    return gpd.GeoDataFrame(geometry=[cut], crs="EPSG:4549").to_crs("OGC:CRS84")


@pytest.fixture(scope="module")
def demo(piece, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "a"
    cfg = generate(piece, out, seed=7, res=RES, verbose=False)
    return out, cfg


def _files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _paths(cfg) -> list[str]:
    out = []
    for v in cfg["inputs"].values():
        out += list(v.values()) if isinstance(v, dict) else [v]
    return out + [s["path"] for s in cfg["survey"]["sources"]]


def _read(path):
    """Band 1 and the raster's metadata (crs, dtypes, res, nodata, tags, bounds, transform, shape)."""
    from types import SimpleNamespace

    with rasterio.open(path) as src:
        meta = SimpleNamespace(crs=src.crs, dtypes=src.dtypes, res=src.res, nodata=src.nodata, tags=src.tags(),
                               bounds=src.bounds, transform=src.transform, shape=src.shape)
        return src.read(1), meta


def _aoi_mask(out: Path) -> np.ndarray:
    return np.isfinite(_read(out / "truth" / "geological.tif")[0])


def test_every_config_file_exists_and_opens(demo):
    out, cfg = demo
    assert cfg["demo"]["enabled"] is False
    assert cfg["grid"] == {"crs": "EPSG:4549", "resolution": 200, "chunk_size": 1024}
    assert cfg["landcover_classes"] == {"1": "forest", "2": "grassland", "3": "cropland", "4": "built_up",
                                        "5": "water"}
    assert yaml.safe_load((out / "config.yaml").read_text(encoding="utf-8")) == cfg
    schema = ROOT / "workflow" / "schemas" / "config.schema.yaml"
    if schema.exists():
        from risk.config import validate_config

        validate_config(yaml.safe_load((out / "config.yaml").read_text(encoding="utf-8")), schema)
    for p in _paths(cfg):
        path = Path(p)
        assert path.is_file(), p
        assert path.is_relative_to(out)
        if path.suffix == ".tif":
            _read(path)
        elif path.suffix in (".gpkg", ".geojson"):
            assert len(gpd.read_file(path)) > 0
        elif path.suffix == ".xlsx":
            from openpyxl import load_workbook

            assert load_workbook(path).active.max_row > 10
    for extra in ("truth/README.md", "truth/waterlogging.tif", "truth/geological.tif", "truth/wildfire.tif",
                  "survey/README.md", "survey/expected_rejections.csv", "capacity/README.md"):
        assert (out / extra).is_file(), extra
    assert Path(cfg["aoi"]).is_file()


def test_rasters_have_the_stated_crs_dtype_and_ranges(demo, piece):
    out, _ = demo
    dem, src = _read(out / "dem.tif")
    assert src.crs.to_epsg() == 4549 and src.dtypes[0] == "float32" and src.res == (RES, RES)
    assert np.isfinite(dem).all() and 150 < dem.min() and dem.max() < 1500
    lc, src = _read(out / "landcover.tif")
    assert src.dtypes[0] == "uint8" and src.nodata == 0 and set(np.unique(lc)) <= {1, 2, 3, 4, 5}
    assert "forest" in src.tags["class_1"] and "水体" in src.tags["class_5"]
    assert {1, 3, 4} <= set(np.unique(lc))
    pop, src = _read(out / "population.tif")
    settlements = gpd.read_file(out / "settlements.gpkg")
    assert src.dtypes[0] == "float32" and pop.min() >= 0
    assert pop.sum() == pytest.approx(settlements["population"].sum(), rel=0.01)
    lon0, lat0, lon1, lat1 = piece.total_bounds
    for name, lo, hi in (("rain_max24h", 80, 220), ("pga", 0.04, 0.2), ("wind50", 18, 31)):
        arr, src = _read(out / f"{name}.tif")
        assert src.crs.to_epsg() == 4326 and src.dtypes[0] == "float32"
        assert src.res == pytest.approx((0.01, 0.01))
        assert lo <= arr.min() and arr.max() <= hi, name
        b = src.bounds
        assert b.left < lon0 and b.right > lon1 and b.bottom < lat0 and b.top > lat1
    mask = _aoi_mask(out)
    for hazard in ("waterlogging", "geological", "wildfire"):
        p, src = _read(out / "truth" / f"{hazard}.tif")
        assert src.dtypes[0] == "float32" and src.shape == dem.shape
        assert (np.isfinite(p) == mask).all()
        assert 0 < np.nanmin(p) and np.nanmax(p) < 1


def test_vector_layers_have_the_stated_fields(demo):
    out, _ = demo
    rivers = gpd.read_file(out / "rivers.gpkg")
    assert {"name", "class", "order"} <= set(rivers.columns) and set(rivers["class"]) == {"main", "tributary"}
    assert rivers.crs.to_epsg() == 4549 and (rivers.geom_type == "LineString").all()
    roads = gpd.read_file(out / "roads.gpkg")
    assert set(roads["class"]) <= {"expressway", "national", "provincial", "county", "rural"}
    assert {"national", "rural"} <= set(roads["class"])
    st = gpd.read_file(out / "settlements.gpkg")
    assert {"name", "kind", "population", "township"} <= set(st.columns) and st["name"].is_unique
    assert set(st["kind"]) == {"village", "community"} and (st.geom_type == "Point").all()
    tw = gpd.read_file(out / "townships.gpkg")
    assert {"code", "name", "name_en"} <= set(tw.columns) and tw["name"].str.startswith("乡镇").all()
    assert set(st["township"]) <= set(tw["name"])
    geo = gpd.read_file(out / "events" / "geological_points.gpkg")
    assert {"id", "type", "year"} <= set(geo.columns) and set(geo["type"]) <= {"landslide", "collapse", "debris_flow"}
    fire = gpd.read_file(out / "events" / "fire_points.gpkg")
    assert {"id", "date", "landcover"} <= set(fire.columns) and len(geo) >= 40 and len(fire) >= 40
    for f, cols in (("shelters/shelters.gpkg", {"name", "kind", "capacity", "usable"}),
                    ("shelters/candidates.gpkg", {"name", "kind", "capacity"}),
                    ("shelters/depots.gpkg", {"name", "level"})):
        assert cols <= set(gpd.read_file(out / f).columns), f
    cap = pd.read_csv(out / "capacity" / "township_capacity.csv", encoding="utf-8-sig")
    assert list(cap["township"]) == list(tw["name"]) and cap.shape[1] == 14
    stats = pd.read_csv(out / "stats" / "yearly_statistics.csv", encoding="utf-8-sig")
    assert list(stats["year"]) == [2020, 2021, 2022, 2023, 2024] and "relief_hours" in stats


def test_townships_partition_the_aoi(demo, piece):
    out, _ = demo
    tw = gpd.read_file(out / "townships.gpkg")
    aoi_area = piece.to_crs("EPSG:4549").area.sum()
    union = shapely.union_all(tw.geometry.values)
    assert union.area == pytest.approx(aoi_area, rel=0.01)
    assert tw.area.sum() == pytest.approx(union.area, rel=1e-3)  # no overlaps
    assert tw["code"].is_unique and tw["name"].is_unique and (tw.area > 0).all()


def _cells(src, xs, ys):
    rows, cols = rasterio.transform.rowcol(src.transform, xs, ys)
    return np.asarray(rows), np.asarray(cols)


def _accepted_waterlogging(out: Path):
    """Projected x, y of the rows of 内涝点.csv that are not planted defects (= the waterlogging events)."""
    from pyproj import Transformer

    exp = pd.read_csv(out / "survey" / "expected_rejections.csv", encoding="utf-8-sig")
    bad = set(exp.loc[exp["file"] == "内涝点.csv", "row"])
    text = (out / "survey" / "内涝点.csv").read_bytes().decode("gbk")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    i_lon, i_lat = rows[0].index("经度"), rows[0].index("纬度")
    keep = [r for n, r in enumerate(rows[1:], start=2) if n not in bad]
    lon = np.array([float(r[i_lon]) for r in keep])
    lat = np.array([float(r[i_lat]) for r in keep])
    x, y = Transformer.from_crs(4326, 4549, always_xy=True).transform(lon, lat)
    return np.asarray(x), np.asarray(y)


def test_events_follow_their_truth_surfaces(demo):
    out, _ = demo
    slope_dem, _ = _read(out / "dem.tif")
    lc, _ = _read(out / "landcover.tif")
    mask = _aoi_mask(out)
    events = {"geological": gpd.read_file(out / "events" / "geological_points.gpkg"),
              "wildfire": gpd.read_file(out / "events" / "fire_points.gpkg")}
    pts = {h: (g.geometry.x.to_numpy(), g.geometry.y.to_numpy()) for h, g in events.items()}
    pts["waterlogging"] = _accepted_waterlogging(out)
    assert len(pts["waterlogging"][0]) >= 40
    for hazard, (x, y) in pts.items():
        p, src = _read(out / "truth" / f"{hazard}.tif")
        r, c = _cells(src, x, y)
        ratio = np.nanmean(p[r, c]) / np.nanmean(p[mask])
        assert ratio > 1.5, (hazard, ratio)
    # the planted directions
    gz, gx = np.gradient(slope_dem.astype("f8"), RES)
    slope = np.degrees(np.arctan(np.hypot(gz, gx)))
    geo, _ = _read(out / "truth" / "geological.tif")
    assert np.corrcoef(slope[mask], geo[mask])[0, 1] > 0.2
    fire, _ = _read(out / "truth" / "wildfire.tif")
    assert np.nanmean(fire[mask & (lc == 1)]) > 2 * np.nanmean(fire[mask & (lc == 3)])
    wl, _ = _read(out / "truth" / "waterlogging.tif")
    assert np.nanmean(wl[mask & (lc == 4)]) > 3 * np.nanmean(wl[mask & (lc != 4)])
    readme = (out / "truth" / "README.md").read_text(encoding="utf-8")
    assert "intercept" in readme and "prox_road" in readme and "southness" in readme


def test_survey_files_decode_as_stated(demo):
    out, _ = demo
    s = out / "survey"
    raw = (s / "内涝点.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gbk")
    assert text.startswith("编号,名称,乡镇（街道）,经度,纬度") and "\r\n" in text
    raw = (s / "园林设施.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.decode("utf-8-sig").startswith("编号,")
    from openpyxl import load_workbook

    ws = load_workbook(s / "大型起重设备.xlsx").active
    assert [c.value for c in ws[1]][:3] == ["设备编号", "设备名称", "所属乡镇"]
    gj = json.loads((s / "广告牌.geojson").read_text(encoding="utf-8"))
    assert gj["type"] == "FeatureCollection" and "高度（m）" in gj["features"][0]["properties"]
    assert gpd.read_file(s / "电力设施.gpkg").crs.to_epsg() == 4549
    exp = pd.read_csv(s / "expected_rejections.csv", encoding="utf-8-sig")
    assert set(exp["reason"]) == REASONS
    per_reason = exp.groupby("reason")["file"].nunique()
    assert (per_reason >= 2).all()
    assert exp.groupby("file")["reason"].nunique().min() >= 4
    readme = (s / "README.md").read_text(encoding="utf-8")
    assert all(f"| {r.file} | {r.row} | `{r.reason}` |" in readme for r in exp.itertuples())


def test_survey_ingestion_rejects_exactly_the_planted_rows(demo, monkeypatch):
    ingest = pytest.importorskip("risk.survey.ingest")
    out, cfg = demo
    res = ingest.ingest_sources(cfg["survey"]["sources"], ".", cfg["aoi"], cfg["grid"]["crs"],
                                cfg["survey"]["aoi_tolerance_m"])
    rej = res.rejected
    got = {(Path(str(f)).name, int(r), str(reason))
           for f, r, reason in zip(rej["source_file"], rej["source_row"], rej["reason"], strict=True)}
    exp = pd.read_csv(out / "survey" / "expected_rejections.csv", encoding="utf-8-sig")
    assert got == set(zip(exp["file"], exp["row"].astype(int), exp["reason"], strict=True))


def test_same_seed_same_bytes_other_seed_differs(demo, piece, tmp_path):
    out, _ = demo
    again = tmp_path / "b"
    generate(piece, again, seed=7, res=RES, verbose=False)
    a, b = _files(out), _files(again)
    assert a.keys() == b.keys()
    differ = [k for k in a if a[k] != b[k] and k != "config.yaml"]
    assert differ == []
    ca = (out / "config.yaml").read_text(encoding="utf-8").replace(out.as_posix(), "DIR")
    cb = (again / "config.yaml").read_text(encoding="utf-8").replace(again.as_posix(), "DIR")
    assert ca == cb
    other = tmp_path / "c"
    generate(piece, other, seed=8, res=RES, verbose=False)
    c = _files(other)
    for k in ("dem.tif", "landcover.tif", "rivers.gpkg", "survey/内涝点.csv", "truth/wildfire.tif"):
        assert a[k] != c[k], k


def test_cli_with_relative_out_dir(piece, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    piece.to_file("aoi.geojson", driver="GeoJSON")
    assert main(["demo", "--aoi", "aoi.geojson", "--out", "data/demo", "--seed", "3", "--res", "250", "--quiet"]) == 0
    cfg = yaml.safe_load(Path("data/demo/config.yaml").read_text(encoding="utf-8"))
    assert cfg["aoi"] == "aoi.geojson" and cfg["inputs"]["dem"] == "data/demo/dem.tif"
    assert cfg["grid"]["resolution"] == 250 and cfg["demo"]["seed"] == 3
    assert all(Path(p).is_file() for p in _paths(cfg))


def test_disaster_record_is_drawn_from_the_planted_harm(demo):
    import pandas as pd

    from risk.demo.disasters import COLUMNS

    out, cfg = demo
    rec = pd.read_csv(out / "disasters" / "历史灾情.csv", encoding="utf-8-sig")
    assert list(rec.columns) == COLUMNS and cfg["inputs"]["disasters"].endswith("历史灾情.csv")
    assert set(rec["hazard"]) == {"waterlogging", "geological", "wildfire"}
    assert (rec[["deaths", "injured", "houses_damaged", "direct_loss_10k_yuan"]] >= 0).all().all()
    pop, _ = _read(out / "population.tif")
    for hazard, sub in rec.groupby("hazard"):
        harm, src = _read(out / "truth" / f"harm_{hazard}.tif")
        truth, _ = _read(out / "truth" / f"{hazard}.tif")
        ok = np.isfinite(harm)
        assert (harm[ok] <= truth[ok] * np.nan_to_num(pop[ok]) * 1.4 + 1e-6).all()  # v <= 1, f <= 1.4
        from pyproj import Transformer

        x, y = Transformer.from_crs("EPSG:4326", src.crs, always_xy=True).transform(sub["lon"], sub["lat"])
        r, c = _cells(src, x, y)
        assert np.nanmean(harm[r, c]) > 5 * np.nanmean(harm[ok]), hazard  # disasters strike where harm is planted
    readme = (out / "truth" / "README.md").read_text(encoding="utf-8")
    assert "harm_h = p_h * people * v_h[land cover] * f[township]" in readme
