"""Reading what the follow-up stage compares: a survey round as it was written, an earlier history table."""

from __future__ import annotations

from risk import CATEGORIES


def read_round(path):
    """A round's survey database in its own CRS: ``(points, categories surveyed)`` (the category layers)."""
    import geopandas as gpd

    from risk.io.survey_db import read_survey_points

    layers = [n for n in gpd.list_layers(path)["name"] if n in CATEGORIES]
    return read_survey_points(path), layers


def read_history(paths):
    """A round's point history (``changes/point_history.csv``; the first of ``paths``), ids as written in the survey.

    Text is read as text (an id ``0012`` stays ``0012``) and the CSV's formula neutralisation undone, so ids match
    the survey's. Returns None when ``paths`` is empty (the earlier round was the first).
    """
    import pandas as pd

    from risk.io.files import restore_formulas

    if not paths:
        return None
    table = restore_formulas(pd.read_csv(paths[0], encoding="utf-8-sig", dtype=str, keep_default_na=False))
    if "days_open" in table:
        table["days_open"] = pd.to_numeric(table["days_open"], errors="coerce")
    return table
