"""Reading the survey database (``survey/survey.gpkg``) back as one point frame."""

from __future__ import annotations

import pandas as pd

from risk import CATEGORIES, io


def read_survey_points(path, crs: str | None = None):
    """Every accepted survey point of every category layer, with a ``category`` column (``rejected`` skipped)."""
    import geopandas as gpd

    layers = [n for n in gpd.list_layers(path)["name"] if n in CATEGORIES]
    frames = []
    for name in layers:
        g = io.read_vector(path, layer=name, crs=crs)
        g["category"] = name
        frames.append(g)
    if not frames:
        return gpd.GeoDataFrame({"category": pd.Series(dtype=str)}, geometry=[], crs=crs)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
