"""Reading survey files (.csv, .xlsx, .geojson, .gpkg, .shp) into :class:`RawSource` rows, as they are.

This is the survey's I/O module: it touches paths, decodes bytes and keeps every row with the row
number a spreadsheet shows (the header is a row: under a header in row 1 the first data row is
row 2; title rows above the header and blank rows count, as they do on screen). GIS layers
number their features 1, 2, ... in file order. Nothing is interpreted here beyond splitting
rows into cells: :func:`risk.survey.ingest.ingest` does the rest.

A file that cannot be read at all (missing, wrong format, undecodable, no coordinates to be
found) raises :class:`SurveyInputError` with one message naming the file and what was expected;
:func:`check_sources` reads and checks every configured source up front so the run stops before
any work starts.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from risk.io.vectors import data_layers
from risk.survey.fields import match_header, normalise_header
from risk.survey.source import (
    SUFFIXES,
    RawSource,
    SourceSpec,
    SurveyInputError,
    has_geometry,
    plan_source,
    source_spec,
)

logger = logging.getLogger(__name__)

__all__ = ["SurveyInputError", "check_sources", "decode_text", "detect_encoding", "read_source"]

log = logging.getLogger(__name__)

HEADER_SEARCH_ROWS = 30
"""The header is looked for in this many non-blank rows from the top (title rows may come first)."""

_GBK_FAMILY = {"gbk", "gb2312", "cp936", "ms936", "euc_cn", "hz"}


# -- text encodings ---------------------------------------------------------------------------------
def detect_encoding(data: bytes) -> str:
    """Tell UTF-8 with BOM, UTF-16 with BOM, UTF-8 and GB18030 (a superset of GBK/GB2312) apart, with evidence.

    Returns the Python codec name (``utf-8-sig``, ``utf-16``, ``utf-8`` or ``gb18030``). Bytes that are valid
    UTF-8 are UTF-8 unless they read as far more plausible Chinese in GB18030 (short GBK text can happen to be
    valid UTF-8, and then decodes to rare letters instead of common characters: :func:`_plausibility`).

    Raises
    ------
    UnicodeDecodeError
        When the bytes are neither UTF-8 nor GB18030.

    Examples
    --------
    >>> detect_encoding("编号".encode("utf-8")), detect_encoding("编号".encode("gbk"))
    ('utf-8', 'gb18030')
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        as_utf8 = data.decode("utf-8")
    except UnicodeDecodeError:
        data.decode("gb18030")  # raises when it is not GB18030 either
        return "gb18030"
    try:
        as_gb = data.decode("gb18030")
    except UnicodeDecodeError:
        return "utf-8"
    if _plausibility(as_gb) > _plausibility(as_utf8) + 0.5:
        return "gb18030"
    return "utf-8"


def _plausibility(text: str) -> float:
    """Share of the non-ASCII characters of ``text`` that are common CJK characters or CJK/full-width punctuation."""
    wide = [c for c in text if ord(c) > 127]
    if not wide:
        return 1.0
    common = sum(0x4E00 <= ord(c) <= 0x9FFF or 0x3000 <= ord(c) <= 0x303F or 0xFF00 <= ord(c) <= 0xFFEF
                 for c in wide)
    return common / len(wide)


def decode_mixed(data: bytes) -> tuple[str, list[int]] | None:
    """Text of a file that is UTF-8 except for some lines in GB18030 (a GBK cell pasted into a UTF-8 file).

    Returns ``(text, GB18030 line numbers)`` when some lines are UTF-8 with Chinese text (evidence that the file
    is UTF-8) and the others decode as GB18030; None otherwise. Each line is decoded on its own, so neither part
    turns into mojibake.
    """
    lines = data.split(b"\n")
    utf8_wide = False
    out, gb_lines = [], []
    for i, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8")
            utf8_wide = utf8_wide or any(ord(c) > 127 for c in text)
        except UnicodeDecodeError:
            try:
                text = raw.decode("gb18030")
            except UnicodeDecodeError:
                return None
            gb_lines.append(i)
        out.append(text)
    if not gb_lines or not utf8_wide:
        return None
    return "\n".join(out), gb_lines


