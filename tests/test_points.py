"""Point-derived rasters: counts, kernel density and exact distance, numpy = Dask for any chunks; sources from features."""

import dask.array as da
import geopandas as gpd
import numpy as np
import pytest
import xarray as xr
from scipy.ndimage import distance_transform_edt
from shapely.geometry import LineString, Point, box

from risk.grid import Grid
from risk.hazard import point_rasters as points
from risk.hazard import proximity

CHUNKS = (16, 23)


@pytest.fixture
def grid():
    return Grid.from_bounds((500_000, 4_500_000, 502_400, 4_501_800), "EPSG:4549", 30, chunk=16)


@pytest.fixture
def pts(grid):
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = grid.bounds
    xs = rng.uniform(x0 - 200, x1 + 200, 40)  # some fall off the grid
    ys = rng.uniform(y0 - 200, y1 + 200, 40)
    return xs, ys, rng.uniform(0.2, 1.0, 40)


def test_point_raster_counts_and_weights(grid, pts):
    xs, ys, w = pts
    ref = points.point_raster(grid, xs, ys, w, dask=False).values
    rows, cols = grid.rowcol(xs, ys)
    inside = grid.inside(rows, cols)
    assert ref.sum() == pytest.approx(w[inside].sum(), rel=1e-6)
    for chunk in CHUNKS:
        got = points.point_raster(grid.with_chunk(chunk), xs, ys, w)
        assert got.data.chunks == grid.with_chunk(chunk).chunks
        np.testing.assert_array_equal(got.values, ref)


@pytest.mark.parametrize("method", ["stamp", "filter"])
def test_kernel_density_same_on_numpy_and_dask(grid, pts, method):
    xs, ys, w = pts
    ref = points.kernel_density(grid, xs, ys, 90, weights=w, method=method, dask=False).values
    for chunk in CHUNKS:
        got = points.kernel_density(grid.with_chunk(chunk), xs, ys, 90, weights=w, method=method).values
        np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-9)


def test_kernel_density_methods_agree_and_keep_the_mass(grid):
    xs = np.array([501_000.0, 501_015.0, 501_900.0])
    ys = np.array([4_500_900.0, 4_500_905.0, 4_501_000.0])
    a = points.kernel_density(grid, xs, ys, 120, method="stamp", dask=False).values
    b = points.kernel_density(grid, xs, ys, 120, method="filter", dask=False).values
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-9)
    assert a.sum() * grid.cell_area / 1e6 == pytest.approx(3.0, rel=1e-5)  # per km², far from the edges
    peak = points.kernel_density(grid, xs[:1], ys[:1], 120, scale="peak", dask=False).values
    assert peak.max() == pytest.approx(1.0)
    assert points.kernel_density(grid, [], [], 120).values.sum() == 0


def test_kernel_density_rejects_bad_options(grid):
    with pytest.raises(ValueError, match="scale"):
        points.kernel_density(grid, [0], [0], 100, scale="bad")
    with pytest.raises(ValueError, match="sigma"):
        points.kernel_density(grid, [0], [0], 0)


@pytest.mark.parametrize("density", [0.02, 0.001])
def test_distance_is_exact_and_chunk_independent(density):
    rng = np.random.default_rng(11)
    src = rng.random((60, 80)) < density
    src[0, 0] = True
    src[40:46, 50:58] = True  # a blob: interior source cells are at distance 0 too
    ref = distance_transform_edt(~src) * 30.0
    arr = xr.DataArray(src, dims=("y", "x"), attrs={"res": 30.0})
    np.testing.assert_allclose(proximity.distance(arr).values, ref, rtol=1e-6)
    for chunk in CHUNKS:
        for kd_factor in (16.0, 1.0):  # the windowed transform and the KD-tree fallback
            for max_listed in (10_000, 0):  # windows from the list of sources, or from the raster
                got = proximity.distance(arr.chunk(chunk), kd_factor=kd_factor, coarse=8, max_listed=max_listed)
                assert got.data.chunks == arr.chunk(chunk).data.chunks
                np.testing.assert_array_equal(got.values, proximity.distance(arr).values)
                np.testing.assert_allclose(got.values, ref, rtol=1e-6)


