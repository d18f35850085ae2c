"""Survey rows in, the disaster-prevention database out: typed point layers, rejected rows, counts.

:func:`ingest` is pure: raw sources (as :mod:`risk.survey.readers` reads them) and the study area
in, an :class:`IngestResult` out. Every input row ends in exactly one place, either its category's
layer or ``rejected``, with one reason code:

==========================  ===================================================================
``unreadable``              the row could not be split into cells, or a canonical value cannot be
                            read (``高度 = '很高'``, ``调查日期 = '上周'``)
``missing_coordinates``     a coordinate is blank or not a number (also ``0, 0``: a blank exported
                            as zeros), or a feature has no geometry
``invalid_coordinates``     outside the valid range of its CRS (|lat| > 90, |lon| > 180; projected
                            x/y outside the CRS's area of use)
``outside_aoi``             further than ``tolerance_m`` outside the study area; the message says when
                            swapping lon/lat (x/y) would put it inside
``out_of_range``            a canonical number outside its range (a 60 m ponding depth)
``duplicate_id``            an ``id`` already accepted in the same category (the first is kept)
==========================  ===================================================================

A row with several problems gets the first code in the order above (a row that cannot be split
into cells first, then coordinates, then values, then duplicates) and a message listing them all.
Duplicates are judged among rows that pass every other check, so a duplicate of a rejected row is
kept. Accepted rows keep every column that matched no field under its original header.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from risk.survey import coords as C
from risk.survey import fields as F
from risk.survey import parse as P
from risk.survey.source import RawSource, SourcePlan, plan_source

log = logging.getLogger(__name__)

REASONS = ("missing_coordinates", "invalid_coordinates", "outside_aoi", "duplicate_id", "out_of_range",
           "unreadable")
"""Reason codes of the ``rejected`` layer (the contract's order)."""

_PRECEDENCE = ("broken", "missing_coordinates", "invalid_coordinates", "outside_aoi", "unreadable",
               "out_of_range", "duplicate_id")

PROVENANCE = ("lon", "lat", "source_file", "source_row", "source_crs", "source_x", "source_y")
"""Columns every accepted point carries besides its canonical fields."""

REPORT_COLUMNS = ("file", "category", "rows_read", "accepted", "rejected", *REASONS, "blank_rows",
                  "read_as", "coordinates")
"""Columns of the ingest report, one row per source file."""

REJECTED_COLUMNS = ("category", "source_file", "source_row", "reason", "message", "raw")

WGS84 = CRS.from_epsg(4326)
CRS_MARGIN_DEG = 1.0
"""Projected x/y are invalid when they map further than this outside the CRS's area of use."""


@dataclass
class IngestResult:
    """What :func:`ingest` returns.

    Attributes
    ----------
    layers : dict of str to GeoDataFrame
        One point layer per category with a source (empty when nothing was accepted), in ``crs``:
        ``category``, the category's canonical fields (typed; ``installed_year`` derived from
        ``installed_on``), :data:`PROVENANCE`, then every unmatched column under its original header
        (suffixed ``_original`` only where it would clash with a name above, GeoPackage field names
        being case-insensitive).
    rejected : GeoDataFrame
        Rejected rows: ``category``, ``source_file``, ``source_row``, ``reason``, ``message``,
        ``raw`` (JSON of the row's values under their original headers), geometry = the point in
        ``crs`` when one could be made.
    report : DataFrame
        One row per source: rows read, accepted, rejected, rejected by reason, blank rows skipped,
        how the file and its coordinates were read.
    """

    layers: dict[str, gpd.GeoDataFrame]
    rejected: gpd.GeoDataFrame
    report: pd.DataFrame

    def database(self) -> dict[str, gpd.GeoDataFrame]:
        """The GeoPackage's layers in writing order: categories, then ``rejected``."""
        return {**self.layers, "rejected": self.rejected}


# -- the study area ---------------------------------------------------------------------------------------
@dataclass
class _Area:
    metric: CRS
    geom: object  # AOI in metric CRS
    buffered: object  # AOI + tolerance, prepared
    crs: CRS

    @classmethod
    def build(cls, aoi, crs, tolerance_m: float) -> _Area:
        if isinstance(aoi, shapely.Geometry):
            aoi = gpd.GeoSeries([aoi], crs=WGS84)
        if aoi.crs is None:
            aoi = aoi.set_crs(WGS84)
        target = CRS.from_user_input(crs)
        metric = target if target.is_projected else aoi.estimate_utm_crs()
        geoms = aoi.to_crs(metric).geometry
        geom = shapely.make_valid(shapely.union_all(geoms[geoms.notna()].values))
        if geom.is_empty:
            raise ValueError("the study area (AOI) has no geometry")
        buffered = geom.buffer(float(tolerance_m)) if tolerance_m > 0 else geom
        shapely.prepare(buffered)
        return cls(metric, geom, buffered, target)


# -- one source ---------------------------------------------------------------------------------------------
class _Rows:
    """Problems found per row; the reason is the first by precedence."""

    def __init__(self, n: int):
        self.problems: list[list[tuple[str, str]]] = [[] for _ in range(n)]

    def add(self, i: int, code: str, message: str) -> None:
        self.problems[i].append((code, message))

    def ok(self, i: int) -> bool:
        return not self.problems[i]

    def reason(self, i: int) -> str | None:
        if not self.problems[i]:
            return None
        code = min(self.problems[i], key=lambda p: _PRECEDENCE.index(p[0]))[0]
        return "unreadable" if code == "broken" else code

    def message(self, i: int) -> str:
        return "; ".join(m for _, m in self.problems[i])



def _parsed_cells(values, header: str, parse, rows):
    """``(row, value)`` of each cell that ``parse`` reads; a blank or unreadable cell rejects its row."""
    for i, v in enumerate(values):
        try:
            x = parse(v)
        except P.OutOfRangeError as e:
            rows.add(i, "invalid_coordinates", f"{header}: {e}")
            continue
        except ValueError as e:
            rows.add(i, "missing_coordinates", f"{header}: {e}")
            continue
        if x is None:
            rows.add(i, "missing_coordinates", f"{header} is blank")
        else:
            yield i, x


def _coordinates(raw: RawSource, plan: SourcePlan, rows: _Rows) -> tuple[np.ndarray, np.ndarray, list]:
    """Source x/y (or lon/lat) per row, NaN where missing; non-point geometries kept as WKT."""
    n = len(raw.frame)
    xs = np.full(n, np.nan)
    ys = np.full(n, np.nan)
    shapes: list = [None] * n
    if plan.coord_mode == "geometry":
        for i, g in enumerate(raw.geometry):
            if g is None or g.is_empty:
                rows.add(i, "missing_coordinates", "the feature has no geometry")
                continue
            if g.geom_type != "Point":
                shapes[i] = g.wkt
                g = g.representative_point()
            xs[i], ys[i] = g.x, g.y
            if not (math.isfinite(xs[i]) and math.isfinite(ys[i])):
                rows.add(i, "missing_coordinates", "the geometry has no finite coordinates")
                xs[i] = ys[i] = np.nan
    elif plan.coord_mode == "pair":
        (h,) = plan.coord_headers
        for i, pair in _parsed_cells(raw.frame[h], h, P.parse_coordinate_pair, rows):
            xs[i], ys[i] = pair
    else:
        for arr, h in zip((xs, ys), plan.coord_headers, strict=True):
            for i, x in _parsed_cells(raw.frame[h], h, P.parse_coordinate, rows):
                arr[i] = x
    for i in raw.broken:  # cells of a mis-split row are not where their headers say: no point from them
        xs[i] = ys[i] = np.nan
        rows.problems[i] = [p for p in rows.problems[i] if p[0] == "broken"]
    zero = (xs == 0) & (ys == 0)
    for i in np.flatnonzero(zero):
        rows.add(int(i), "missing_coordinates", "coordinates are 0, 0 (a blank exported as zeros)")
    xs[zero] = ys[zero] = np.nan
    return xs, ys, shapes


class _Locator:
    """Validity, WGS84 lon/lat, target x/y and AOI membership for a source's coordinates."""

    def __init__(self, plan: SourcePlan, area: _Area):
        self.plan = plan
        self.area = area
        self.geographic = plan.geographic
        src = WGS84 if plan.offset else plan.crs
        self.to_wgs84 = Transformer.from_crs(src, WGS84, always_xy=True)
        self.to_target = Transformer.from_crs(WGS84 if plan.offset else src, area.crs, always_xy=True)
        self.to_metric = Transformer.from_crs(WGS84 if plan.offset else src, area.metric, always_xy=True)
        self.bounds = None
        if not self.geographic and plan.crs.area_of_use is not None:
            w, s, e, n = plan.crs.area_of_use.bounds
            self.bounds = (w - CRS_MARGIN_DEG, s - CRS_MARGIN_DEG, e + CRS_MARGIN_DEG, n + CRS_MARGIN_DEG)

    def locate(self, xs: np.ndarray, ys: np.ndarray) -> dict[str, np.ndarray]:
        finite = np.isfinite(xs) & np.isfinite(ys)
        with np.errstate(invalid="ignore"):
            if self.geographic:
                valid = finite & (np.abs(xs) <= 180) & (np.abs(ys) <= 90)
            else:
                valid = finite.copy()
        x = np.where(valid, xs, np.nan)
        y = np.where(valid, ys, np.nan)
        if self.plan.offset == "gcj02":
            lon, lat = C.gcj02_to_wgs84(x, y)
            sx, sy = lon, lat
        elif self.plan.offset == "bd09":
            lon, lat = C.bd09_to_wgs84(x, y)
            sx, sy = lon, lat
        else:
            lon, lat = self.to_wgs84.transform(x, y)
            sx, sy = x, y
        lon, lat = np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
            if self.bounds is not None:
                w, s, e, n = self.bounds
                ok &= (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)
        valid &= ok
        sx, sy = np.where(valid, sx, np.nan), np.where(valid, sy, np.nan)
        tx, ty = (np.asarray(a, dtype="float64") for a in self.to_target.transform(sx, sy))
        mx, my = (np.asarray(a, dtype="float64") for a in self.to_metric.transform(sx, sy))
        valid &= np.isfinite(tx) & np.isfinite(ty) & np.isfinite(mx) & np.isfinite(my)
        inside = np.zeros(len(xs), dtype=bool)
        inside[valid] = shapely.intersects_xy(self.area.buffered, mx[valid], my[valid])
        return dict(valid=valid, lon=np.where(valid, lon, np.nan), lat=np.where(valid, lat, np.nan),
                    x=tx, y=ty, mx=mx, my=my, inside=inside)


def _fmt(v: float) -> str:
    return f"{v:.6f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:.1f}"


def _why_invalid(loc: _Locator, x: float, y: float) -> str:
    if loc.geographic:
        if abs(y) > 90:
            return f"latitude {_fmt(y)} is beyond ±90"
        return f"longitude {_fmt(x)} is beyond ±180"
    if loc.bounds is not None:
        w, s, e, n = (b + d for b, d in zip(loc.bounds, (CRS_MARGIN_DEG, CRS_MARGIN_DEG, -CRS_MARGIN_DEG,
                                                         -CRS_MARGIN_DEG), strict=True))
        return f"outside the area the CRS is defined for ({w:g}–{e:g}E, {s:g}–{n:g}N)"
    return "cannot be located in this CRS"


def _locate_rows(raw: RawSource, plan: SourcePlan, area: _Area, rows: _Rows, xs, ys) -> dict[str, np.ndarray]:
    loc = _Locator(plan, area)
    where = loc.locate(xs, ys)
    finite = np.isfinite(xs) & np.isfinite(ys)
    bad = finite & ~where["valid"]
    out = finite & where["valid"] & ~where["inside"]
    if bad.any() or out.any():
        swapped = loc.locate(ys, xs)
        pair = "lon/lat" if plan.geographic else "x/y"
        for i in np.flatnonzero(bad | out):
            hint = (f"; swapping {pair} would put it inside the study area: are the columns swapped?"
                    if swapped["valid"][i] and swapped["inside"][i] else "")
            at = f"({_fmt(xs[i])}, {_fmt(ys[i])})"
            if bad[i]:
                rows.add(int(i), "invalid_coordinates",
                         f"{pair} {at} in {plan.crs_label}: {_why_invalid(loc, xs[i], ys[i])}{hint}")
            else:
                dist = shapely.distance(area.geom, shapely.points(where["mx"][i], where["my"][i]))
                rows.add(int(i), "outside_aoi",
                         f"{pair} {at} in {plan.crs_label} lies {dist / 1000:.1f} km outside the study area"
                         f"{hint}")
    return where


def _field_values(raw: RawSource, plan: SourcePlan, rows: _Rows) -> dict[str, list]:
    """Canonical values per field (None for blank), recording unreadable and out-of-range values."""
    out: dict[str, list] = {}
    for header, (name, unit) in plan.mapping.items():
        f = F.FIELDS[name]
        if f.kind in ("coord", "coord_pair"):
            continue
        values: list = []
        for i, v in enumerate(raw.frame[header]):
            if i in raw.broken:
                values.append(None)
                continue
            try:
                x = _parse_value(f, v, unit)
            except P.OutOfRangeError as e:
                rows.add(i, "out_of_range", f"{header}: {e}")
                x = None
            except ValueError as e:
                rows.add(i, "unreadable", f"{header}: {e}")
                x = None
            if x is not None and f.kind in ("float", "int") and not f.in_range(x):
                rows.add(i, "out_of_range", f"{f.name} = {x:g} {f.unit} ({header}: {P.parse_text(v)!r}) is out of "
                                            f"range: expected {f.range_text()}")
            values.append(x)
        out[name] = values
    return out


def _parse_value(f: F.Field, v, unit: str):
    if f.kind == "id":
        return P.parse_id(v)
    if f.kind == "text":
        text = P.parse_text(v)
        return F.normalise_inspection(text) if (text is not None and f.name == "inspection") else text
    if f.kind == "float":
        return P.parse_quantity(v, f.unit, unit)
    if f.kind == "int":
        return P.parse_int(v, f.unit, unit)
    if f.kind == "date":
        return P.parse_date(v)
    if f.kind == "date_or_year":
        return P.parse_partial_date(v)
    raise AssertionError(f.kind)  # pragma: no cover


# -- values to JSON / columns ---------------------------------------------------------------------------------
def _json_value(v):
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return None if math.isnan(v) else v
    if isinstance(v, bool | int | str):
        return v
    if isinstance(v, pd.Timestamp | dt.datetime | dt.date | dt.time):
        return v.isoformat()
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return str(v)


def _raw_json(raw: RawSource, i: int, record: Mapping) -> str:
    obj = {str(k): _json_value(v) for k, v in record.items()}
    if raw.geometry is not None:
        g = raw.geometry.iloc[i]
        obj["geometry"] = None if g is None else g.wkt
    return json.dumps(obj, ensure_ascii=False)


def _tidy_extra(values: pd.Series) -> pd.Series:
    """An extra column with one type: numbers, datetimes or text (blank cells become null)."""
    vals = [None if P.is_blank(v) and not (isinstance(v, str) and v.strip()) else v for v in values]
    present = [v for v in vals if v is not None]
    if not present:
        return pd.Series(vals, index=values.index, dtype=object)
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in present):
        return pd.Series(vals, index=values.index, dtype="Int64")
    if all(isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool) for v in present):
        return pd.Series([np.nan if v is None else float(v) for v in vals], index=values.index, dtype="float64")
    if all(isinstance(v, pd.Timestamp | dt.datetime | np.datetime64) for v in present):
        return pd.to_datetime(pd.Series(vals, index=values.index, dtype=object)).astype("datetime64[ms]")
    return pd.Series([None if v is None else (P.parse_text(v) if not isinstance(v, str) else v) for v in vals],
                     index=values.index, dtype=object)


