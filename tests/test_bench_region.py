"""bench/bench_region.py's mirror: the region's vectors land on the cells its rasters copy from the county."""


import geopandas as gpd
import numpy as np
from shapely.geometry import Point

from risk.grid import Grid
from tests.conftest import load_file


def _bench_region():
    return load_file("bench/bench_region.py")


def test_reflect_runs_forward_then_back_at_every_edge():
    got = _bench_region().reflect(np.arange(-3, 10), 3).tolist()
    assert got == [2, 1, 0, 0, 1, 2, 2, 1, 0, 0, 1, 2, 2]


def test_mirrored_vectors_land_on_the_cells_the_rasters_mirror():
    bench = _bench_region()
    county = Grid.from_bounds((0, 0, 300, 210), "EPSG:4549", 30, chunk=4)  # 7 rows x 10 columns
    region = Grid("EPSG:4549", 30.0, -60.0, 270.0, 27, 19, chunk=4)  # 2 cells up and left of the county
    mirror = bench.Mirror(county, region)
    rows, cols = np.mgrid[0:county.height, 0:county.width]
    xs, ys = county.x[cols.ravel()], county.y[rows.ravel()]
    pts = gpd.GeoDataFrame({"row": rows.ravel(), "col": cols.ravel()},
                           geometry=[Point(x, y) for x, y in zip(xs, ys, strict=True)], crs=county.crs)
    out = mirror.vectors(pts)
    r, c = region.rowcol(out.geometry.x, out.geometry.y)
    assert region.inside(r, c).all()
    assert len(out) == region.size and len(set(zip(r.tolist(), c.tolist(), strict=True))) == region.size  # each cell once
    np.testing.assert_array_equal(mirror.rows(0, region.height)[r], out["row"])
    np.testing.assert_array_equal(mirror.cols(0, region.width)[c], out["col"])


def test_mirrored_raster_copies_the_county_cell_for_cell(tmp_path):
    import rasterio

    from risk.io import write_raster

    bench = _bench_region()
    county = Grid.from_bounds((0, 0, 300, 210), "EPSG:4549", 30, chunk=4)
    values = np.arange(county.size, dtype="float32").reshape(county.shape)
    write_raster(values, tmp_path / "c.tif", county)
    region = Grid("EPSG:4549", 30.0, -60.0, 270.0, 27, 19, chunk=4)
    mirror = bench.Mirror(county, region)
    got = mirror.raster(tmp_path / "c.tif", "float32").values
    expected = values[mirror.rows(0, region.height)[:, None], mirror.cols(0, region.width)[None, :]]
    np.testing.assert_array_equal(got, expected)
    assert got[2, 2] == values[0, 0] and got[1, 2] == values[0, 0] and got[2 + county.height, 2] == values[-1, 0]
    with rasterio.open(tmp_path / "c.tif") as src:
        assert src.shape == county.shape