def _codec(encoding: str) -> str:
    """The codec actually used for a configured encoding: GBK/GB2312 read as their superset GB18030
    (names in survey data use characters outside GBK), UTF-8 tolerates a BOM."""
    name = codecs.lookup(encoding).name
    if name in _GBK_FAMILY:
        return "gb18030"
    if name == "utf-8":
        return "utf-8-sig"
    return name


def decode_text(data: bytes, encoding: str, label: str) -> tuple[str, str]:
    """Decode a text file's bytes with the configured encoding (``auto`` detects).

    Returns ``(text, codec used)``; raises :class:`SurveyInputError` naming ``label`` when the
    bytes do not decode, with a hint at the encoding they do decode as.
    """
    if encoding == "auto":
        mixed = decode_mixed(data) if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else None
        if mixed is not None:
            text, gb_lines = mixed
            shown = ", ".join(map(str, gb_lines[:10])) + (" ..." if len(gb_lines) > 10 else "")
            logger.warning("%s: UTF-8 with %d line(s) in GB18030/GBK (line %s): each line decoded in its own "
                           "encoding", label, len(gb_lines), shown)
            return text.lstrip("\ufeff"), f"utf-8 with GB18030 on line(s) {shown}"
        try:
            enc = detect_encoding(data)
        except UnicodeDecodeError as e:
            raise SurveyInputError(
                f"{label}: cannot be decoded: it is neither UTF-8 nor GB18030/GBK (byte {data[e.start]:#04x} at "
                f"offset {e.start}); expected text saved as UTF-8 or GBK, or set `encoding:` to its codec") from None
    else:
        enc = _codec(encoding)
    try:
        text = data.decode(enc)
    except UnicodeDecodeError as e:
        try:
            hint = f"; it looks like {detect_encoding(data)}: set encoding: auto"
        except UnicodeDecodeError:
            hint = ""
        raise SurveyInputError(f"{label}: cannot be decoded as {encoding} (byte {data[e.start]:#04x} at offset "
                               f"{e.start}){hint}") from None
    return text.lstrip("\ufeff"), enc


# -- reading one source ------------------------------------------------------------------------------
def resolve_path(path: str | Path, root: str | Path = ".") -> Path:
    """A configured path, relative to the project root unless absolute."""
    p = Path(path)
    return p if p.is_absolute() else Path(root) / p


def read_source(entry: Mapping | SourceSpec, root: str | Path = ".") -> RawSource:
    """Read one ``survey.sources`` entry into a :class:`RawSource` (rows as they are, with row numbers).

    Parameters
    ----------
    entry : mapping or SourceSpec
        ``{path, category, encoding, coords, layer, columns}`` as in the config.
    root : path
        Project root; relative paths are relative to it.

    Raises
    ------
    SurveyInputError
        Missing file, unsupported or corrupt format, undecodable text, a sheet/layer that is not
        there (or several when none was named).
    """
    spec = source_spec(entry)
    path = resolve_path(spec.path, root)
    label = spec.label
    if not path.exists():
        raise SurveyInputError(f"{label}: file not found (looked for {path}); expected a survey file "
                               f"({', '.join(SUFFIXES)}) at that path, relative to the project root")
    if path.is_dir():
        raise SurveyInputError(f"{label}: is a folder; expected a survey file ({', '.join(SUFFIXES)})")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        raw = _read_delimited(path, spec)
    elif suffix in (".xlsx", ".xlsm"):
        raw = _read_xlsx(path, spec)
    elif suffix in (".geojson", ".json", ".gpkg", ".shp"):
        raw = _read_layer(path, spec)
    elif suffix == ".xls":
        raise SurveyInputError(f"{label}: old Excel .xls workbooks are not read; expected .xlsx: open it in "
                               "Excel or WPS and save as .xlsx (or CSV)")
    else:
        raise SurveyInputError(f"{label}: unsupported file type {suffix or '(none)'!r}; expected one of "
                               f"{', '.join(SUFFIXES)}")
    return raw


