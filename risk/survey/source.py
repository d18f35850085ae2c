"""A survey source: its config entry, its raw rows as read, and how its coordinates are read.

:class:`RawSource` is what :mod:`risk.survey.readers` hands to :func:`risk.survey.ingest.ingest`:
the rows exactly as the file holds them (original headers, values as read), their spreadsheet row
numbers and the geometry, if any. :func:`plan_source` decides, from the headers and the config
entry alone, which columns are canonical fields and how coordinates are to be read; it raises
:class:`SurveyInputError` when a file cannot be used at all (no coordinate columns and no geometry,
a ``columns`` override naming a header the file does not have, metres where degrees were promised).
Both the up-front check and the ingest call it, so the run stops before any work when a file is
unusable.
"""

from __future__ import annotations

import codecs
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pyproj import CRS
from pyproj.exceptions import CRSError

from risk import CATEGORIES
from risk.errors import InputError
from risk.survey import fields as F
from risk.survey.parse import fold, parse_coordinate

COORD_MODES = ("auto", "wgs84", "cgcs2000", "gcj02", "bd09")
"""Named coordinate modes; ``EPSG:NNNN`` is accepted too. ``bd09`` (Baidu maps) goes beyond the contract."""

OFFSET_DATUMS = {"gcj02": "GCJ-02", "bd09": "BD-09"}
"""Web-map lon/lat systems that need :mod:`risk.survey.coords` rather than pyproj."""

SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".geojson", ".json", ".gpkg", ".shp")
"""File types read (``.txt``/``.tsv`` as delimited text, ``.json`` as GeoJSON, ``.xlsm`` as ``.xlsx``)."""


class SurveyInputError(InputError):
    """A survey file (or its config entry) that cannot be used at all; the message names the file."""


@dataclass(frozen=True)
class SourceSpec:
    """One ``survey.sources`` entry, checked and with defaults filled in."""

    path: str
    category: str
    encoding: str = "auto"
    coords: str = "auto"
    layer: str | None = None
    columns: Mapping[str, str | None] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """How the source is named in outputs: the path as configured, plus ``|layername=`` (QGIS style)."""
        return self.path if self.layer is None else f"{self.path}|layername={self.layer}"


def source_spec(entry: Mapping | SourceSpec) -> SourceSpec:
    """Check one config entry and fill in defaults.

    Raises
    ------
    SurveyInputError
        For a missing path, an unknown category, encoding or coordinate mode, or a ``columns``
        mapping that is not ``{header: field}``.
    """
    if isinstance(entry, SourceSpec):
        return entry
    if not isinstance(entry, Mapping) or not entry.get("path"):
        raise SurveyInputError(f"survey source {entry!r}: expected a mapping with at least `path` and `category`")
    path = str(entry["path"])
    unknown = set(entry) - {"path", "category", "encoding", "coords", "layer", "columns"}
    if unknown:
        raise SurveyInputError(f"{path}: unknown key(s) {', '.join(sorted(unknown))} in its survey.sources entry "
                               "(expected path, category, encoding, coords, layer, columns)")
    category = entry.get("category")
    if category not in CATEGORIES:
        raise SurveyInputError(f"{path}: category {category!r} is not one of {', '.join(CATEGORIES)}")
    encoding = str(entry.get("encoding") or "auto").strip()
    if encoding.lower() != "auto":
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise SurveyInputError(f"{path}: encoding {encoding!r} is unknown (expected auto, utf-8, gbk, "
                                   "gb18030 or another Python codec name)") from None
    else:
        encoding = "auto"
    coords = normalise_coords(entry.get("coords"), path)
    layer = entry.get("layer")
    columns = entry.get("columns") or {}
    if not isinstance(columns, Mapping):
        raise SurveyInputError(f"{path}: `columns` must map source headers to canonical fields, got {columns!r}")
    bad = {k: v for k, v in columns.items() if v not in (None, "") and v not in F.FIELDS}
    if bad:
        raise SurveyInputError(f"{path}: `columns` maps to unknown field(s) {bad}; fields are {', '.join(F.FIELDS)}")
    return SourceSpec(path, category, encoding, coords, None if layer in (None, "") else str(layer), dict(columns))


def normalise_coords(value, path: str = "") -> str:
    """``auto``/``wgs84``/``cgcs2000``/``gcj02``/``bd09`` in lower case, or ``EPSG:NNNN`` checked with pyproj."""
    text = str(value or "auto").strip()
    if text.lower() in COORD_MODES:
        return text.lower()
    m = re.fullmatch(r"(?i)epsg:(\d+)", text)
    if m:
        try:
            CRS.from_epsg(int(m.group(1)))
        except CRSError:
            raise SurveyInputError(f"{path}: coords {text!r} is not a known EPSG code") from None
        return f"EPSG:{int(m.group(1))}"
    raise SurveyInputError(f"{path}: coords {text!r} is not one of {', '.join(COORD_MODES)} or EPSG:NNNN")


