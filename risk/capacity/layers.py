"""The capacity stage's input layers: the fields a rule needs, the features it can place.

Planner-supplied layers (settlements, shelters, candidate sites, roads, townships) are checked here
once, so that a missing field stops the rule with one message naming the file and the fields.
"""

from __future__ import annotations

from collections.abc import Iterable

from risk.errors import InputError


def require_fields(frame, fields: Iterable[str], source: str, layer: str):
    """``frame`` itself when it has every one of ``fields``.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        The layer as read.
    fields : iterable of str
        The fields (columns) the rule needs.
    source : str
        The layer's file, for the message.
    layer : str
        What the layer is (``"townships"``, ``"roads"``), for the message.

    Raises
    ------
    risk.errors.InputError
        Naming the file and every missing field.

    Examples
    --------
    >>> import pandas as pd
    >>> require_fields(pd.DataFrame({"name": []}), ["name", "class"], "roads.gpkg", "roads")
    Traceback (most recent call last):
    ...
    risk.errors.InputError: roads.gpkg: the roads layer needs the field(s) `class`
    """
    missing = [f for f in fields if f not in frame.columns]
    if missing:
        names = ", ".join(f"`{f}`" for f in missing)
        raise InputError(f"{source}: the {layer} layer needs the field(s) {names}")
    return frame


def with_geometry(gdf):
    """The features that have a geometry (not missing, not empty), in their order and with their index."""
    import shapely

    geoms = gdf.geometry.array.to_numpy()
    return gdf[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]


def points_table(gdf):
    """A point layer as a plain table: its attributes, then the coordinates as ``x`` and ``y``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> points_table(gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(1, 2)])).values.tolist()
    [['a', 1.0, 2.0]]
    """
    import pandas as pd

    return pd.DataFrame(gdf.drop(columns="geometry")).assign(x=gdf.geometry.x, y=gdf.geometry.y)
