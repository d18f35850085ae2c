"""What planners open: COGs, a style for every layer, Chinese field aliases, attribute tables, the QGIS project."""

import json
import os
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from shapely.geometry import Point, box

from risk import CATEGORIES, CATEGORY_LABELS, HAZARDS, io
from risk.assessment import zoning
from risk.grid import Grid
from risk.io import catalog, qgis, styles
from risk.io.batchwrite import write_rasters
from tests.conftest import ROOT


def _cog_ok(path):
    from rio_cogeo.cogeo import cog_validate

    valid, errors, _warnings = cog_validate(str(path), strict=True)
    return valid, errors


@pytest.fixture
def cog_grid():
    """Large enough (1100 × 900) for GDAL to build overviews of 512-px tiles."""
    return Grid.from_bounds((500_000, 4_500_000, 533_000, 4_527_000), "EPSG:4549", 30, chunk=256)


def test_write_rasters_cog_is_valid_with_overviews_and_same_values(tmp_path, cog_grid):
    x, y = cog_grid.coordinates(dask=True)
    a = cog_grid.like(((x - x.min()) * (y - y.min())).astype("float32"))
    b = a * 2
    plain = {tmp_path / "a_plain.tif": a, tmp_path / "b_plain.tif": b}
    cog = {tmp_path / "a.tif": a, tmp_path / "b.tif": b, tmp_path / "b_copy.tif": b}
    write_rasters(plain, cog_grid, tags={str(tmp_path / "a_plain.tif"): {"K": "v"}})
    write_rasters(cog, cog_grid, tags={str(tmp_path / "a.tif"): {"K": "v"}}, descriptions={
        str(tmp_path / "b_copy.tif"): "copy"}, cog=True)
    for name in ("a", "b", "b_copy"):
        valid, errors = _cog_ok(tmp_path / f"{name}.tif")
        assert valid, errors
        with rasterio.open(tmp_path / f"{name}.tif") as src:
            assert src.overviews(1), name
    # the layout changes, the values do not
    for name in ("a", "b"):
        got, _ = io.read_raster(tmp_path / f"{name}.tif")
        want, _ = io.read_raster(tmp_path / f"{name}_plain.tif")
        np.testing.assert_array_equal(got, want)
    assert io.read_tags(tmp_path / "a.tif")["K"] == "v"
    with rasterio.open(tmp_path / "b_copy.tif") as src:
        assert src.descriptions[0] == "copy"
    assert not _cog_ok(tmp_path / "a_plain.tif")[0]  # the check can fail


def test_write_raster_cog_same_values_numpy_and_dask(tmp_path, cog_grid):
    x, _ = cog_grid.coordinates(dask=True)
    arr = cog_grid.like((x - x.min()).astype("float32"))
    io.write_raster(arr, tmp_path / "dask.tif", cog_grid, cog=True)
    io.write_raster(arr.compute(), tmp_path / "numpy.tif", cog_grid, cog=True)
    for p in ("dask.tif", "numpy.tif"):
        assert _cog_ok(tmp_path / p)[0]
    np.testing.assert_array_equal(io.read_raster(tmp_path / "dask.tif")[0], io.read_raster(tmp_path / "numpy.tif")[0])


def test_every_township_column_has_a_chinese_alias():
    cols = ["township_id", "name_zh", "name_en", "area_km2", "people"]
    for h in [*HAZARDS, "multi_hazard"]:
        cols += [f"{h}_z{k}_{w}" for w in ("share", "people") for k in range(1, 6)]
        cols += [f"{h}_mean_risk", f"{h}_zoning_method", f"{h}_zoning_breaks"]
    for c in CATEGORIES:
        cols += [f"pts_{c}_total"] + [f"pts_{c}_z{k}" for k in range(1, 6)]
    missing = [c for c in cols if not styles.field_alias(c)]
    assert missing == []
    assert styles.field_alias("earthquake_z5_people") == "地震 5级（高）风险区人口（人）"
    assert styles.field_alias("pts_garden_total") == f"{CATEGORY_LABELS['garden'][0]} 点数合计"
    assert styles.field_alias("no_such_column") is None