def check_sources(sources: Iterable[Mapping | SourceSpec], root: str | Path = ".") -> list[RawSource]:
    """Read and check every source up front; return the raw sources, or raise one error listing every bad file.

    Each source must exist, be readable in its format and encoding, and have coordinates to be
    found (a geometry, or coordinate columns) consistent with its ``coords`` setting. The same
    file (and layer) listed twice is an error, since its rows would be counted twice.

    Raises
    ------
    SurveyInputError
        One message, one line per unusable file, each naming the file and what was expected.
    """
    sources = list(sources)
    if not sources:
        raise SurveyInputError("survey.sources is empty: expected at least one survey file")
    raws: list[RawSource] = []
    problems: list[str] = []
    seen: dict[tuple, str] = {}
    for entry in sources:
        try:
            spec = source_spec(entry)
            key = (resolve_path(spec.path, root).resolve(), spec.layer)
            if key in seen:
                raise SurveyInputError(f"{spec.label}: listed twice in survey.sources; expected each file "
                                       "(and layer) once, its rows would be counted twice")
            seen[key] = spec.label
            raw = read_source(spec, root)
            plan_source(raw)
            raws.append(raw)
        except SurveyInputError as e:
            problems.append(str(e))
    if len(problems) == 1:
        raise SurveyInputError(problems[0])
    if problems:
        raise SurveyInputError(f"{len(problems)} survey files cannot be used:\n" +
                               "\n".join(f"  - {p}" for p in problems))
    for raw in raws:
        for note in raw.notes:
            log.warning("%s: %s", raw.label, note)
    return raws


# -- tables: header detection and row numbering --------------------------------------------------------
def _empty(cell) -> bool:
    if cell is None:
        return True
    if isinstance(cell, str):
        return cell.strip() == ""
    return isinstance(cell, float) and np.isnan(cell)


def _header_text(cell) -> str:
    if _empty(cell):
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _header_score(cells: Sequence, spec: SourceSpec) -> tuple[bool, int]:
    """(has coordinate columns, number of canonical fields named) for a candidate header row."""
    overrides = {normalise_header(k): v for k, v in spec.columns.items() if v}
    found = set()
    for c in cells:
        text = _header_text(c)
        if not text:
            continue
        field = overrides.get(normalise_header(text)) or match_header(text, spec.category)[0]
        if field:
            found.add(field)
    coords = {"lon", "lat"} <= found or {"x", "y"} <= found or "lonlat" in found
    return coords, len(found)


def _pick_header(records: list[tuple[int, list]], spec: SourceSpec) -> tuple[int | None, bool]:
    """Index (into ``records``) of the header row and whether it names coordinate columns."""
    best, best_key = None, (False, -1)
    seen = 0
    for i, (_, cells) in enumerate(records):
        if all(_empty(c) for c in cells):
            continue
        key = _header_score(cells, spec)
        if key > best_key:
            best, best_key = i, key
        seen += 1
        if seen >= HEADER_SEARCH_ROWS:
            break
    if best is not None and best_key[1] == 0:  # nothing recognised: the first non-blank row is the header
        best = next(i for i, (_, cells) in enumerate(records) if not all(_empty(c) for c in cells))
    return best, best_key[0]


def _column_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _unique_headers(cells: Sequence) -> tuple[list[str], set[str]]:
    """Header texts made unique case-insensitively (GeoPackage field names are); blank ones named ``column_C``."""
    headers, generated, seen = [], set(), set()
    for i, c in enumerate(cells):
        h = _header_text(c)
        if not h:
            h = f"column_{_column_letter(i)}"
            generated.add(h)
        base, k = h, 2
        while h.casefold() in seen:
            h, k = f"{base}_{k}", k + 1
        seen.add(h.casefold())
        headers.append(h)
    return headers, generated


def _trimmed_len(cells: Sequence) -> int:
    n = len(cells)
    while n and _empty(cells[n - 1]):
        n -= 1
    return n


