"""Pure parsers for values written by people: numbers, quantities with units, dates, coordinates.

Every parser takes one cell value as read (``str`` from a CSV, ``int``/``float``/``datetime`` from
a workbook or a GIS layer, ``None``/NaN for a blank) and returns the parsed value, ``None`` for a
blank, or raises :class:`ValueError` with a short message that says what was expected. Text is
folded with Unicode NFKC first, so full-width digits and punctuation (``１２．５``, ``，``) read as
ASCII.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata

import numpy as np
import pandas as pd

from risk.survey.fields import unit_factor

BLANKS = frozenset({"", "-", "--", "—", "——", "/", "\\", "无", "空", "暂无", "不详", "未知", "未填", "n/a", "na",
                    "nan", "none", "null", "nil", "#n/a", "#value!", "?", "？"})
"""Cell texts that mean "nothing recorded" (compared after NFKC, lower case, no spaces)."""

MAX_TEXT = 10_000
"""Longest text a survey cell may hold (characters): a name or a note, not a pasted document."""

MAX_WHOLE = 2**53
"""Largest whole number a survey field may hold (exact in float64, fits int64 and GeoPackage integers)."""


class OutOfRangeError(ValueError):
    """A value that reads as a number but no real one: infinite (``1e400``) or too large to store."""


_APPROX = re.compile(r"^(约|大约|大概|约为|~|≈|±)")
_NUMBER = re.compile(r"^(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)(?P<unit>.*)$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def fold(value) -> str:
    """NFKC-fold a value to text: full-width to ASCII, trimmed; the Unicode minus becomes ``-``."""
    text = unicodedata.normalize("NFKC", str(value)).replace("\u2212", "-").replace("\ufeff", "")
    return text.strip()


def is_blank(value) -> bool:
    """True for None, NaN/NaT, empty text and the usual placeholders (``-``, ``/``, ``无``, ``不详``...)."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NaT or (isinstance(value, np.generic) and pd.isna(value)):
        return True
    if isinstance(value, str):
        return re.sub(r"\s+", "", fold(value)).lower() in BLANKS
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def parse_number(value) -> tuple[float, str] | None:
    """Read a number written by a person; return ``(number, unit)`` or None for a blank.

    Accepts full-width digits (``１２.５``), thousands separators (``1,200``), a leading
    approximation (``约12``), a unit after the number (``35kV``, ``8米``, ``12.5 m``) and Excel
    numbers. The unit is returned NFKC-folded, lower case, without spaces (``㎡`` -> ``m2``).

    Raises
    ------
    ValueError
        For text that is no single number (``3~5``, ``高``, ``1,5``).

    Examples
    --------
    >>> parse_number("１２.５"), parse_number("1,200"), parse_number("35kV"), parse_number(" 8 米 ")
    ((12.5, ''), (1200.0, ''), (35.0, 'kv'), (8.0, '米'))
    """
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int | float | np.integer | np.floating):
        x = float(value)
        if not math.isfinite(x):
            raise OutOfRangeError(f"{value!r} is not a finite number")
        return x, ""
    text = re.sub(r"\s+", "", fold(value)).lower()
    text = _APPROX.sub("", text)
    m = _THOUSANDS.match(text)
    if m:
        text = m.group(0).replace(",", "") + text[m.end():]
    m = _NUMBER.match(text)
    if not m or re.match(r"^[\d.,~\-~～至到]", m.group("unit")):
        raise ValueError(f"{str(value).strip()!r} is not a number")
    x = float(m.group("num"))
    if not math.isfinite(x):
        raise OutOfRangeError(f"{str(value).strip()!r} is beyond any real number (it reads as infinite)")
    return x, m.group("unit").rstrip(".。")


def parse_quantity(value, unit: str | None, header_unit: str = "") -> float | None:
    """A number in the canonical ``unit`` (``m``, ``m2``, ``万元``, ``h``, ``t``, ``kV``, ``人``).

    A unit written with the value wins; else the unit in the column header (``高度（cm）``);
    else the value is taken to be in the canonical unit already.

    >>> parse_quantity("50cm", "m"), parse_quantity("2", "m", header_unit="cm"), parse_quantity("380V", "kV")
    (0.5, 0.02, 0.38)
    """
    parsed = parse_number(value)
    if parsed is None:
        return None
    x, written = parsed
    if written:
        factor = unit_factor(written, unit)
        if factor is None:
            want = f"in {unit}" if unit else "without a unit"
            raise ValueError(f"{str(value).strip()!r}: unit {written!r} not understood (expected a number {want})")
    else:
        factor = unit_factor(header_unit, unit) if header_unit else 1.0
        if factor is None:
            factor = 1.0  # an unknown unit in the header is a label, not a conversion
    if not math.isfinite(x * factor):
        raise OutOfRangeError(f"{str(value).strip()!r} is beyond any real number in {unit}")
    return x * factor


# -- dates ----------------------------------------------------------------------------------------
EXCEL_EPOCH = dt.date(1899, 12, 30)
"""Day 0 of Excel's 1900 date system (serial 1 = 1900-01-01, with Lotus's phantom 1900-02-29)."""