def test_geopackage_layers_carry_their_default_style(tmp_path):
    towns = gpd.GeoDataFrame({"township_id": ["1", "2"], "name_zh": ["甲镇", "乙乡"],
                              "wind_z5_share": [0.1, 0.2]},
                             geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4549")
    pts = gpd.GeoDataFrame({"id": ["a"], "category": ["crane"]}, geometry=[Point(0.5, 0.5)], crs="EPSG:4549")
    table = gpd.GeoDataFrame({"township_id": ["1"], "count": [3]})
    io.write_layers({"townships": towns, "crane": pts, "rejected": pts.iloc[:0], "table": table},
                    tmp_path / "x.gpkg", geometry_types={"rejected": "Point"})
    con = sqlite3.connect(tmp_path / "x.gpkg")
    rows = dict(con.execute("SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault"))
    assert set(rows) == {"townships", "crane", "rejected", "table"}
    assert ("layer_styles", "attributes") in set(con.execute("SELECT table_name, data_type FROM gpkg_contents"))
    con.close()
    town = ET.fromstring(rows["townships"].split("\n", 1)[1])
    assert town.get("labelsEnabled") == "1"
    assert town.find("labeling/settings/text-style").get("fieldName") == "name_zh"
    assert town.find("renderer-v2/symbols/symbol/layer").get("class") == "SimpleLine"  # outline, no fill
    aliases = {a.get("field"): a.get("name") for a in town.iter("alias")}
    assert aliases == {"township_id": "乡镇代码", "name_zh": "乡镇名称", "wind_z5_share": "大风 5级（高）风险区面积占比"}
    crane = ET.fromstring(rows["crane"].split("\n", 1)[1])
    assert crane.find("renderer-v2/symbols/symbol/layer").get("class") == "SimpleMarker"
    # pyogrio still reads every layer as before
    assert len(io.read_vector(tmp_path / "x.gpkg", layer="townships")) == 2


def test_three_files_called_earthquake_have_different_names():
    names = {catalog.describe(p).name for p in ("hazard/earthquake.tif", "risk/earthquake.tif",
                                                 "zoning/earthquake.tif", "hazard/index/earthquake.tif",
                                                 "uncertainty/earthquake_stability.tif")}
    assert len(names) == 5
    assert all("地震" in n and "Earthquake" in n for n in names)


@pytest.mark.parametrize("style", ["zoning", "index", "stability", "mask", "hours", "continuous"])
def test_every_raster_style_is_well_formed_qml(tmp_path, small_grid, style):
    x, _ = small_grid.coordinates(dask=False)
    tif = tmp_path / "r.tif"
    io.write_raster(small_grid.like((x - x.min()).values.astype("f4")), tif, small_grid)
    root = ET.fromstring(styles.style_for(tif, style, "标题 title").split("\n", 1)[1])
    renderer = root.find("pipe/rasterrenderer")
    assert renderer.get("type") == ("paletted" if style == "zoning" else "singlebandpseudocolor")
    if style == "continuous":  # 2-98 % of the values, not 0-1
        items = [float(i.get("value")) for i in root.iter("item")]
        assert items[0] > 0 and items[-1] > 1000


def test_zoning_rat_is_read_by_gdal(tmp_path, small_grid):
    """GDAL (hence ArcGIS, QGIS ...) reads the class names from the .aux.xml beside a zoning COG."""
    x, _ = small_grid.coordinates(dask=False)
    zones = zoning.classify(small_grid.like((x / float(x.max())).values.astype("f4")), [0.2, 0.4, 0.6, 0.8])
    tif = tmp_path / "wind.tif"
    io.write_raster(zones, tif, small_grid, nodata=0, dtype="uint8", cog=True, colormap=zoning.ZONE_COLORS)
    io.write_text(styles.zoning_rat_xml(), str(tif) + ".aux.xml")
    gdalinfo = shutil.which("gdalinfo")
    if gdalinfo is None:  # the venv's GDAL has no command line; the XML is still checked below
        root = ET.fromstring(styles.zoning_rat_xml())
        assert len(root.findall(".//Row")) == 5
        return
    out = json.loads(subprocess.run([gdalinfo, "-json", str(tif)], capture_output=True, text=True,
                                    check=True).stdout)
    rat = out["rat"]
    assert [f["name"] for f in rat["fieldDefn"]][:4] == ["Value", "Class_zh", "Class_en", "Label"]
    assert [r["f"][3] for r in rat["row"]] == [f"{k} {zh} {en}" for k, (zh, en) in zoning.ZONE_LABELS.items()]


# -- the QGIS project ----------------------------------------------------------------------------------
def _results(tmp_path, grid):
    """A tiny results folder: two zoning rasters, a risk raster, townships and survey points."""
    res = tmp_path / "results"
    x, y = grid.coordinates(dask=False)
    idx = ((x - x.min()) / float(x.max() - x.min())).values.astype("f4")
    for name in ("multi_hazard", "earthquake"):
        z = zoning.classify(grid.like(idx), [0.2, 0.4, 0.6, 0.8])
        tif = res / "zoning" / f"{name}.tif"
        io.write_raster(z, tif, grid, nodata=0, dtype="uint8", cog=True, colormap=zoning.ZONE_COLORS)
        io.write_text(styles.zoning_qml(name), tif.with_suffix(".qml"))
    io.write_raster(grid.like(idx), res / "risk" / "earthquake.tif", grid, cog=True)
    io.write_text(styles.style_for(res / "risk" / "earthquake.tif", "index"), res / "risk" / "earthquake.qml")
    xmin, ymin, xmax, ymax = grid.bounds
    mid = (xmin + xmax) / 2
    towns = gpd.GeoDataFrame({"township_id": ["1", "2"], "name_zh": ["甲镇", "乙乡"]},
                             geometry=[box(xmin, ymin, mid, ymax), box(mid, ymin, xmax, ymax)], crs=grid.crs)
    io.write_layers({"townships": towns}, res / "zoning" / "townships.gpkg")
    pts = gpd.GeoDataFrame({"id": ["a"], "category": ["crane"]}, geometry=[Point(mid, (ymin + ymax) / 2)],
                           crs=grid.crs)
    io.write_layers({"crane": pts}, res / "survey" / "survey.gpkg")
    files = sorted(res.rglob("*.tif")) + sorted(res.rglob("*.gpkg"))
    return res, qgis.project_spec(res, files, "测试县", "来源 Source: test", grid.crs)


def test_project_spec_groups_by_stage_with_townships_on_top(tmp_path, small_grid):
    _, spec = _results(tmp_path, small_grid)
    groups = [e["group"] for e in spec["layers"]]
    assert groups[0] == "townships" and groups == sorted(groups, key=list(catalog.STAGES).index)
    assert spec["layers"][0]["layer"] == "townships"
    assert {e["path"] for e in spec["layers"]} >= {"zoning/multi_hazard.tif", "survey/survey.gpkg"}
    assert all(not os.path.isabs(e["path"]) for e in spec["layers"])


def _open_in_qgis(python, project, png=None):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    args = [python, str(ROOT / "tests" / "qgis" / "check_project.py"), str(project)] + ([str(png)] if png else [])
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


QGIS = qgis.find_qgis_python()


@pytest.mark.skipif(QGIS is None, reason="PyQGIS not installed (apt-get install qgis python3-qgis)")
@pytest.mark.parametrize("how", ["pyqgis", "xml"])
def test_project_opens_in_qgis_from_a_copied_folder(tmp_path, small_grid, how):
    res, spec = _results(tmp_path, small_grid)
    if how == "pyqgis":
        summary = qgis.write_project(spec, res / "risk.qgz")
        assert summary["built_with"].startswith("PyQGIS") and summary["invalid"] == []
    else:
        qgis.write_project_xml(spec, res / "risk.qgz")
    copied = tmp_path / "elsewhere" / "my results"
    shutil.copytree(res, copied)
    shutil.rmtree(res)  # nothing may point back at the original folder
    shown = _open_in_qgis(QGIS, copied / "risk.qgz", tmp_path / "layout.png")
    assert shown["read"] and not shown["absolute_paths"]
    assert len(shown["layers"]) == len(spec["layers"]) == 5
    assert all(lyr["valid"] for lyr in shown["layers"]), shown["layers"]
    by_name = {lyr["name"]: lyr for lyr in shown["layers"]}
    assert by_name["多灾种综合 风险分区 Multi-hazard risk zones"]["renderer"] == "paletted"
    assert by_name["地震 风险 Earthquake risk"]["renderer"] == "singlebandpseudocolor"
    towns = next(lyr for lyr in shown["layers"] if lyr["source"].endswith("layername=townships"))
    assert towns["renderer"] == "singleSymbol" and towns["labels"]
    assert towns["aliases"]["name_zh"] == "乡镇名称"
    assert shown["order"][0] == towns["name"]  # township outlines are drawn on top of the zoning
    if how == "pyqgis":
        assert len(shown["layouts"]) == 2  # one per zoning raster
        items = set(shown["layouts"][0]["items"])
        assert {"QgsLayoutItemMap", "QgsLayoutItemLegend", "QgsLayoutItemScaleBar", "QgsLayoutItemPicture",
                "QgsLayoutItemLabel"} <= items
        assert shown["exported"]
        from PIL import Image

        img = np.asarray(Image.open(tmp_path / "layout.png").convert("RGB")).reshape(-1, 3)
        colours = {tuple(c) for c in np.unique(img, axis=0)}
        assert tuple(zoning.ZONE_COLORS[5][:3]) in colours  # the map is drawn, not an empty frame


def test_every_zoning_map_has_a_caption_naming_its_hazard_and_file():
    from risk import HAZARD_LABELS

    for zoned in [*HAZARDS, "multi_hazard"]:
        text = (ROOT / "workflow" / "report" / "zoning" / f"{zoned}.rst").read_text(encoding="utf-8")
        assert HAZARD_LABELS[zoned][0] in text and HAZARD_LABELS[zoned][1] in text
        assert f"``zoning/{zoned}.tif``" in text and "{{" not in text


def test_cog_bytes_do_not_depend_on_the_intermediate(tmp_path, cog_grid, monkeypatch):
    # The tiled file a COG goes through is uncompressed within the budget, DEFLATE above it: the same COG bytes.
    from risk.io import rasters

    x, y = cog_grid.coordinates(dask=True)
    a = cog_grid.like(((x - x.min()) * (y - y.min())).astype("float32"))
    zones = cog_grid.like((x // 3000 % 5 + 1).astype("uint8"))
    for budget, out in ((rasters.COG_RAW_TEMP_BYTES, "raw"), (0, "deflate")):
        monkeypatch.setattr(rasters, "COG_RAW_TEMP_BYTES", budget)
        d = tmp_path / out
        write_rasters({d / "a.tif": a, d / "a_copy.tif": a}, cog_grid, tags={str(d / "a.tif"): {"K": "v"}}, cog=True)
        io.write_raster(zones, d / "z.tif", cog_grid, dtype="uint8", nodata=0, cog=True, tags={"K": "z"},
                        colormap={1: (255, 0, 0, 255)}, overview_resampling="nearest")
    for name in ("a.tif", "a_copy.tif", "z.tif"):
        assert (tmp_path / "raw" / name).read_bytes() == (tmp_path / "deflate" / name).read_bytes(), name
