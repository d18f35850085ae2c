"""What-if scenarios: a small config overlay applied on top of a base run, reusing what it does not change.

A scenario file is an overlay of the base config (only the keys it changes, plus its own ``results_dir`` and
``scenario`` section). ``risk scenario OVERLAY --base CONFIG`` (:mod:`risk.io.scenario`) merges the two
(:func:`merge_config`), writes the inputs the measures change into ``<results_dir>/scenario_inputs/``
(:func:`shelters_with_selected`, :func:`raise_capacity`), seeds the scenario's results folder with the base run's
outputs and their Snakemake records (:func:`rewrite_record`) and runs Snakemake there: Snakemake's own rerun
triggers (changed parameters, changed input files, newer inputs) then rerun exactly the steps the scenario
changes and what depends on them, and reuse every other output of the base run.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping

import pandas as pd


def merge_config(base: Mapping, overlay: Mapping) -> dict:
    """``base`` with ``overlay`` merged in: mappings merged key by key, anything else (lists too) replaced."""
    out = copy.deepcopy(dict(base))
    for k, v in overlay.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = merge_config(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def shelters_with_selected(shelters, selected):
    """The existing shelters plus the selected new sites as built shelters (``usable`` 1, ``status`` ``new``).

    Parameters
    ----------
    shelters : geopandas.GeoDataFrame
        Existing shelters (``name``, ``capacity`` ...).
    selected : geopandas.GeoDataFrame
        ``shelters/selected_sites.gpkg`` of the base run (``name``, ``kind``, ``capacity``).
    """
    import geopandas as gpd

    new = selected.to_crs(shelters.crs)
    cols = [c for c in shelters.columns if c != "geometry"]
    add = pd.DataFrame({c: (new[c].to_numpy() if c in new.columns else pd.NA) for c in cols}, index=new.index)
    if "usable" in add.columns:
        add["usable"] = 1
    add["name"] = new["name"].astype(str).to_numpy() + "应急避难场所"
    old = pd.DataFrame(shelters[cols]).assign(status="existing")
    add = add.assign(status="new")
    frame = pd.concat([old, add], ignore_index=True)
    geom = list(shelters.geometry) + list(new.geometry)
    out = gpd.GeoDataFrame(frame, geometry=geom, crs=shelters.crs)
    for c in ("capacity", "usable"):
        if c in out.columns:
            out[c] = pd.to_numeric(out[c]).astype(shelters[c].dtype)
    return out


def raise_capacity(table: pd.DataFrame, changes: Mapping[str, Mapping[str, float]],
                   key: str = "township") -> pd.DataFrame:
    """The capacity table with ``{township: {column: new value}}`` set.

    Raises
    ------
    KeyError
        A township or column that is not in the table (named, with the ones that are).
    """
    out = table.copy()
    for town, cols in changes.items():
        rows = out[key].astype(str) == str(town)
        if not rows.any():
            raise KeyError(f"scenario.capacity: township {town!r} is not in the capacity table "
                           f"({', '.join(map(str, out[key]))})")
        for col, value in cols.items():
            if col not in out.columns or col == key:
                raise KeyError(f"scenario.capacity.{town}: {col!r} is not a column of the capacity table "
                               f"({', '.join(c for c in out.columns if c != key)})")
            out.loc[rows, col] = value
    return out


def rewrite_record(record: Mapping, base_prefix: str, new_prefix: str) -> dict:
    """A Snakemake metadata record of a base-run output, as if the scenario's run had written it.

    Every path under ``base_prefix`` (the base ``results_dir``) in its inputs, logs, parameters and input
    checksums is moved to ``new_prefix``; the rest (code, software environment, times) is kept, so Snakemake
    compares the scenario's rule with what really made the output.
    """
    # the folder itself too (a parameter may be the results folder, stored as its repr: '.../results')
    a = re.compile(re.escape(base_prefix.rstrip("/")) + r"(?=/|'|\"|$)")
    b = new_prefix.rstrip("/")

    def mv(v):
        if isinstance(v, str):
            return a.sub(lambda _: b, v)
        if isinstance(v, list):
            return [mv(x) for x in v]
        if isinstance(v, dict):
            return {mv(k): mv(x) for k, x in v.items()}
        return v

    return {k: (mv(v) if k in ("input", "log", "params", "input_checksums") else copy.deepcopy(v))
            for k, v in record.items()}
