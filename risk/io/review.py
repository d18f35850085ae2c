"""What the reviewers' notebooks read: any results folder, the area of its run, maps drawn from overviews.

Each notebook under ``notebooks/`` starts with a parameter cell (``results``, ``area_name``) that the run's
``notebooks`` rule overrides (:func:`risk.io.notebooks.inject_parameters`); opened by hand, the environment
variable ``RISK_RESULTS`` or the default ``../results`` names the folder, and the area comes from the run's
``manifest.json``. Maps are read at a reduced size (COG overviews where present), so a notebook stays cheap
on a county at 30 m.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

MAX_PIXELS = 400_000
"""Cells read per map (a 30 m county of 6.8 Mpx is read at about 1/4 of its resolution in each direction)."""


def results_folder(results: str | os.PathLike | None = None) -> Path:
    """The results folder a notebook reads: ``RISK_RESULTS`` if set, else ``results``, else ``../results``."""
    return Path(os.environ.get("RISK_RESULTS") or results or "../results").resolve()


def run_info(results: str | os.PathLike, area_name: str | None = None) -> dict:
    """Area, configuration hash and grid of the run whose results are in ``results``.

    ``area_name`` wins when given (the run passes it); else the run's ``manifest.json`` says it; else the
    folder's name stands in.
    """
    results = Path(results)
    manifest = results / "manifest.json"
    m = json.loads(manifest.read_text(encoding="utf-8")) if manifest.exists() else {}
    cfg = m.get("config", {})
    grid = results / "grid" / "grid.json"
    return {
        "area_name": area_name or cfg.get("area_name") or results.name,
        "config_sha256": m.get("config_sha256", ""),
        "grid": json.loads(grid.read_text(encoding="utf-8")) if grid.exists() else {},
        "results": str(results),
    }


def townships(results) -> object | None:
    """Township outlines of the run (``zoning/townships.gpkg``), or None when the run has none."""
    from risk.io import read_vector

    path = Path(results) / "zoning" / "townships.gpkg"
    return read_vector(path, layer="townships") if path.exists() else None


def read_small(path, max_pixels: int = MAX_PIXELS):
    """A raster read for drawing: band 1 at about ``max_pixels`` cells (float, NaN for nodata) and its grid."""
    import rasterio

    from risk.io import read_decimated

    arr, grid = read_decimated(path, max_pixels)
    with rasterio.open(path) as src:
        nodata = src.nodata
    arr = arr.astype("f4")
    if nodata is not None and not np.isnan(nodata):
        arr[arr == nodata] = np.nan
    return arr, grid


def raster_map(path, title: str, boundaries=None, zones: bool = False, **kwargs):
    """A map of one raster of the run: five bilingual zones (``zones``) or a continuous colour ramp."""
    from risk.io.figures import index_map, zone_map

    arr, grid = read_small(path)
    if zones:
        return zone_map(np.nan_to_num(arr, nan=0).astype("u1"), grid, title, boundaries, **kwargs)
    return index_map(arr, grid, title, boundaries=boundaries, **kwargs)


def rasters_map(paths: dict, boundaries=None, ncols: int = 4, **kwargs):
    """Small multiples of several rasters (title -> path) that lie on the same grid."""
    from risk.io.figures import small_multiples

    arrays, grid = {}, None
    for title, path in paths.items():
        arrays[title], grid = read_small(path, MAX_PIXELS // 4)
    return small_multiples(arrays, grid, boundaries, ncols=ncols, **kwargs)
