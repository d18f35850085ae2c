"""The analysis grid and the raster/vector I/O: alignment, block reading, atomic writes."""

import dataclasses
import hashlib

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from shapely.geometry import Point, box

from risk import io
from risk.grid import Grid
from risk.io.vectors import data_layers


def test_grid_snaps_outward_to_whole_cells():
    g = Grid.from_bounds((100.5, 200.2, 190.1, 260.0), "EPSG:4549", 30, chunk=8)
    xmin, ymin, xmax, ymax = g.bounds
    assert xmin <= 100.5 and ymin <= 200.2 and xmax >= 190.1 and ymax >= 260.0
    assert xmin % 30 == 0 and ymax % 30 == 0
    assert g.shape == (3, 4)
    assert Grid.from_json(g.to_json()) == g


def test_grid_rejects_bad_resolution():
    with pytest.raises(ValueError, match="resolution"):
        Grid.from_bounds((0, 0, 10, 10), "EPSG:4549", 0)


def test_rowcol_roundtrip(small_grid):
    rows, cols = small_grid.rowcol(small_grid.x[[0, 5, 79]], small_grid.y[[0, 7, 59]])
    assert rows.tolist() == [0, 7, 59] and cols.tolist() == [0, 5, 79]


def test_rasterize_dask_equals_numpy(small_grid):
    geoms = [box(500_100, 4_500_100, 501_000, 4_501_000), Point(502_000, 4_501_500).buffer(200)]
    a = small_grid.rasterize(geoms, [1, 2], dask=False).values
    for chunk in (16, 23):
        b = small_grid.with_chunk(chunk).rasterize(geoms, [1, 2], dask=True).compute().values
        np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) == {0, 1, 2}


def test_write_then_read_on_grid_roundtrip(tmp_path, small_grid):
    x, y = small_grid.coordinates()
    arr = ((x - x.min()) / 100.0).astype("float32")
    path = tmp_path / "a.tif"
    io.write_raster(arr, path, small_grid)
    back = io.read_raster_on_grid(path, small_grid.with_chunk(23), resampling="nearest").compute()
    np.testing.assert_allclose(back.values, arr.values)
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 4549 and src.profile["tiled"] and src.compression.name == "deflate"


def test_read_on_grid_warps_a_lonlat_raster(tmp_path, small_grid):
    # A coarse EPSG:4326 raster covering the grid: values read back must be its constant value.
    from rasterio.transform import from_bounds
    from rasterio.warp import transform_bounds

    w, s, e, n = transform_bounds(small_grid.crs, "EPSG:4326", *small_grid.bounds)
    path = tmp_path / "ll.tif"
    with rasterio.open(path, "w", driver="GTiff", width=10, height=10, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_bounds(w - 0.05, s - 0.05, e + 0.05, n + 0.05, 10, 10),
                       nodata=-9999) as dst:
        dst.write(np.full((1, 10, 10), 7.5, dtype="float32"))
    a = io.read_raster_on_grid(path, small_grid, resampling="bilinear").compute().values
    assert np.allclose(a, 7.5)


def test_nodata_becomes_nan(tmp_path, small_grid):
    data = np.ones(small_grid.shape, dtype="float32")
    data[:10] = -9999
    path = tmp_path / "nd.tif"
    io.write_raster(data, path, small_grid, nodata=-9999)
    back = io.read_raster_on_grid(path, small_grid, resampling="nearest").compute().values
    assert np.isnan(back[:10]).all() and (back[10:] == 1).all()


def test_writes_are_atomic_and_reproducible(tmp_path, small_grid):
    arr = small_grid.full(3.0, dask=True)
    p = tmp_path / "x.tif"
    io.write_raster(arr, p, small_grid)
    h1 = hashlib.sha256(p.read_bytes()).hexdigest()
    io.write_raster(arr, p, small_grid)
    assert hashlib.sha256(p.read_bytes()).hexdigest() == h1
    assert sorted(f.name for f in tmp_path.iterdir()) == ["x.tif"]  # no temporary left behind

    class Boom(Exception):
        pass

    bad = small_grid.full(1.0, dask=True).data.map_blocks(lambda b: (_ for _ in ()).throw(Boom()),
                                                          dtype="float32")
    with pytest.raises(Boom):
        io.write_raster(bad, p, small_grid)
    assert hashlib.sha256(p.read_bytes()).hexdigest() == h1  # the old file survives a failed write
    assert sorted(f.name for f in tmp_path.iterdir()) == ["x.tif"]