YEAR_RANGE = (1800, 2100)
"""Whole numbers in this range are years, never Excel serials."""

_MAX_SERIAL = (dt.date(YEAR_RANGE[1], 12, 31) - EXCEL_EPOCH).days
_CN_DIGITS = dict(zip("〇零一二三四五六七八九", "00123456789", strict=True))
_YMD = re.compile(r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
                  r"(?:(?:\s+|t)\d{1,2}[:时]\d{1,2}(?:[:分]\d{1,2}(?:\.\d+)?秒?)?(?:z|[+-]\d{2}:?\d{2})?)?$")
_YM = re.compile(r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*月?$")
_Y = re.compile(r"^(?P<y>\d{4})\s*年?(?:度)?$")
_COMPACT = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})?$")


def _chinese_numerals(text: str) -> str:
    """二〇二一年六月三十日 -> 2021年6月30日 (digit-by-digit years, 十 in months and days)."""
    if not re.search(r"[〇零一二三四五六七八九十]", text):
        return text

    def tens(m):
        s = m.group(0)
        if "十" not in s:
            return "".join(_CN_DIGITS[c] for c in s)
        a, _, b = s.partition("十")
        return str((int(_CN_DIGITS[a]) if a else 1) * 10 + (int(_CN_DIGITS[b]) if b else 0))

    return re.sub(r"[〇零一二三四五六七八九十]+", tens, text)


def date_parts(value, allow_partial: bool = False) -> tuple[int, int | None, int | None] | None:
    """``(year, month, day)`` of a date written any common way; month/day None for a partial date.

    Accepts ``2021-06-03``, ``2021/6/3``, ``2021.6.3``, ``2021年6月3日``, ``20210603``,
    ``二〇二一年六月三日``, an optional time after the date, Excel serial numbers (as numbers or
    text), ``datetime``/``date``/``Timestamp`` objects, and with ``allow_partial`` also ``2021-06``,
    ``2021年`` or a bare year ``2021``. Whole numbers in :data:`YEAR_RANGE` are years, not serials.

    Raises
    ------
    ValueError
        For text that is no date, impossible dates (``2021-02-30``), a partial date when not
        allowed, and years outside :data:`YEAR_RANGE`.
    """
    if is_blank(value):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date | np.datetime64):
        d = pd.Timestamp(value)
        return _checked(d.year, d.month, d.day, value)
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a date")
    if isinstance(value, int | float | np.integer | np.floating):
        return _from_number(float(value), value, allow_partial)
    text = re.sub(r"\s+", " ", _chinese_numerals(fold(value))).lower()
    if re.fullmatch(r"\d+(\.\d+)?", text) and not _COMPACT.match(text):
        return _from_number(float(text), value, allow_partial)
    m = _YMD.match(text) or _COMPACT.match(text)
    if m and m.group("d") is not None:
        return _checked(int(m.group("y")), int(m.group("m")), int(m.group("d")), value)
    m = m or _YM.match(text)
    if m:
        parts = _checked(int(m.group("y")), int(m.group("m")), 1, value)
        return _partial((parts[0], parts[1], None), value, allow_partial)
    m = _Y.match(text)
    if m:
        return _partial((_checked(int(m.group("y")), 1, 1, value)[0], None, None), value, allow_partial)
    raise ValueError(f"{str(value).strip()!r} is not a date (expected e.g. 2021-06-03, 2021/6/3, 2021年6月3日)")