def _table_source(records: list[tuple[int, list]], spec: SourceSpec, header_at: int, read_as: str,
                  strict: bool) -> RawSource:
    """Build a RawSource from ``(row number, cells)`` records with the header at ``records[header_at]``.

    With ``strict`` (delimited text) the table is as wide as its header, or as most rows when they
    are wider (unnamed columns); a row with filled cells beyond that was split wrongly (an unquoted
    separator) and is marked broken. A workbook's cells cannot be mis-split: every filled column counts.
    """
    header_row, header_cells = records[header_at]
    lengths = [_trimmed_len(c) for _, c in records[header_at + 1:]]
    if strict:
        common = Counter(n for n in lengths if n).most_common(1)
        width = max(_trimmed_len(header_cells), common[0][0] if common else 0)
    else:
        width = max([_trimmed_len(header_cells)] + lengths)
    header_cells = (list(header_cells) + [None] * width)[:width]
    ncols = len([c for c in header_cells if not _empty(c)])
    headers, generated = _unique_headers(header_cells)
    body = records[header_at + 1:]
    last = max((i for i, (_, cells) in enumerate(body) if not all(_empty(c) for c in cells)), default=-1)
    data, rows, broken, blank = [], [], {}, 0
    for rownum, cells in body[:last + 1]:
        if all(_empty(c) for c in cells):
            blank += 1
            continue
        cells = list(cells)
        if len(cells) > width:
            extra = cells[width:]
            if not all(_empty(c) for c in extra):
                broken[len(data)] = (f"row has {_trimmed_len(cells)} cells but the table has {width} columns "
                                     f"(extra values {[c for c in extra if not _empty(c)]!r}): a separator "
                                     "inside an unquoted value?")
            cells = cells[:width]
        cells += [None] * (width - len(cells))
        data.append(cells)
        rows.append(rownum)
    frame = pd.DataFrame(data, columns=headers, dtype=object) if data else pd.DataFrame(
        {h: pd.Series([], dtype=object) for h in headers})
    drop = [h for h in generated if frame[h].map(_empty).all()]
    frame = frame.drop(columns=drop)
    notes = []
    if header_row > 1:
        notes.append(f"header found in row {header_row}; rows above it (titles) are not data")
    if ncols == 0:
        notes.append("the header row is empty")
    read_as = f"{read_as}, header in row {header_row}"
    return RawSource(spec, frame, np.asarray(rows, dtype="int64"), None, broken, read_as, blank, notes)


# -- CSV / delimited text --------------------------------------------------------------------------------
def _sniff_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines()[:200] if ln.strip()][:30]
    best, best_score = ",", 0
    for d in (",", "\t", ";", "|"):
        counts = [ln.count(d) for ln in lines]
        mode, agree = Counter(c for c in counts if c > 0).most_common(1)[0] if any(counts) else (0, 0)
        if mode and agree > best_score:
            best, best_score = d, agree
    return best


def _read_delimited(path: Path, spec: SourceSpec) -> RawSource:
    label = spec.label
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SurveyInputError(f"{label}: cannot be read ({e.strerror}); expected a readable CSV file") from None
    if data.startswith(b"PK\x03\x04"):
        raise SurveyInputError(f"{label}: is an Excel workbook (or a zip), not a CSV; expected CSV text: "
                               "rename it to .xlsx or export it as CSV")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise SurveyInputError(f"{label}: is an old Excel .xls workbook, not a CSV; expected CSV text: save it "
                               "as .xlsx or CSV")
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise SurveyInputError(f"{label}: is empty; expected a header row and one row per point")
    if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SurveyInputError(f"{label}: is binary, not CSV text; expected a CSV saved from Excel or WPS")
    text, enc = decode_text(data, spec.encoding, label)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff_delimiter(text)
    # The whole file is in memory already: let a cell be as long as the file (csv's default stops at 128 KiB and
    # would reject the whole file for one pasted blob); over-long text is then rejected on its own row.
    csv.field_size_limit(max(csv.field_size_limit(), min(len(data) + 1, sys.maxsize)))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = [(i, row) for i, row in enumerate(reader, start=1)]
    except csv.Error as e:
        raise SurveyInputError(f"{label}: is not readable as CSV at line {reader.line_num} ({e}); expected "
                               "comma-separated text") from None
    header_at, _ = _pick_header(records, spec)
    if header_at is None:
        raise SurveyInputError(f"{label}: has no rows; expected a header row and one row per point")
    names = {",": "comma", "\t": "tab", ";": "semicolon", "|": "bar"}
    return _table_source(records, spec, header_at, f"CSV {enc}, {names[delimiter]}-separated", strict=True)


