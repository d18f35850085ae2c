"""Checks at the door: is each input usable and plausible, before any rule does work?

Pure functions over arrays and frames; each returns a list of :class:`Problem` (empty: nothing to say).
Opening the inputs cheaply (a decimated sample of a raster over the study area; its value range over every
cell, a window at a time) is :mod:`risk.io.inputs`; putting a config's inputs through these checks is :func:`risk.validate.check_inputs`.

An ``error`` stops the run before any rule does work (all of them listed at once); a ``warning`` goes to
``<results>/validation_warnings.csv`` and the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

ERROR, WARNING = "error", "warning"

COLUMNS = ("file", "check", "severity", "message")
"""Columns of ``validation_warnings.csv`` (one row per problem)."""


@dataclass(frozen=True)
class Problem:
    """One finding about one input: the file (or config key), the check, ``error`` or ``warning``, what is wrong."""

    file: str
    check: str
    severity: str
    message: str

    def __str__(self) -> str:
        return self.message if self.file in self.message else f"{self.file}: {self.message}"


def problems_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    """The problems as a table with :data:`COLUMNS` (the contract of ``validation_warnings.csv``)."""
    return pd.DataFrame([asdict(p) for p in problems], columns=list(COLUMNS))


def errors(problems: Iterable[Problem]) -> list[Problem]:
    """The problems that stop the run."""
    return [p for p in problems if p.severity == ERROR]


def _pct(share: float) -> str:
    return f"{100 * share:.1f} %"


# -- rasters: values sampled at cell centres inside the study area --------------------------------------
SENTINELS = (-9999.0, -32768.0, -32767.0, 32767.0, 65535.0, 255.0, -3.4028234663852886e38, 3.4028234663852886e38,
             0.0)
"""Values that data providers use for "no data"; found unmasked (out of a layer's range), they are named as such."""


def coverage_problems(values: np.ndarray, file: str, key: str, min_coverage: float) -> list[Problem]:
    """Whether a raster has data over the study area.

    Parameters
    ----------
    values : numpy.ndarray
        The raster's values at sample points spread evenly over the study area (NaN: no data there, or
        outside the raster).
    file, key : str
        The raster's path and config key (``inputs.dem``), for the message.
    min_coverage : float
        Least share of the study area with data; below it an error, above it but short of full a warning.
    """
    values = np.asarray(values, dtype="float64")
    if values.size == 0:
        return []
    covered = float(np.isfinite(values).mean())
    if covered < min_coverage:
        return [Problem(file, "coverage", ERROR,
                        f"{key} has data on {_pct(covered)} of the study area: {_pct(1 - covered)} is not covered "
                        f"(at least {_pct(min_coverage)} needed, input_checks.min_coverage); every result there "
                        "would be empty. Supply a raster that covers the whole area")]
    if covered < 0.999:
        return [Problem(file, "coverage", WARNING,
                        f"{key} has no data on {_pct(1 - covered)} of the study area; results there are empty")]
    return []


def range_problems(values: np.ndarray, file: str, key: str, valid_range, unit: str = "",
                   every_cell: tuple | None = None) -> list[Problem]:
    """Values outside the physically plausible range ``(lower, upper)`` of a layer (``None``: no bound).

    An out-of-range value that is a usual nodata sentinel (-9999, -32768, 65535, ...) is named as an unmasked
    nodata value. ``every_cell`` (``(n_below, lowest, n_above, highest)`` over every cell of the area's extent,
    :func:`risk.io.inputs.cells_outside`) adds what falls between the sample's points: a lone unmasked cell.
    """
    v = np.asarray(values, dtype="float64")
    v = v[np.isfinite(v)]
    if valid_range is None or (v.size == 0 and every_cell is None):
        return []
    lower, upper = valid_range
    n_lo, lowest, n_hi, highest = every_cell if every_cell is not None else (0, np.nan, 0, np.nan)
    out = []
    for bad, bound, word, extreme, n, exact in (
            (v < lower if lower is not None else None, lower, "below", np.min, n_lo, lowest),
            (v > upper if upper is not None else None, upper, "above", np.max, n_hi, highest)):
        if bad is None or not (bad.any() or n):
            continue
        worst = float(exact) if n else float(extreme(v[bad]))
        hint = (f"; {worst:g} looks like an unmasked nodata value: set it as the raster's nodata"
                if any(np.isclose(worst, s) for s in SENTINELS) else "; check the units and the nodata value")
        share = bad.mean() if bad.size else 0.0
        where = (f"{_pct(share)} of the study area has" if share >= 0.0005 else
                 f"{n:,} cell(s) in the study area's extent have" if n else "under 0.1 % of the study area has")
        out.append(Problem(file, "value_range", ERROR,
                           f"{key}: {where} values {word} the plausible {bound:g} {unit} "
                           f"({'lowest' if word == 'below' else 'highest'} {worst:g}){hint}"))
    return out


def code_problems(values: np.ndarray, file: str, key: str, codes: Iterable[int],
                  table: str = "landcover_classes", every_cell: Mapping | None = None) -> list[Problem]:
    """Class codes of a categorical raster (land cover) that the configured ``table`` does not know.

    ``every_cell`` (``{code: cells}`` of unknown codes over every cell of the area's extent,
    :func:`risk.io.inputs.unknown_codes`) adds the codes too rare for the sample to show.
    """
    v = np.asarray(values, dtype="float64")
    v = v[np.isfinite(v)]
    known = {int(c) for c in codes}
    found, counts = np.unique(v, return_counts=True)
    share = {float(c): n / v.size for c, n in zip(found, counts, strict=True) if c != int(c) or int(c) not in known}
    cells = dict(every_cell or {})
    unknown = sorted(set(share) | set(cells))
    if not unknown:
        return []

    def amount(c):
        if share.get(c, 0) >= 0.0005:
            return _pct(share[c])
        return f"{cells[c]:,} cell(s)" if c in cells else "under 0.1 %"

    named = ", ".join(f"{c:g} ({amount(c)})" for c in unknown[:10])
    return [Problem(file, "landcover_codes", ERROR,
                    f"{key}: code(s) {named} of the study area are not in {table} "
                    f"(known: {', '.join(str(c) for c in sorted(known))}); add them to {table} or they would "
                    "score 0")]


# -- vectors ----------------------------------------------------------------------------------------
KINDS = {"Point": "point", "MultiPoint": "point", "LineString": "line", "MultiLineString": "line",
         "LinearRing": "line", "Polygon": "polygon", "MultiPolygon": "polygon"}
"""Geometry type -> kind (point, line, polygon)."""


def geometry_kinds(geoms) -> pd.Series:
    """The kind of each geometry (``point``, ``line``, ``polygon``, ``other``; ``None`` when missing or empty)."""
    import geopandas as gpd

    geoms = gpd.GeoSeries(geoms)
    kinds = geoms.geom_type.map(lambda t: KINDS.get(t, "other") if isinstance(t, str) else None)
    return kinds.where(geoms.notna() & ~geoms.is_empty, None)


def _feature_names(gdf, index, limit: int = 5) -> str:
    label = next((c for c in ("name", "名称", "code", "id") if c in gdf.columns), None)
    rows = list(index)[:limit]
    names = [f"feature {i + 1}" + (f" '{gdf[label].iloc[i]}'" if label else "") for i in rows]
    more = f" and {len(index) - limit} more" if len(index) > limit else ""
    return ", ".join(names) + more


def repair_polygons(gdf):
    """``(gdf, positions)``: invalid polygons replaced by their ``make_valid`` repair (polygonal parts only).

    A self-intersecting ring (a bow-tie, area 0 as drawn) becomes the polygons it encloses; a polygon that
    collapses to a line keeps nothing (an empty polygon, area 0). ``positions`` are the repaired rows.
    """
    import shapely

    geoms = gdf.geometry.values
    bad = np.flatnonzero(~shapely.is_valid(geoms) & shapely.is_geometry(geoms)
                         & np.isin(shapely.get_type_id(geoms), (3, 6)))
    if bad.size == 0:
        return gdf, []
    fixed = shapely.make_valid(geoms[bad])
    polys = [shapely.union_all([g for g in shapely.get_parts(f) if shapely.get_type_id(g) in (3, 6)])
             if shapely.get_type_id(f) == 7 else f for f in fixed]
    polys = [p if shapely.get_type_id(p) in (3, 6) else shapely.Polygon() for p in polys]
    out = gdf.copy()
    col = out.geometry.name
    out[col] = out.geometry.values  # a writable copy of the geometry array
    out.iloc[bad, out.columns.get_loc(col)] = polys
    return out, [int(i) for i in bad]


def vector_problems(gdf, file: str, key: str, kinds: Iterable[str], *, required: bool = True,
                    empty_consequence: str = "", repaired: Iterable[int] = (), aoi=None) -> list[Problem]:
    """Whether a vector layer is usable: not empty, of the expected geometry kind, valid, in the study area.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer as read (before any repair, so that invalid geometries are seen).
    file, key : str
        Its path and config key, for the message.
    kinds : iterable of str
        Geometry kinds allowed (``point``, ``line``, ``polygon``).
    required : bool
        An empty layer is an error when required, else a warning with ``empty_consequence``.
    repaired : iterable of int
        Rows whose invalid polygon the reader repairs (:func:`repair_polygons`): a warning names them.
    aoi : shapely geometry, optional
        The study area in the layer's CRS: a layer with no feature in it (a wrong CRS) is an error.
    """
    kinds = tuple(kinds)
    if len(gdf) == 0:
        if required:
            return [Problem(file, "empty", ERROR, f"{key} has no features; it needs {' or '.join(kinds)}s")]
        return [Problem(file, "empty", WARNING, f"{key} has no features{empty_consequence}")]
    out = []
    if gdf.crs is None:
        out.append(Problem(file, "crs", WARNING, f"{key} has no CRS; its coordinates are taken to be in grid.crs"))
    found = geometry_kinds(gdf.geometry)
    missing = found.isna()
    if missing.all():
        return out + [Problem(file, "geometry", ERROR, f"{key}: none of its {len(gdf)} features has a geometry")]
    wrong = ~missing & ~found.isin(kinds)
    if wrong.any():
        types = ", ".join(sorted(set(gdf.geometry[wrong].geom_type)))
        out.append(Problem(file, "geometry_type", ERROR,
                           f"{key}: expected {' or '.join(kinds)} geometries, found {types} in {int(wrong.sum())} of "
                           f"{len(gdf)} features ({_feature_names(gdf, np.flatnonzero(wrong))})"))
    if missing.any():
        out.append(Problem(file, "geometry", WARNING,
                           f"{key}: {int(missing.sum())} feature(s) without geometry are left out "
                           f"({_feature_names(gdf, np.flatnonzero(missing))})"))
    repaired = list(repaired)
    if repaired:
        out.append(Problem(file, "validity", WARNING,
                           f"{key}: {len(repaired)} invalid polygon(s) (self-intersecting or badly nested rings) "
                           f"repaired with make_valid: {_feature_names(gdf, repaired)}"))
    if aoi is not None and not gdf.geometry[~missing].intersects(aoi).any():
        out.append(Problem(file, "extent", ERROR,
                           f"{key}: none of its {len(gdf)} features lies in the study area (bounds "
                           f"{', '.join(f'{b:.6g}' for b in gdf.total_bounds)}); a wrong CRS?"))
    return out


def townships_problems(towns, aoi, file: str, min_coverage: float, key: str = "inputs.townships") -> list[Problem]:
    """Townships (repaired, in a projected CRS) against the study area ``aoi``: no zero-area township, full cover,
    no overlap (a place in two townships is counted in both: the county totals, sums over townships, twice) and
    no code or name given twice."""
    import shapely

    out = []
    for field in ("code", "name"):
        if field in towns.columns:
            twice = towns[field].notna() & towns[field].duplicated(keep=False)
            if twice.any():
                out.append(Problem(file, "duplicate", ERROR,
                                   f"{key}: {field} {', '.join(map(repr, towns[field][twice].unique()[:5]))} given "
                                   f"to more than one feature ({_feature_names(towns, np.flatnonzero(twice), 10)}); "
                                   "each township once (merge its parts into one multipolygon)"))
    areas = towns.geometry.area.to_numpy()
    tiny = np.flatnonzero(~(areas > 1.0))  # below 1 m², or NaN for a missing geometry
    if tiny.size:
        out.append(Problem(file, "zero_area", ERROR,
                           f"{key}: {tiny.size} township(s) with zero area: {_feature_names(towns, tiny, 10)}; "
                           "draw their boundaries as polygons (a township's totals would be 0)"))
    union = shapely.union_all(towns.geometry.values[areas > 1.0]) if (areas > 1.0).any() else shapely.Polygon()
    if aoi.area > 0:
        out += _overlap_problems(towns, areas, union, aoi.area, file, key, min_coverage)
    if aoi.area > 0:
        uncovered = shapely.difference(aoi, union).area / aoi.area
        if uncovered > 1 - min_coverage:
            out.append(Problem(file, "coverage", ERROR,
                               f"{key}: the townships leave {_pct(uncovered)} of the study area uncovered (at most "
                               f"{_pct(1 - min_coverage)} allowed, input_checks.min_coverage); the county totals "
                               "would miss it. Supply every township of the area"))
        elif uncovered > 0.001:
            out.append(Problem(file, "coverage", WARNING,
                               f"{key}: the townships leave {_pct(uncovered)} of the study area uncovered"))
    return out


def _overlap_problems(towns, areas, union, aoi_area: float, file: str, key: str, min_coverage: float) -> list[Problem]:
    """Townships that overlap by more than 0.1 % of the area (digitising slivers are left alone), the pairs named."""
    import shapely

    ok = np.flatnonzero(areas > 1.0)
    overlap = float(areas[ok].sum() - union.area) / aoi_area
    if overlap <= 0.001:
        return []
    geoms = towns.geometry.values[ok]
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    left, right = left[left < right], right[left < right]
    shared = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    label = next((c for c in ("name", "code") if c in towns.columns), None)

    def who(i):
        return f"'{towns[label].iloc[ok[i]]}'" if label else f"feature {ok[i] + 1}"

    pairs = [f"{who(a)} and {who(b)} ({km2:.2f} km²)" for km2, a, b in
             sorted(zip(shared / 1e6, left, right, strict=True), reverse=True)[:5] if km2 >= 0.005]
    severity = ERROR if overlap > 1 - min_coverage else WARNING
    return [Problem(file, "overlap", severity,
                    f"{key}: townships overlap on {_pct(overlap)} of the study area ({', '.join(pairs)}); a place in "
                    "two townships is counted in both, and the county totals count it twice")]


def nonnegative_field_problems(frame, field: str, file: str, key: str) -> list[Problem]:
    """A numeric field (a shelter's ``capacity``) with non-numeric or negative values, each feature named."""
    if field not in frame.columns:
        return [Problem(file, "field", ERROR, f"{key}: the field `{field}` is missing")]
    raw = frame[field]
    v = pd.to_numeric(raw, errors="coerce")
    out = []
    text = np.flatnonzero(v.isna().to_numpy() & raw.notna().to_numpy())
    if text.size:
        out.append(Problem(file, "number", ERROR,
                           f"{key}, field `{field}`: not a number in {_feature_names(frame, text)} "
                           f"({', '.join(repr(raw.iloc[i]) for i in text[:5])})"))
    neg = np.flatnonzero((v < 0).to_numpy() | np.isinf(v.to_numpy(dtype="float64", na_value=np.nan)))
    if neg.size:
        out.append(Problem(file, "value_range", ERROR,
                           f"{key}, field `{field}`: negative or infinite in {_feature_names(frame, neg)} "
                           f"({', '.join(f'{v.iloc[i]:g}' for i in neg[:5])}); expected a count >= 0"))
    return out


def message_problems(message: str, file: str, check: str) -> list[Problem]:
    """The lines of a reader's error (a table checker lists one problem a line) as errors."""
    lines = [ln.strip(" -") for ln in str(message).splitlines() if ln.strip(" -")]
    if len(lines) > 1 and lines[0].rstrip().endswith(":"):
        lines = lines[1:]
    return [Problem(file, check, ERROR, ln) for ln in lines]


# -- the analysis grid ----------------------------------------------------------------------------------
def gauss_kruger_epsg(lon: float) -> tuple[str, float] | None:
    """The CGCS2000 3-degree Gauss-Krüger CRS (central meridian in the name, no zone prefix) for a longitude.

    Examples
    --------
    >>> gauss_kruger_epsg(119.3)
    ('EPSG:4549', 120.0)
    >>> gauss_kruger_epsg(10.0) is None
    True
    """
    cm = 3.0 * round(lon / 3.0)
    if not 75 <= cm <= 135:
        return None
    return f"EPSG:{4534 + int(cm - 75) // 3}", cm


def utm_epsg(lon: float, lat: float) -> str:
    """The WGS 84 UTM zone CRS of a point."""
    zone = int((lon + 180) // 6) % 60 + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def suited_crs(lon: float, lat: float) -> str:
    """A projected CRS in metres suited to an area centred at ``(lon, lat)``, as text for a message."""
    gk = gauss_kruger_epsg(lon)
    if gk is not None and 15 <= lat <= 55:
        return f"{gk[0]} (CGCS2000 / 3-degree Gauss-Kruger CM {gk[1]:g}E)"
    return f"{utm_epsg(lon, lat)} (WGS 84 / UTM)"


def central_meridian(crs) -> float | None:
    """The central meridian of a transverse-Mercator-like projected CRS (``None`` for other projections)."""
    op = getattr(crs, "coordinate_operation", None)
    for p in getattr(op, "params", None) or []:
        if p.name in ("Longitude of natural origin", "Longitude of origin", "Longitude of false origin"):
            return float(p.value)
    return None


def grid_crs_problems(crs_text: str, lon: float, lat: float, max_offset_deg: float = 3.0) -> list[Problem]:
    """``grid.crs`` against the study area centred at ``(lon, lat)``: projected, in metres, meridian nearby."""
    from pyproj import CRS

    suggestion = suited_crs(lon, lat)
    try:
        crs = CRS.from_user_input(crs_text)
    except Exception as e:  # noqa: BLE001 - any pyproj failure is the same finding
        return [Problem("grid.crs", "grid_crs", ERROR, f"grid.crs {crs_text!r} is not a known CRS ({e}); "
                        f"for this area use {suggestion}")]
    if not crs.is_projected:
        return [Problem("grid.crs", "grid_crs", ERROR,
                        f"grid.crs {crs_text} is geographic (degrees): grid.resolution is in metres and needs a "
                        f"projected CRS; for this area use {suggestion}")]
    units = {(a.unit_name or "").lower() for a in crs.axis_info}
    if not units <= {"metre", "meter", "m"}:
        return [Problem("grid.crs", "grid_crs", ERROR,
                        f"grid.crs {crs_text} has axis units {', '.join(sorted(units))}, not metres; "
                        f"use {suggestion}")]
    cm = central_meridian(crs)
    if cm is not None and abs((lon - cm + 180) % 360 - 180) > max_offset_deg:
        return [Problem("grid.crs", "grid_crs", WARNING,
                        f"grid.crs {crs_text} has its central meridian at {cm:g}°, {abs(lon - cm):.1f}° from the "
                        f"study area ({lon:.2f}°E): distances and areas are stretched; {suggestion} suits it")]
    return []


def range_settings(ranges: Mapping) -> dict:
    """``{layer: (lower, upper)}`` from the config's ``input_checks.ranges`` (``None``: no bound)."""
    return {k: (v[0], v[1]) for k, v in (ranges or {}).items() if v is not None}