def _from_number(x: float, value, allow_partial: bool):
    if not math.isfinite(x):
        raise ValueError(f"{value!r} is not a date")
    if x == int(x) and YEAR_RANGE[0] <= x <= YEAR_RANGE[1]:
        return _partial((int(x), None, None), value, allow_partial)
    if x == int(x) and YEAR_RANGE[0] * 10000 + 101 <= x <= YEAR_RANGE[1] * 10000 + 1231:
        n = int(x)  # 20210603 typed as a number
        return _checked(n // 10000, n // 100 % 100, n % 100, value)
    serial = math.floor(x)
    if not 1 <= serial <= _MAX_SERIAL:
        raise ValueError(f"{value!r} is not a date (nor an Excel date serial up to {YEAR_RANGE[1]})")
    d = EXCEL_EPOCH + dt.timedelta(days=serial)
    return _checked(d.year, d.month, d.day, value)


def _checked(y: int, m: int, d: int, value):
    if not YEAR_RANGE[0] <= y <= YEAR_RANGE[1]:
        raise ValueError(f"{str(value).strip()!r}: year {y} is not plausible")
    try:
        dt.date(y, m, d)
    except ValueError:
        raise ValueError(f"{str(value).strip()!r} is not a valid date") from None
    return y, m, d


def _partial(parts, value, allow_partial: bool):
    if not allow_partial:
        raise ValueError(f"{str(value).strip()!r} is not a full date (year, month and day)")
    return parts


def parse_date(value) -> dt.date | None:
    """A full date, or None for a blank (see :func:`date_parts`).

    >>> [str(parse_date(v)) for v in ("2021-06-03", "2021/6/3", "2021.6.3", "2021年6月3日", 44350)]
    ['2021-06-03', '2021-06-03', '2021-06-03', '2021-06-03', '2021-06-03']
    """
    parts = date_parts(value)
    return None if parts is None else dt.date(*parts)


def parse_partial_date(value) -> str | None:
    """A date or a year (or year-month) as ISO 8601 text: ``2021-06-03``, ``2021-06`` or ``2021``.

    >>> parse_partial_date(2015), parse_partial_date("2015年6月"), parse_partial_date("2015/6/3")
    ('2015', '2015-06', '2015-06-03')
    """
    parts = date_parts(value, allow_partial=True)
    if parts is None:
        return None
    y, m, d = parts
    return f"{y:04d}" + (f"-{m:02d}" if m else "") + (f"-{d:02d}" if d else "")


# -- coordinates ---------------------------------------------------------------------------------
_HEMI = {"e": 1, "n": 1, "w": -1, "s": -1, "东经": 1, "北纬": 1, "西经": -1, "南纬": -1}
_DMS = re.compile(r"^(?P<d>\d+(?:\.\d+)?)\s*(?:°|度|:)\s*(?:(?P<m>\d+(?:\.\d+)?)\s*(?:′|'|分|:)?\s*)?"
                  r"(?:(?P<s>\d+(?:\.\d+)?)\s*(?:″|′′|''|\"|秒)?\s*)?$")


def parse_coordinate(value) -> float | None:
    """A coordinate: decimal (``119.25``, ``１１９．２５``), or degrees-minutes-seconds
    (``119°15′30″E``, ``119度15分30秒``, ``东经119.25``); None for a blank.

    >>> parse_coordinate("119°15′36″E"), parse_coordinate("北纬41度6分"), parse_coordinate("4,545,000.5")
    (119.26, 41.1, 4545000.5)
    """
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a coordinate")
    if isinstance(value, int | float | np.integer | np.floating):
        x = float(value)
        if not math.isfinite(x):
            raise OutOfRangeError(f"{value!r} is not a finite number")
        return x
    text = re.sub(r"\s+", "", fold(value)).lower()
    sign = 1
    for key, s in _HEMI.items():
        if len(key) > 1 and text.startswith(key):
            text, sign = text[len(key):], s
        elif text.endswith(key) or (len(key) == 1 and text.startswith(key)):
            text, sign = (text[:-len(key)] if text.endswith(key) else text[len(key):]), s
            break
    if text.startswith("-"):
        text, sign = text[1:], -sign
    try:
        parsed = parse_number(text)
    except OutOfRangeError:
        raise
    except ValueError:
        parsed = None
    if parsed is not None and parsed[1] in ("", "°", "度"):
        return sign * parsed[0]
    m = _DMS.match(text)
    if not m:
        raise ValueError(f"{str(value).strip()!r} is not a coordinate")
    deg = float(m.group("d"))
    mins = float(m.group("m") or 0)
    secs = float(m.group("s") or 0)
    if mins >= 60 or secs >= 60:
        raise ValueError(f"{str(value).strip()!r}: minutes and seconds must be below 60")
    return sign * (deg + mins / 60 + secs / 3600)


def parse_coordinate_pair(value) -> tuple[float, float] | None:
    """``lon, lat`` written in one cell (``119.2,41.0``, ``119.2 41.0``, ``119.2；41.0``); None for a blank."""
    if is_blank(value):
        return None
    text = fold(value).strip("()[] ")
    parts = [p for p in re.split(r"[,;，；\s]+", text) if p]
    if len(parts) != 2:
        raise ValueError(f"{str(value).strip()!r} is not a coordinate pair (expected 'lon, lat')")
    a, b = parse_coordinate(parts[0]), parse_coordinate(parts[1])
    return a, b


# -- text -----------------------------------------------------------------------------------------
def parse_text(value) -> str | None:
    """Trimmed text; None for a blank; whole floats from a workbook lose their ``.0`` (``1001.0`` -> ``1001``)."""
    if is_blank(value):
        return None
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.isoformat()
    text = str(value)
    if len(text) > MAX_TEXT:
        raise OutOfRangeError(f"a cell of {len(text):,} characters (at most {MAX_TEXT:,}: a name or a note)")
    return re.sub(r"\s+", " ", text.replace("\u3000", " ")).strip()


def parse_id(value) -> str | None:
    """An identifier: trimmed text with full-width letters/digits folded (``ＷＬ００１`` -> ``WL001``)."""
    text = parse_text(value)
    return None if text is None else re.sub(r"\s+", "", fold(text))


def parse_int(value, unit: str | None = None, header_unit: str = "") -> int | None:
    """A whole number (people); ``12.0`` is 12, ``12.5`` raises."""
    x = parse_quantity(value, unit, header_unit)
    if x is None:
        return None
    if abs(x) > MAX_WHOLE:
        raise OutOfRangeError(f"{str(value).strip()!r} is too large for a whole number (at most {MAX_WHOLE:.3g})")
    if abs(x - round(x)) > 1e-9:
        raise ValueError(f"{str(value).strip()!r} is not a whole number")
    return int(round(x))