def test_geopackage_bytes_are_reproducible(tmp_path):
    gdf = gpd.GeoDataFrame({"name": ["甲", "乙"]}, geometry=[Point(0, 0), Point(1, 1)], crs="EPSG:4549")
    p = tmp_path / "a.gpkg"
    io.write_layers({"pts": gdf, "rejected": gdf.iloc[:0]}, p)
    h1 = hashlib.sha256(p.read_bytes()).hexdigest()
    io.write_layers({"pts": gdf, "rejected": gdf.iloc[:0]}, p)
    assert hashlib.sha256(p.read_bytes()).hexdigest() == h1
    assert data_layers(p) == ["pts", "rejected"]  # and QGIS's layer_styles table


def test_aoi_mask_matches_polygon_area(small_grid):
    poly = box(500_300, 4_500_300, 501_800, 4_501_500)
    aoi = gpd.GeoDataFrame(geometry=[poly], crs="EPSG:4549")
    m = io.aoi_mask(aoi, small_grid).compute().values
    assert m.sum() * small_grid.cell_area == pytest.approx(poly.area, rel=0.05)
    np.testing.assert_array_equal(m, io.aoi_mask(aoi, small_grid, dask_=False).values)


def test_tables_made_for_excel_carry_no_live_formula(tmp_path):
    import pandas as pd

    from risk import io

    names = ["=HYPERLINK(\"http://x\",\"y\")", "@SUM(A1:A9)", "+cmd|' /C calc'!A0", "-2+3+cmd|x", "\t=1", "塔吊",
             "-0.04;0.15", None]
    df = pd.DataFrame({"name": names, "value": [1.5, -2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]})
    io.write_table(df, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv", encoding="utf-8-sig", keep_default_na=False)
    assert all(v.startswith("'") for v in back["name"][:5])
    assert back["name"][5] == "塔吊" and back["name"][6] == "-0.04;0.15"
    assert back["value"].tolist() == df["value"].tolist()
    assert df["name"][0].startswith("=")  # the caller's frame is not changed


@pytest.mark.parametrize("dtype, nodata", [("float32", np.nan), ("float32", -9999.0), ("uint8", 0), ("int16", None)])
def test_on_grid_fast_path_reads_the_warped_arrays(tmp_path, small_grid, monkeypatch, dtype, nodata):
    # A raster already on the grid is read by plain windows; the arrays equal the warped reader's, nodata included.
    rng = np.random.default_rng(3)
    vals = rng.uniform(0, 200, small_grid.shape).astype(dtype)
    if nodata is not None:
        vals[rng.random(small_grid.shape) < 0.1] = nodata
    path = tmp_path / "on_grid.tif"
    io.write_raster(vals, path, small_grid, dtype=dtype, nodata=nodata)
    with rasterio.open(path) as src:
        assert io.rasters.on_the_grid(src, small_grid)
        shifted = dataclasses.replace(small_grid, xmin=small_grid.xmin + small_grid.res)
        assert not io.rasters.on_the_grid(src, shifted)
    for out_dtype in ("float32", dtype):
        for dask_, grid in ((False, small_grid), (True, small_grid.with_chunk(23))):
            fast = io.read_raster_on_grid(path, grid, resampling="nearest", dtype=out_dtype, dask_=dask_).values
            monkeypatch.setattr(io.rasters, "on_the_grid", lambda src, grid: False)
            warped = io.read_raster_on_grid(path, grid, resampling="nearest", dtype=out_dtype,
                                            dask_=dask_).values
            monkeypatch.undo()
            assert fast.dtype == warped.dtype
            np.testing.assert_array_equal(fast, warped)


def test_write_raster_batches_stay_bounded_on_a_wide_grid(tmp_path):
    """Windows of whole blocks of about batch_pixels cells, not whole block rows: memory does not grow with width."""
    import dask.array as da

    from risk.io.rasters import _iter_row_batches

    grid = Grid.from_bounds((0, 0, 300 * 30, 20 * 30), "EPSG:4549", 30, chunk=10)  # 20 x 300, blocks 10 x 10
    values = np.arange(grid.size, dtype="float32").reshape(grid.shape)
    arr = grid.like(da.from_array(values, chunks=10))
    windows = [w for w, _ in _iter_row_batches(arr.data, grid, "float32", np.nan, 250)]
    assert max(w.width * w.height for w in windows) <= 250 and len(windows) == 2 * 15
    io.write_raster(arr, tmp_path / "wide.tif", grid, batch_pixels=250)
    with rasterio.open(tmp_path / "wide.tif") as src:
        np.testing.assert_array_equal(src.read(1), values)


@pytest.mark.parametrize("dtype, nodata", [("float32", np.nan), ("float32", -9999.0), ("float32", None),
                                           ("uint8", 0), ("uint8", 255), ("int16", -1), ("int16", None)])
def test_plain_read_equals_the_masked_read(tmp_path, small_grid, monkeypatch, dtype, nodata):
    # On the grid a band masked by its nodata alone is read without a masked array: the same arrays, bit for bit.
    rng = np.random.default_rng(4)
    vals = rng.uniform(0, 200, small_grid.shape).astype(dtype)
    if nodata is not None:
        vals[rng.random(small_grid.shape) < 0.1] = nodata
    if dtype == "float32":
        vals[rng.random(small_grid.shape) < 0.05] = np.nan
    path = tmp_path / "on_grid.tif"
    io.write_raster(vals, path, small_grid, dtype=dtype, nodata=nodata)
    with rasterio.open(path) as src:
        assert io.rasters._nodata_only(src, 1) == (dtype != "float32" or nodata is None or np.isnan(nodata))
    for out_dtype in ("float32", "float64", "uint8", dtype):
        grid = small_grid.with_chunk(23)
        plain = io.read_raster_on_grid(path, grid, resampling="nearest", dtype=out_dtype).values
        monkeypatch.setattr(io.rasters, "_nodata_only", lambda src, band: False)
        masked = io.read_raster_on_grid(path, grid, resampling="nearest", dtype=out_dtype).values
        monkeypatch.undo()
        assert plain.dtype == masked.dtype
        np.testing.assert_array_equal(plain, masked)


def test_cog_level_and_temporary_overview_level(tmp_path):
    # The COG's DEFLATE level changes its bytes, never its pixels (overviews included); the level of GDAL's
    # temporary overview file and the small block cache of the copy (COG_CACHE_BYTES) change nothing at all.
    from rasterio.shutil import copy as rio_copy

    from risk.io.rasters import COG_ZLEVEL, cog_copy

    rng = np.random.default_rng(5)
    a = np.cumsum(rng.normal(size=(1100, 1030)), axis=1).astype("float32")
    a[:40] = np.nan
    prof = dict(driver="GTiff", width=1030, height=1100, count=1, dtype="float32", nodata=np.nan,
                crs="EPSG:4549", transform=rasterio.Affine(30, 0, 0, 0, -30, 33000), tiled=True,
                blockxsize=512, blockysize=512)
    with rasterio.open(tmp_path / "raw.tif", "w", **prof) as dst:
        dst.write(a, 1)
    cog_copy(tmp_path / "raw.tif", tmp_path / "ours.tif")
    cog_copy(tmp_path / "raw.tif", tmp_path / "gdal_default.tif", zlevel=None)
    with rasterio.Env(GDAL_CACHEMAX=256 * 2**20):
        rio_copy(str(tmp_path / "raw.tif"), str(tmp_path / "plain.tif"), driver="COG", COMPRESS="DEFLATE",
                 PREDICTOR="YES", BLOCKSIZE=512, OVERVIEWS="IGNORE_EXISTING", RESAMPLING="AVERAGE",
                 NUM_THREADS="1", BIGTIFF="IF_SAFER", LEVEL=COG_ZLEVEL)
    assert (tmp_path / "ours.tif").read_bytes() == (tmp_path / "plain.tif").read_bytes()
    assert (tmp_path / "ours.tif").read_bytes() != (tmp_path / "gdal_default.tif").read_bytes()
    with rasterio.open(tmp_path / "ours.tif") as x, rasterio.open(tmp_path / "gdal_default.tif") as y:
        assert x.overviews(1) == y.overviews(1) == [2, 4]
        for f in (1, 2, 4):
            shape = (x.height // f, x.width // f)
            np.testing.assert_array_equal(x.read(1, out_shape=shape), y.read(1, out_shape=shape))
        np.testing.assert_array_equal(x.read(1), a)


class _Held:
    """Something a block function holds, counting how often it is pickled (as Dask tokenizes a closure)."""

    pickled = 0

    def __reduce__(self):
        _Held.pickled += 1
        return (_Held, ())


def test_a_lazy_raster_pickles_its_block_function_once_not_once_a_block():
    """Dask tokenizes a closure by pickling it with all it holds (a layer's geometries): once for the raster."""
    held = _Held()

    def block(r0, c0, nr, nc):
        assert isinstance(held, _Held)
        return np.add.outer(np.arange(r0, r0 + nr), np.arange(c0, c0 + nc)).astype("f4")

    _Held.pickled = 0
    from dask.base import tokenize

    tokenize(block)
    once = _Held.pickled  # what one tokenization of the function costs (Dask pickles it up to three times)
    assert once >= 1
    _Held.pickled = 0
    grid = Grid("EPSG:4549", 30.0, 0.0, 330.0, 12, 11, chunk=3)  # 4 x 4 = 16 blocks
    out = grid.from_blocks(block, "float32", name="sum")
    assert _Held.pickled == once
    np.testing.assert_array_equal(out.values, np.add.outer(np.arange(11), np.arange(12)).astype("f4"))
    assert out.data.numblocks == (4, 4) and out.name == "sum"
