"""Atomic writes of plain files: JSON, text, CSV tables.

Every writer writes a temporary file beside the target and renames it into place, so a killed run
never leaves a half-written output that Snakemake would take as done, and a rerun writes the same
bytes (GeoPackage timestamps are pinned through ``OGR_CURRENT_DATE``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

FIXED_DATE = "2000-01-01T00:00:00Z"
"""Timestamp written into GeoPackages so reruns give the same bytes."""

os.environ.setdefault("OGR_CURRENT_DATE", FIXED_DATE)
os.environ.setdefault("GDAL_CACHEMAX", "256")


# -- atomic writes ----------------------------------------------------------------------------
@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = suffix if suffix is not None else ".tmp" + path.suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # drivers want to create the file themselves
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, Path(str(tmp) + ".aux.xml")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _tmp_suffix(path: Path) -> str:
    # GDAL picks the driver from the extension in some places: keep the real one last.
    return ".tmp" + path.suffix


def write_json(obj, path) -> None:
    """Write JSON with sorted keys and UTF-8 text (Chinese kept readable)."""
    path = Path(path)
    with atomic_path(path, _tmp_suffix(path)) as tmp:
        tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True, default=_json_default)
                       + "\n", encoding="utf-8")


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_text(text: str, path) -> None:
    """Write a UTF-8 text file atomically."""
    path = Path(path)
    with atomic_path(path, _tmp_suffix(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")


_FORMULA_START = re.compile(r"^[=@\t\r]|^[+-].*[A-Za-z|(!]", re.S)


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula, made inert with a leading ``'`` (OWASP CSV injection).

    A survey name such as ``=HYPERLINK(...)``, ``@SUM(...)`` or ``+cmd|' /C calc'!A0`` reaches the tables people open in
    Excel verbatim. Cells starting with ``=``, ``@``, a tab or a carriage return are prefixed with ``'``; cells starting
    with ``+`` or ``-`` only when a letter, ``|``, ``(`` or ``!`` follows, so that signed numbers and number lists
    (``-0.04;0.15``) stay as they are. Numeric columns are untouched.

    Examples
    --------
    >>> neutralise_formulas(pd.DataFrame({"a": ["=1+1", "-0.5;0.2", "+cmd|x", "ok"]}))["a"].tolist()
    ["'=1+1", '-0.5;0.2', "'+cmd|x", 'ok']
    """
    out = df
    for col in df.columns:
        values = df[col]
        if values.dtype.kind not in "OSU" and str(values.dtype) != "string":
            continue
        risky = values.map(lambda v: isinstance(v, str) and bool(_FORMULA_START.match(v)))
        if risky.any():
            if out is df:
                out = df.copy()
            out[col] = [("'" + v) if r else v for v, r in zip(values, risky, strict=True)]
    return out


def restore_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`neutralise_formulas` on a table read back to compute with (an id must equal its original).

    Examples
    --------
    >>> restore_formulas(pd.DataFrame({"a": ["'=1+1", "'ok", "-0.5"]}))["a"].tolist()
    ['=1+1', "'ok", '-0.5']
    """
    out = df.copy()
    for col in df.columns:
        if df[col].dtype.kind == "O" or str(df[col].dtype) == "string":
            out[col] = [v[1:] if isinstance(v, str) and v.startswith("'") and _FORMULA_START.match(v[1:]) else v
                        for v in df[col]]
    return out


def write_table(df: pd.DataFrame, path, index: bool = False) -> None:
    """Write a CSV with a UTF-8 BOM, so that Excel on a Chinese Windows shows the headers right.

    Text that a spreadsheet would run as a formula is neutralised first (:func:`neutralise_formulas`).
    """
    path = Path(path)
    df = neutralise_formulas(df)
    with atomic_path(path, _tmp_suffix(path)) as tmp:
        df.to_csv(tmp, index=index, encoding="utf-8-sig", lineterminator="\n")


def read_table(path) -> pd.DataFrame:
    """Read a CSV written by :func:`write_table` (or any UTF-8 CSV)."""
    return pd.read_csv(path, encoding="utf-8-sig")


def write_joblib(obj, path) -> None:
    """Pickle ``obj`` with joblib (compress level 3), atomically: a fitted model and what recomputes it."""
    import joblib

    with atomic_path(path, ".tmp.joblib") as tmp:
        joblib.dump(obj, tmp, compress=3)