def _typed(name: str, values: list) -> pd.Series:
    f = F.FIELDS.get(name)
    kind = f.kind if f is not None else None
    if kind == "float":
        return pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    if kind == "int":
        return pd.Series(values, dtype="Int64")
    if kind == "date":
        return pd.Series(pd.to_datetime(pd.Series(values, dtype=object)), dtype="datetime64[ms]")
    return pd.Series(values, dtype=object)


# -- the whole survey ---------------------------------------------------------------------------------------------
def ingest(sources: Sequence[RawSource], aoi, crs: str, tolerance_m: float = 500) -> IngestResult:
    """Turn raw survey sources into typed point layers, rejected rows and a count report.

    Parameters
    ----------
    sources : sequence of RawSource
        As read by :func:`risk.survey.readers.read_source` (or :func:`~risk.survey.readers.check_sources`).
    aoi : GeoDataFrame, GeoSeries or shapely geometry
        The study area (a bare geometry is taken as WGS84 lon/lat).
    crs : str
        CRS of the output points, e.g. ``"EPSG:4549"``.
    tolerance_m : float
        Points up to this far outside the study area are accepted.

    Returns
    -------
    IngestResult
        ``layers`` (one per category with a source), ``rejected``, ``report``.

    Raises
    ------
    SurveyInputError
        When a source cannot be used at all (see :func:`risk.survey.source.plan_source`).
    """
    area = _Area.build(aoi, crs, tolerance_m)
    accepted: dict[str, list[tuple[pd.DataFrame, pd.DataFrame]]] = {}
    rejected_parts: dict[int, pd.DataFrame] = {}
    report_rows: dict[int, dict] = {}
    pending: dict[str, list[tuple[int, RawSource, SourcePlan, pd.DataFrame, pd.DataFrame, _Rows]]] = {}
    for k, raw in enumerate(sources):
        plan = plan_source(raw)
        for note in plan.notes:
            log.warning("%s: %s", raw.label, note)
        n = len(raw.frame)
        rows = _Rows(n)
        for i, msg in raw.broken.items():
            rows.add(i, "broken", msg)
        xs, ys, shapes = _coordinates(raw, plan, rows)
        where = _locate_rows(raw, plan, area, rows, xs, ys)
        values = _field_values(raw, plan, rows)
        table = pd.DataFrame({name: _typed(name, v) for name, v in values.items()}, index=range(n))
        table["lon"] = where["lon"]
        table["lat"] = where["lat"]
        table["source_file"] = raw.label
        table["source_row"] = raw.rows
        table["source_crs"] = plan.crs_label
        table["source_x"] = np.where(where["valid"], xs, np.nan)
        table["source_y"] = np.where(where["valid"], ys, np.nan)
        table["__x"] = where["x"]
        table["__y"] = where["y"]
        extras = pd.DataFrame({h: _tidy_extra(raw.frame[h].reset_index(drop=True)) for h in plan.extras},
                              index=range(n))
        if any(s is not None for s in shapes):
            extras["source_geometry"] = pd.Series(shapes, dtype=object)
        pending.setdefault(raw.spec.category, []).append((k, raw, plan, table, extras, rows))

    for category, parts in pending.items():
        seen: dict[str, tuple[str, int]] = {}
        for _, raw, _, table, _, rows in parts:
            if "id" not in table:
                continue
            for i, ident in enumerate(table["id"]):
                if ident is None or not rows.ok(i):
                    continue
                if ident in seen:
                    f0, r0 = seen[ident]
                    rows.add(i, "duplicate_id", f"id {ident!r} already used in {category} by {f0} row {r0} (kept)")
                else:
                    seen[ident] = (raw.label, int(raw.rows[i]))
        for k, raw, plan, table, extras, rows in parts:
            reasons = [rows.reason(i) for i in range(len(table))]
            keep = np.array([r is None for r in reasons], dtype=bool)
            accepted.setdefault(category, []).append((table[keep], extras[keep]))
            rej_idx = np.flatnonzero(~keep)
            records = raw.frame.to_dict("records")
            has_point = np.isfinite(table["__x"].to_numpy()) & np.isfinite(table["__y"].to_numpy())
            rejected_parts[k] = pd.DataFrame({
                "category": category,
                "source_file": raw.label,
                "source_row": raw.rows[rej_idx],
                "reason": [reasons[i] for i in rej_idx],
                "message": [rows.message(i) for i in rej_idx],
                "raw": [_raw_json(raw, i, records[i]) for i in rej_idx],
                "__x": np.where(has_point, table["__x"], np.nan)[rej_idx],
                "__y": np.where(has_point, table["__y"], np.nan)[rej_idx],
            })
            counts = {r: 0 for r in REASONS}
            for i in rej_idx:
                counts[reasons[i]] += 1
            rep = {"file": raw.label, "category": category, "rows_read": len(table), "accepted": int(keep.sum()),
                   "rejected": len(rej_idx), **counts, "blank_rows": raw.blank_rows, "read_as": raw.read_as,
                   "coordinates": _describe_coordinates(plan, shapes)}
            if rep["rows_read"] != rep["accepted"] + rep["rejected"]:  # every row in exactly one place
                raise AssertionError(f"{raw.label}: {rep['rows_read']} rows read but {rep['accepted']} accepted "
                                     f"+ {rep['rejected']} rejected")
            report_rows[k] = rep

    layers = {c: _layer(c, accepted.get(c, []), area.crs) for c in pending}
    # rejected rows and the report follow the order of the sources
    rejected = _rejected_layer([rejected_parts[k] for k in sorted(rejected_parts)], area.crs)
    report = pd.DataFrame([report_rows[k] for k in sorted(report_rows)], columns=list(REPORT_COLUMNS))
    for c in ("rows_read", "accepted", "rejected", *REASONS, "blank_rows"):
        report[c] = report[c].astype("int64")
    total = int(report["rows_read"].sum())
    if total != sum(len(g) for g in layers.values()) + len(rejected):
        raise AssertionError("rows lost between the sources and the database")  # pragma: no cover
    return IngestResult(layers, rejected, report)


