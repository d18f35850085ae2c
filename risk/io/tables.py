"""Reading planner-filled tables (township capacity, yearly statistics) with every cell as text.

Tables (township capacity, yearly statistics) are read with every cell as text, so that a stray
"12人" or "n/a" is reported with its line and column by the validators
(:func:`risk.capacity.capacity_index.validate_capacity_table`, :func:`risk.capacity.plan_targets.validate_statistics`) instead of
silently turning into NaN. CSV in UTF-8 (with or without BOM) or GB18030 (what Excel on a Chinese
Windows saves), or an Excel workbook (first sheet).

"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from risk.errors import InputError


def read_text_table(path) -> pd.DataFrame:
    """A CSV or Excel table with every cell as text (``None`` for empty cells), headers stripped.

    Raises
    ------
    ValueError
        The file is missing, empty, or not a table.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            df = pd.read_excel(path, dtype=str, sheet_name=0)
        else:
            df = None
            for enc in ("utf-8-sig", "gb18030"):
                try:
                    df = pd.read_csv(path, dtype=str, encoding=enc, skipinitialspace=True, keep_default_na=False,
                                     na_values=[""])
                    break
                except UnicodeDecodeError:
                    continue
            if df is None:
                raise InputError(f"{path}: neither UTF-8 nor GB18030 text")
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{path}: the table is empty") from exc
    except pd.errors.ParserError as exc:
        raise InputError(f"{path}: not a readable table ({exc})") from exc
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise InputError(f"{path}: the table has a header but no rows")
    return df.astype(object).where(df.notna(), None)