@dataclass
class RawSource:
    """The rows of one source exactly as read.

    Attributes
    ----------
    spec : SourceSpec
        The config entry.
    frame : pandas.DataFrame
        One row per data row, columns = the file's headers (made unique), values as read
        (``str`` from a CSV, Python/NumPy scalars from a workbook or layer). No geometry column.
    rows : numpy.ndarray
        1-based row number of each frame row, as a spreadsheet shows it (the header is a row,
        so the first data row under a header in row 1 is row 2); feature order for GIS layers.
    geometry : geopandas.GeoSeries or None
        Feature geometries (aligned with ``frame``) for a layer with geometry, with the file's CRS
        (None when the file has none).
    broken : dict
        ``{frame position: message}`` for rows that could not be split into cells (unreadable).
    read_as : str
        How the file was read (format, sheet/layer, encoding, header row), for the report.
    blank_rows : int
        Blank rows skipped between the header and the last data row (they hold nothing).
    notes : list of str
        Warnings found while reading.
    """

    spec: SourceSpec
    frame: pd.DataFrame
    rows: np.ndarray
    geometry: object | None = None
    broken: dict[int, str] = field(default_factory=dict)
    read_as: str = ""
    blank_rows: int = 0
    notes: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.rows = np.asarray(self.rows, dtype="int64")
        if len(self.rows) != len(self.frame):
            raise ValueError(f"{self.spec.label}: {len(self.rows)} row numbers for {len(self.frame)} rows")
        if self.geometry is not None and len(self.geometry) != len(self.frame):
            raise ValueError(f"{self.spec.label}: {len(self.geometry)} geometries for {len(self.frame)} rows")

    @property
    def label(self) -> str:
        return self.spec.label


@dataclass
class SourcePlan:
    """How a source's columns are read.

    Attributes
    ----------
    mapping : dict
        ``{header: (field, unit)}`` for the columns read as canonical fields (coordinates included).
    extras : list of str
        Headers kept as they are.
    coord_mode : str
        ``geometry``, ``lonlat`` (two columns), ``xy`` (two columns) or ``pair`` (one ``lon, lat`` column).
    coord_headers : tuple of str
        The column(s) holding the coordinates (empty for ``geometry``).
    crs : pyproj.CRS or None
        CRS of the coordinates; None for the web-map offsets (then ``offset`` says which).
    offset : str or None
        ``gcj02`` or ``bd09`` when the coordinates are web-map lon/lat.
    crs_label : str
        ``EPSG:4326``, ``GCJ-02``... for messages and the ``source_crs`` column.
    notes : list of str
        Warnings (columns also matching an already-matched field).
    """

    mapping: dict[str, tuple[str, str]]
    extras: list[str]
    coord_mode: str
    coord_headers: tuple[str, ...]
    crs: CRS | None
    offset: str | None
    crs_label: str
    notes: list[str] = field(default_factory=list)

    @property
    def geographic(self) -> bool:
        return self.offset is not None or (self.crs is not None and self.crs.is_geographic)


def _crs_for(mode: str) -> tuple[CRS | None, str | None, str]:
    if mode in OFFSET_DATUMS:
        return None, mode, OFFSET_DATUMS[mode]
    if mode in ("auto", "wgs84"):
        return CRS.from_epsg(4326), None, "EPSG:4326"
    if mode == "cgcs2000":
        return CRS.from_epsg(4490), None, "EPSG:4490"
    crs = CRS.from_user_input(mode)
    return crs, None, mode


def _crs_label(crs: CRS) -> str:
    epsg = crs.to_epsg(min_confidence=70)
    if epsg:
        return f"EPSG:{epsg}"
    return crs.name or crs.to_string()


def has_geometry(raw: RawSource) -> bool:
    """True when the source has at least one non-empty geometry."""
    g = raw.geometry
    if g is None or len(g) == 0:
        return False
    return bool((g.notna() & ~g.is_empty).any())