def _describe_coordinates(plan: SourcePlan, shapes=()) -> str:
    where = "geometry" if plan.coord_mode == "geometry" else " / ".join(plan.coord_headers)
    how = f"{where} in {plan.crs_label}" + (" converted to WGS84" if plan.offset else "")
    kinds = Counter(wkt.split(" ", 1)[0].split("(", 1)[0].title() for wkt in shapes if wkt is not None)
    if kinds:  # survey points drawn as lines or areas: say so, the shape stays in `source_geometry`
        drawn = ", ".join(f"{n} {k.lower()}{'s' if n > 1 else ''}" for k, n in sorted(kinds.items()))
        how += f"; {drawn} taken at their representative point (shape kept in source_geometry)"
    return how


def _layer(category: str, parts: list[tuple[pd.DataFrame, pd.DataFrame]], crs: CRS) -> gpd.GeoDataFrame:
    """One category's point layer: ``category``, canonical fields, provenance, then extras (original headers)."""
    canonical = F.category_fields(category)
    present = set().union(*(t.columns for t, _ in parts)) if parts else set()
    # a field of another category mapped by a `columns` override is kept too
    canonical += [f for f in F.FIELDS if f in present and f not in canonical and f not in F.COORDINATE_FIELDS]
    parts = [p for p in parts if len(p[0])]
    if parts:
        table = pd.concat([t for t, _ in parts], ignore_index=True)
        extras = pd.concat([e for _, e in parts], ignore_index=True)
    else:
        table, extras = pd.DataFrame({"__x": [], "__y": []}), pd.DataFrame()
    n = len(table)
    out: dict[str, pd.Series] = {"category": pd.Series([category] * n, dtype=object)}
    for name in canonical:
        out[name] = table[name] if name in table else _typed(name, [None] * n)
        if name == "installed_on":
            out["installed_year"] = pd.Series([None if pd.isna(v) else int(str(v)[:4]) for v in out[name]],
                                              dtype="Int64")
    for name in PROVENANCE:
        out[name] = table[name] if name in table else pd.Series([None] * n, dtype=object)
    out["source_row"] = out["source_row"].astype("int64")
    for name in ("lon", "lat", "source_x", "source_y"):
        out[name] = out[name].astype("float64")
    taken = {k.casefold() for k in out} | {"fid", "geom", "geometry", "ogc_fid"}
    for header in extras.columns:
        name, k = header, 1
        while name.casefold() in taken:  # GeoPackage field names are case-insensitive
            name, k = f"{header}_original" + (f"_{k}" if k > 1 else ""), k + 1
        taken.add(name.casefold())
        out[name] = _tidy_extra(extras[header])
    x = table["__x"].to_numpy(dtype="float64")
    y = table["__y"].to_numpy(dtype="float64")
    frame = pd.DataFrame({k: v.reset_index(drop=True) for k, v in out.items()}, index=range(n))
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs=crs)