# -- Excel -----------------------------------------------------------------------------------------------
def _value_extent(ws) -> tuple[int, int]:
    """Last row and column of a worksheet that hold a value.

    openpyxl's ``max_row``/``max_column`` count every formatted cell: one coloured cell in row 1,048,576 makes a
    million-row sheet, and reading it took 82 s and 4.7 GB for 10 rows of data. Only cells with a value matter.
    openpyxl keeps the cells it loaded in the sparse ``_cells`` store (no public API lists them without walking
    the whole rectangle), so this walks that store.
    """
    rows = cols = 0
    for (r, c), cell in ws._cells.items():
        v = cell.value
        if v is not None and not (isinstance(v, str) and not v.strip()):
            rows, cols = max(rows, r), max(cols, c)
    return rows, cols


def _sheet_records(ws) -> tuple[list[tuple[int, list]], bool]:
    """Rows of a worksheet as ``(row number, values)`` with merged cells filled from their top-left cell."""
    n_rows, n_cols = _value_extent(ws)
    matrix = [list(r) for r in ws.iter_rows(min_row=1, min_col=1, max_row=n_rows, max_col=n_cols,
                                            values_only=True)] if n_rows else []
    merged = list(ws.merged_cells.ranges)
    for rng in merged:
        value = matrix[rng.min_row - 1][rng.min_col - 1]
        for r in range(rng.min_row - 1, min(rng.max_row, len(matrix))):
            for c in range(rng.min_col - 1, min(rng.max_col, len(matrix[r]))):
                matrix[r][c] = value
    for row in matrix:
        while row and _empty(row[-1]):
            row.pop()
    return [(i, row) for i, row in enumerate(matrix, start=1)], bool(merged)


def _read_xlsx(path: Path, spec: SourceSpec) -> RawSource:
    import openpyxl

    label = spec.label
    try:
        # not read_only: merged cells (a township merged down its rows) are only visible this way
        wb = openpyxl.load_workbook(path, data_only=True)
    except Exception as e:  # openpyxl raises zip, XML and key errors for files it cannot open
        raise SurveyInputError(f"{label}: is not a readable .xlsx workbook ({type(e).__name__}: {e}); expected "
                               "an Excel 2007+ workbook") from None
    try:
        names = wb.sheetnames
        if spec.layer is not None:
            if spec.layer not in names:
                raise SurveyInputError(f"{label}: has no sheet {spec.layer!r}; expected one of: {', '.join(names)}")
            candidates = [spec.layer]
        else:
            candidates = names
        found = []
        for name in candidates:
            records, merged = _sheet_records(wb[name])
            header_at, has_coords = _pick_header(records, spec)
            if header_at is not None and (has_coords or spec.layer is not None):
                found.append((name, records, header_at, merged))
        if not found:
            raise SurveyInputError(
                f"{label}: no sheet has coordinate columns (经度/纬度, lon/lat, X坐标/Y坐标 or 经纬度) in its "
                f"first {HEADER_SEARCH_ROWS} rows; sheets: {', '.join(names)}")
        if len(found) > 1:
            raise SurveyInputError(
                f"{label}: several sheets look like survey tables ({', '.join(f[0] for f in found)}); "
                "expected one: list the file once per sheet with `layer: <sheet name>`")
        name, records, header_at, merged = found[0]
    finally:
        wb.close()
    read_as = f"XLSX sheet {name!r}" + (", merged cells filled" if merged else "")
    return _table_source(records, spec, header_at, read_as, strict=False)