def plan_source(raw: RawSource) -> SourcePlan:
    """Decide which columns are canonical fields and how the coordinates are read.

    Raises
    ------
    SurveyInputError
        When no coordinates can be found (no geometry, no lon/lat, x/y or ``lon, lat`` columns),
        when a ``columns`` override is wrong, or when the coordinate values contradict the
        ``coords`` setting for the whole file (metres without an EPSG code, degrees where a
        projected CRS was given).
    """
    spec = raw.spec
    headers = [str(h) for h in raw.frame.columns]
    try:
        mapping, notes = F.resolve_columns(headers, spec.category, spec.columns)
    except KeyError as e:
        raise SurveyInputError(f"{spec.label}: {e.args[0]}") from None
    by_field = {f: h for h, (f, _) in mapping.items()}
    mode = spec.coords

    if has_geometry(raw):
        file_crs = getattr(raw.geometry, "crs", None)
        if mode in OFFSET_DATUMS and (file_crs is None or CRS.from_user_input(file_crs).is_geographic):
            crs, offset, label = _crs_for(mode)
        elif file_crs is not None:
            crs, offset = CRS.from_user_input(file_crs), None
            label = _crs_label(crs)
            if mode not in ("auto", label) and not (mode == "wgs84" and label == "EPSG:4326"):
                notes.append(f"the file's own CRS {label} is used (coords: {mode} applies to files without one)")
        else:
            crs, offset, label = _crs_for(mode)
        coord_mode, coord_headers = "geometry", ()
        # coordinate columns of a layer with geometry are kept as plain attributes
        mapping = {h: fu for h, fu in mapping.items() if fu[0] not in F.COORDINATE_FIELDS}
    else:
        crs, offset, label = _crs_for(mode)
        projected = crs is not None and not crs.is_geographic
        options = [("lonlat", ("lon", "lat")), ("xy", ("x", "y")), ("pair", ("lonlat",))]
        if projected:
            options = [options[1], options[0], options[2]]
        found = [(m, tuple(by_field[f] for f in fs)) for m, fs in options if all(f in by_field for f in fs)]
        if not found:
            have = ", ".join(headers) or "none"
            raise SurveyInputError(
                f"{spec.label}: no coordinates found: expected a geometry or coordinate columns "
                "(经度/纬度, lon/lat, X坐标/Y坐标, x/y or one 经纬度 'lon, lat' column; "
                f"or name them with `columns`); headers are: {have}")
        coord_mode, coord_headers = found[0]
        _check_coordinate_kind(raw, spec, coord_headers, coord_mode, projected, mode, label)
        # coordinate columns not used (x/y beside lon/lat) stay extras
        used = set(coord_headers)
        mapping = {h: fu for h, fu in mapping.items() if fu[0] not in F.COORDINATE_FIELDS or h in used}
    extras = [h for h in headers if h not in mapping]
    return SourcePlan(mapping, extras, coord_mode, coord_headers, crs, offset, label, notes)


def _sample_values(raw: RawSource, header: str, n: int = 500) -> np.ndarray:
    vals = []
    for v in raw.frame[header].iloc[:n]:
        try:
            x = parse_coordinate(v)
        except ValueError:
            continue
        if x is not None and math.isfinite(x):
            vals.append(x)
    return np.asarray(vals, dtype="float64")


def _comma_decimals(raw: RawSource, headers, n: int = 500) -> bool:
    """True when every written coordinate is ``ddd,ddd`` with one comma and no dot, and reading the comma as a
    decimal mark gives degrees (|lon| <= 180, |lat| <= 90): comma decimals, not thousands of metres."""
    limits = (180.0, 90.0) if len(headers) == 2 else (180.0,)
    for h, limit in zip(headers, limits, strict=False):
        texts = [fold(v) for v in raw.frame[h].iloc[:n] if isinstance(v, str) and v.strip()]
        if not texts or not all(re.fullmatch(r"[+-]?\d{1,3},\d+", t) for t in texts):
            return False
        if not all(abs(float(t.replace(",", "."))) <= limit for t in texts):
            return False
    return True


def _check_coordinate_kind(raw, spec, coord_headers, coord_mode, projected, mode, label) -> None:
    if coord_mode == "pair":
        return
    xs, ys = (_sample_values(raw, h) for h in coord_headers)
    values = np.concatenate([xs, ys])
    if len(values) == 0:
        return  # every row will be rejected as missing_coordinates; the report says so
    cols = " / ".join(coord_headers)
    if projected and np.all(np.abs(xs) <= 180) and np.all(np.abs(ys) <= 90):
        raise SurveyInputError(f"{spec.label}: coords is {label} (projected, metres) but {cols} hold degrees: "
                               "expected coords: wgs84, cgcs2000 or gcj02 for lon/lat")
    if not projected and np.all(np.abs(values) > 360) and _comma_decimals(raw, coord_headers):
        raise SurveyInputError(f"{spec.label}: {cols} use a comma as the decimal mark (e.g. 119,250 for 119.250°), "
                               "which reads as thousands: expected a dot as the decimal mark (119.250); re-export "
                               "the file with a dot, or replace ',' by '.' in these columns")
    if not projected and np.all(np.abs(values) > 360):
        hint = "set coords: EPSG:NNNN (e.g. EPSG:4549 for CGCS2000 / 3-degree GK CM 120E)"
        raise SurveyInputError(f"{spec.label}: {cols} hold projected metres, not lon/lat degrees "
                               f"(coords: {mode}): {hint}")