def _rejected_layer(parts: list[pd.DataFrame], crs: CRS) -> gpd.GeoDataFrame:
    parts = [p for p in parts if len(p)]
    if parts:
        table = pd.concat(parts, ignore_index=True)
    else:
        table = pd.DataFrame({c: pd.Series([], dtype=object) for c in REJECTED_COLUMNS})
        table["__x"] = table["__y"] = pd.Series([], dtype="float64")
    x = table["__x"].to_numpy(dtype="float64")
    y = table["__y"].to_numpy(dtype="float64")
    has = np.isfinite(x) & np.isfinite(y)
    geom = np.full(len(table), None, dtype=object)
    geom[has] = shapely.points(x[has], y[has])
    out = table[list(REJECTED_COLUMNS)].copy()
    out["source_row"] = out["source_row"].astype("int64")
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geom, crs=crs), crs=crs)


def format_report(report: pd.DataFrame) -> str:
    """The counts table as text for the log: per file rows read, accepted, rejected and by reason."""
    cols = ["file", "category", "rows_read", "accepted", "rejected", *REASONS]
    table = report[cols].copy()
    totals = {c: int(table[c].sum()) for c in cols[2:]}
    table = pd.concat([table, pd.DataFrame([{"file": "TOTAL", "category": "", **totals}])], ignore_index=True)
    return table.to_string(index=False)


def ingest_sources(sources: Iterable[Mapping], root: str | Path, aoi, crs: str,
                   tolerance_m: float = 500) -> IngestResult:
    """Read and check every source up front (:func:`~risk.survey.readers.check_sources`), then :func:`ingest`.

    ``aoi`` is a GeoDataFrame/GeoSeries/geometry or a path to a vector file (read with
    :func:`risk.io.read_aoi`).
    """
    from risk.survey.readers import check_sources

    raws = check_sources(sources, root)
    if isinstance(aoi, str | Path):
        from risk.io import read_aoi

        aoi = read_aoi(aoi)
    return ingest(raws, aoi, crs, tolerance_m)
