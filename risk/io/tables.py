"""Reading the capacity stage's inputs: planner-filled tables, people per grid cell, zones under points.

Tables (township capacity, yearly statistics) are read with every cell as text, so that a stray
"12人" or "n/a" is reported with its line and column by the validators
(:func:`risk.capacity.capacity_index.validate_capacity_table`, :func:`risk.capacity.plan_targets.validate_statistics`) instead of
silently turning into NaN. CSV in UTF-8 (with or without BOM) or GB18030 (what Excel on a Chinese
Windows saves), or an Excel workbook (first sheet).

Population rasters hold people per cell of *their* grid; reading one onto the analysis grid with
an area-weighted mean and scaling by the ratio of cell areas keeps the head count whatever the
two resolutions (bilinear or nearest would not).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio

from risk import io
from risk.grid import Grid


def source_cell_area_m2(path) -> float:
    """Area of one cell of a raster in m² (at its centre latitude for a geographic CRS)."""
    with rasterio.open(path) as src:
        t = src.transform
        if src.crs is None:
            raise ValueError(f"{path}: raster has no CRS")
        if src.crs.is_projected:
            unit = src.crs.linear_units_factor[1] if src.crs.linear_units_factor else 1.0
            return abs(t.a * t.e) * unit * unit
        from pyproj import Geod

        cx, cy = src.xy(src.height // 2, src.width // 2)
        lon0, lat0 = cx - t.a / 2, cy - abs(t.e) / 2
        area, _ = Geod(ellps="WGS84").polygon_area_perimeter(
            [lon0, lon0 + t.a, lon0 + t.a, lon0], [lat0, lat0, lat0 + abs(t.e), lat0 + abs(t.e)])
        return abs(area)


def read_population_on_grid(path, grid: Grid, dask_: bool = True, name: str = "population"):
    """People per analysis-grid cell from a people-per-cell raster of any resolution and CRS.

    Area-weighted mean (GDAL ``average``) of the source cells under each grid cell, times
    ``grid cell area / source cell area``; NaN where the source has no data.
    """
    ratio = grid.cell_area / source_cell_area_m2(path)
    arr = io.read_raster_on_grid(path, grid, resampling="average", dask_=dask_, name=name)
    if math.isclose(ratio, 1.0, rel_tol=1e-9):
        return arr
    out = arr * np.float32(ratio)
    out.attrs = arr.attrs
    out.name = name
    return out


def values_at_points(path, xs, ys, fill=0) -> np.ndarray:
    """Band-1 values of a raster at points given in the raster's CRS (``fill`` off the raster or nodata)."""
    xs = np.asarray(xs, dtype="f8")
    ys = np.asarray(ys, dtype="f8")
    with rasterio.open(path) as src:
        rows, cols = rasterio.transform.rowcol(src.transform, xs, ys, op=math.floor)
        rows, cols = np.asarray(rows), np.asarray(cols)
        inside = (rows >= 0) & (rows < src.height) & (cols >= 0) & (cols < src.width)
        out = np.full(xs.shape, fill, dtype=src.dtypes[0])
        if inside.any():
            pts = list(zip(xs[inside], ys[inside], strict=True))
            out[inside] = np.array([v[0] for v in src.sample(pts, indexes=1)], dtype=out.dtype)
            if src.nodata is not None:
                out[inside & (out == src.nodata)] = fill
    return out


def read_text_table(path) -> pd.DataFrame:
    """A CSV or Excel table with every cell as text (``None`` for empty cells), headers stripped.

    Raises
    ------
    ValueError
        The file is missing, empty, or not a table.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: file not found")
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            df = pd.read_excel(path, dtype=str, sheet_name=0)
        else:
            df = None
            for enc in ("utf-8-sig", "gb18030"):
                try:
                    df = pd.read_csv(path, dtype=str, encoding=enc, skipinitialspace=True, keep_default_na=False,
                                     na_values=[""])
                    break
                except UnicodeDecodeError:
                    continue
            if df is None:
                raise ValueError(f"{path}: neither UTF-8 nor GB18030 text")
    except pd.errors.EmptyDataError as exc:
        raise ValueError(f"{path}: the table is empty") from exc
    except pd.errors.ParserError as exc:
        raise ValueError(f"{path}: not a readable table ({exc})") from exc
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise ValueError(f"{path}: the table has a header but no rows")
    return df.astype(object).where(df.notna(), None)
