"""Reading what the follow-up stage compares: a survey round as it was written, an earlier history table."""

from __future__ import annotations

from risk import CATEGORIES


def read_round(path):
    """A round's survey database in its own CRS: ``(points, categories surveyed)`` (the category layers)."""
    import geopandas as gpd

    from risk.io.survey_db import read_survey_points

    layers = [n for n in gpd.list_layers(path)["name"] if n in CATEGORIES]
    return read_survey_points(path), layers