def test_distance_cap_and_no_sources():
    src = np.zeros((60, 80), bool)
    src[30, 40] = True
    arr = xr.DataArray(src, dims=("y", "x"), attrs={"res": 30.0})
    capped = proximity.distance(arr.chunk(16), max_distance=300.0).values
    assert capped.max() == 300.0 and capped[30, 40] == 0 and capped[30, 45] == 150.0
    np.testing.assert_array_equal(capped, proximity.distance(arr, max_distance=300.0).values)
    empty = xr.DataArray(np.zeros((60, 80), bool), dims=("y", "x"), attrs={"res": 30.0})
    assert np.isnan(proximity.distance(empty.chunk(23)).values).all()
    assert (proximity.distance(empty.chunk(23), max_distance=500.0).values == 500.0).all()
    assert (proximity.distance(empty, max_distance=500.0).values == 500.0).all()


def test_distance_to_points_through_point_raster(grid, pts):
    xs, ys, _ = pts
    src = points.point_raster(grid, xs, ys, dtype="uint8")
    d = proximity.distance(src).values
    rows, cols = grid.rowcol(xs, ys)
    ok = grid.inside(rows, cols)
    assert (d[rows[ok], cols[ok]] == 0).all()
    np.testing.assert_allclose(d, distance_transform_edt(src.values == 0) * 30.0, rtol=1e-6)


def test_sample_reads_the_containing_cell(grid):
    arr = grid.like(da.from_array(np.arange(grid.size, dtype="f4").reshape(grid.shape), chunks=16))
    xs = np.array([grid.x[3], grid.x[70], grid.xmin - 100])
    ys = np.array([grid.y[5], grid.y[59], grid.y[0]])
    got = points.values_at_points({"a": arr}, grid, xs, ys, dtype="f8")["a"]
    assert got.dtype == np.float64
    assert got[0] == 5 * grid.width + 3 and got[1] == 59 * grid.width + 70 and np.isnan(got[2])


def test_point_xy_takes_representative_points():
    xs, ys = points.point_xy(gpd.GeoSeries([Point(1, 2), box(0, 0, 4, 2), None]))
    assert xs[:2].tolist() == [1.0, 2.0] and ys[:2].tolist() == [2.0, 1.0] and np.isnan(xs[2])
    xs, ys = points.point_xy(gpd.GeoSeries([], dtype="geometry"))
    assert xs.dtype == ys.dtype == np.float64 and xs.size == ys.size == 0


def test_line_and_point_sources_skip_missing_geometries(grid):
    x0, y0 = grid.xmin, grid.ymax
    lines = gpd.GeoDataFrame(geometry=[LineString([(x0 + 15, y0 - 15), (x0 + 15 + 4 * 30, y0 - 15)]), None,
                                       LineString()], crs=grid.crs)
    src = proximity.line_sources(lines, grid, "rivers")
    assert src.dtype == np.uint8 and src.name == "rivers"
    assert src.values[0, :5].tolist() == [1] * 5 and src.values.sum() == 5
    pts = gpd.GeoDataFrame(geometry=[Point(x0 + 45, y0 - 45), Point(x0 + 50, y0 - 50), None, Point()],
                           crs=grid.crs)
    cells = proximity.point_sources(pts, grid)
    assert cells.dtype == np.uint8 and cells.values[1, 1] == 2 and cells.values.sum() == 2
    none = proximity.point_sources(pts.iloc[2:], grid)
    assert none.values.sum() == 0


def test_point_xy_drops_missing_and_empty_geometries_when_asked():
    pts = gpd.GeoDataFrame(geometry=[Point(1, 2), None, Point(), Point(3, 4)])
    xs, ys = points.point_xy(pts, drop_empty=True)
    assert xs.tolist() == [1.0, 3.0] and ys.tolist() == [2.0, 4.0]
    xs, _ = points.point_xy(pts)
    assert xs.size == 4 and np.isnan(xs[1]) and np.isnan(xs[2])


def test_values_at_points_of_no_raster_is_empty(small_grid):
    assert points.values_at_points({}, small_grid, [small_grid.xmin + 1], [small_grid.ymax - 1]) == {}