# -- GIS layers ------------------------------------------------------------------------------------------
def _dbf_text(dbf: bytes) -> bytes:
    """The text parts of a .dbf (field names and records), for encoding detection."""
    header_len = int.from_bytes(dbf[8:10], "little")
    names = [dbf[32 + 32 * i: 43 + 32 * i].split(b"\0")[0] for i in range(max(0, (header_len - 33) // 32))]
    return b"\n".join(names) + b"\n" + dbf[header_len:].rstrip(b"\x1a")


def _read_layer(path: Path, spec: SourceSpec) -> RawSource:
    import geopandas as gpd
    import pyogrio

    label = spec.label
    suffix = path.suffix.lower()
    source: object = path
    encoding = None
    layer = spec.layer
    how = {".gpkg": "GeoPackage", ".shp": "Shapefile"}.get(suffix, "GeoJSON")
    if suffix in (".geojson", ".json"):
        data = path.read_bytes()
        if not data.strip():
            raise SurveyInputError(f"{label}: is empty; expected a GeoJSON FeatureCollection")
        text, enc = decode_text(data, spec.encoding, label)
        source = text.encode("utf-8")  # GDAL reads GeoJSON as UTF-8 only
        how += f" {enc}"
    elif suffix == ".shp":
        dbf = path.with_suffix(".dbf")
        if not dbf.exists():
            dbf = next((p for p in path.parent.glob(path.stem + ".*") if p.suffix.lower() == ".dbf"), dbf)
        if not dbf.exists():
            raise SurveyInputError(f"{label}: its attribute file {dbf.name} is missing; expected the .shp "
                                   "with its .shx, .dbf (and .prj, .cpg) beside it")
        if spec.encoding != "auto":
            encoding = _codec(spec.encoding).replace("utf-8-sig", "utf-8")
        elif not any(path.with_suffix(s).exists() for s in (".cpg", ".CPG")):
            try:
                encoding = detect_encoding(_dbf_text(dbf.read_bytes()))
            except UnicodeDecodeError:
                raise SurveyInputError(f"{label}: its .dbf text is neither UTF-8 nor GB18030/GBK; expected one "
                                       "of them, or set `encoding:` (or add a .cpg file)") from None
            encoding = encoding.replace("utf-8-sig", "utf-8")
        how += f" {encoding or 'per .cpg'}"
    elif suffix == ".gpkg":
        try:
            layers = data_layers(path)  # a GeoPackage saved with its QGIS style has a layer_styles table
        except Exception as e:  # pyogrio raises DataSourceError and friends
            raise SurveyInputError(f"{label}: is not a readable GeoPackage ({e}); expected a .gpkg file") from None
        if layer is None:
            if len(layers) != 1:
                raise SurveyInputError(f"{label}: has {len(layers)} layers ({', '.join(layers) or 'none'}); "
                                       "expected one, or name it with `layer:`")
            layer = layers[0]
        elif layer not in layers:
            raise SurveyInputError(f"{label}: has no layer {layer!r}; expected one of: {', '.join(layers)}")
        how += f" layer {layer!r}"
    try:
        df = pyogrio.read_dataframe(source, layer=layer, encoding=encoding, on_invalid="ignore")
    except Exception as e:  # DataSourceError, FieldError, ... : the file cannot be read in this format
        raise SurveyInputError(f"{label}: cannot be read as {how.split()[0]} ({e}); expected a valid "
                               f"{path.suffix} file") from None
    geometry = None
    if isinstance(df, gpd.GeoDataFrame):
        geometry = df.geometry.reset_index(drop=True)
        frame = pd.DataFrame(df.drop(columns=df.geometry.name)).reset_index(drop=True)
    else:
        frame = pd.DataFrame(df).reset_index(drop=True)
    frame = frame.astype(object)
    headers, _ = _unique_headers(list(frame.columns))
    frame.columns = headers
    raw = RawSource(spec, frame, np.arange(1, len(frame) + 1), geometry, {}, how)
    if geometry is not None and not has_geometry(raw):
        raw.geometry = None  # attributes only (e.g. GeoJSON with null geometries): read it as a table
    if raw.geometry is not None:
        crs = geometry.crs
        raw.read_as += f", {crs.to_string() if crs is not None else 'no CRS'}"
    return raw
