"""The capacity stage's input layers: required fields, features with a geometry, points as tables."""

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from risk.capacity.layers import points_table, require_fields, with_geometry


def test_require_fields_names_the_file_and_every_missing_field():
    frame = pd.DataFrame({"name": ["a"], "capacity": [1]})
    assert require_fields(frame, ("name", "capacity"), "s.gpkg", "shelters") is frame
    assert require_fields(frame, (), "s.gpkg", "shelters") is frame
    with pytest.raises(ValueError, match=r"^s\.gpkg: the shelters layer needs the field\(s\) `usable`, `kind`$"):
        require_fields(frame, ("name", "usable", "kind"), "s.gpkg", "shelters")


def test_with_geometry_and_points_table():
    gdf = gpd.GeoDataFrame({"name": ["a", "b", "c"], "n": [1, 2, 3]},
                           geometry=[Point(1, 2), None, Point()], crs="EPSG:4549")
    kept = with_geometry(gdf)
    assert kept.index.tolist() == [0] and all(isinstance(g, BaseGeometry) for g in kept.geometry)
    t = points_table(gdf.iloc[[0]])
    assert type(t) is pd.DataFrame and list(t.columns) == ["name", "n", "x", "y"]
    assert t.iloc[0].tolist() == ["a", 1, 1.0, 2.0]
