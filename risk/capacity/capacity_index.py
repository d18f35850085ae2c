"""Disaster-reduction capacity (综合减灾能力) of each township, from one table of plain counts.

The index follows the structure of China's grassroots capacity assessment (GB/T 43981-2024
《基层减灾能力评估技术规范》 and the township capacity survey of the first national natural-hazard
census): three first-level groups, each made of second-level indicators derived from the table.

========================  =============================================================
group                     indicators (all "more is better")
========================  =============================================================
灾害管理能力 management    management staff per 10⁴ people, risk assessment done (0/1),
                          disaster-reduction funding per person, plan drills per year
备灾能力 preparedness      relief-material reserves per person, hospital beds per 10⁴,
                          rescue forces (firefighters + volunteers + militia) per 10⁴
自救与转移能力 self-rescue  share of people trained, shelter places per resident,
& transfer                warning coverage
========================  =============================================================

Steps (each a small pure function): :func:`derive_indicators` (counts → rates),
:func:`normalise` (min-max to 0-1), :func:`indicator_weights` (two-level AHP with the consistency
ratio checked, the entropy method, or their combination, all from :mod:`risk.weights`),
:func:`aggregate` (weighted sum or TOPSIS), :func:`grade` (强/较强/中等/较弱/弱 by the mean ± 0.5
and 1.5 standard deviations, or by any :func:`risk.assessment.zoning.class_breaks` method).
:func:`validate_capacity_table` turns a planner-filled table into numbers, or fails with a message
that names the file, the line and the column. :func:`township_capacity` runs the whole rule on the table
as read and the townships layer.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from risk import weights as wt
from risk.assessment import zoning
from risk.errors import InputError
from risk.survey.fields import normalise_header, split_unit

if TYPE_CHECKING:
    import geopandas as gpd

logger = logging.getLogger(__name__)

# -- the input table ---------------------------------------------------------------------------
TABLE_COLUMNS: dict[str, tuple[str, str, str]] = {
    # key: (Chinese name, English description, unit)
    "township": ("乡镇（街道）", "Township name or code, as in the townships layer", "—"),
    "population": ("常住人口", "Resident population", "人 persons"),
    "mgmt_staff": ("应急管理工作人员", "Emergency/disaster-management staff (full- and part-time)", "人 persons"),
    "risk_assessment_done": ("是否完成灾害风险评估", "Disaster risk assessment done (1 yes, 0 no)", "0/1"),
    "funding_10k_yuan": ("年度防灾减灾救灾经费", "Yearly disaster-reduction funding", "万元 10,000 yuan"),
    "reserve_value_10k_yuan": ("应急物资储备价值", "Value of relief materials in reserve", "万元 10,000 yuan"),
    "hospital_beds": ("医疗卫生机构床位", "Hospital and clinic beds", "张 beds"),
    "firefighters": ("消防救援人员", "Firefighters (professional and full-time)", "人 persons"),
    "volunteers": ("应急志愿者", "Registered emergency volunteers", "人 persons"),
    "militia": ("基干民兵", "Militia available for rescue", "人 persons"),
    "trained_people": ("接受应急培训人数", "People trained in self- and mutual rescue", "人 persons"),
    "shelter_capacity": ("可用应急避难场所容量", "Places in usable emergency shelters", "人 persons"),
    "warning_coverage_pct": ("预警信息覆盖率", "Share of residents reached by warnings", "%"),
    "plan_drills_per_year": ("年度应急预案演练次数", "Emergency-plan drills per year", "次 drills"),
}
"""Columns of the township capacity table (CSV or Excel). A header may be the key or the Chinese name, with
or without a unit in brackets (``常住人口（人）``)."""

NUMERIC_COLUMNS = tuple(k for k in TABLE_COLUMNS if k != "township")

GROUPS: dict[str, tuple[str, str]] = {
    "management": ("灾害管理能力", "Disaster management"),
    "preparedness": ("备灾能力", "Disaster preparedness"),
    "self_rescue": ("自救与转移能力", "Self-rescue and transfer"),
}

GRADE_LABELS = {5: ("强", "Strong"), 4: ("较强", "Fairly strong"), 3: ("中等", "Medium"),
                2: ("较弱", "Fairly weak"), 1: ("弱", "Weak")}
"""Capacity grades: 5 is the strongest (the reverse of risk zones, where 5 is the worst)."""

AGGREGATIONS = ("weighted_sum", "topsis")
NORMALISATIONS = ("minmax", "max")
WEIGHTINGS = ("ahp", "entropy", "combined")


@dataclass(frozen=True)
class Indicator:
    """A second-level indicator: its group, names, unit and how it is derived from the table."""

    key: str
    group: str
    zh: str
    en: str
    unit: str
    formula: str


INDICATORS: tuple[Indicator, ...] = (
    Indicator("mgmt_staff_per_10k", "management", "每万人灾害管理人员数", "Disaster-management staff per 10,000 people",
              "人/万人", "mgmt_staff / population × 10⁴"),
    Indicator("risk_assessment", "management", "是否开展灾害风险评估", "Risk assessment done", "0/1",
              "risk_assessment_done"),
    Indicator("funding_per_capita", "management", "人均防灾减灾救灾经费", "Disaster-reduction funding per person",
              "元/人", "funding_10k_yuan × 10⁴ / population"),
    Indicator("drills_per_year", "management", "年度应急预案演练次数", "Emergency-plan drills per year", "次/年",
              "plan_drills_per_year"),
    Indicator("reserve_per_capita", "preparedness", "人均救灾物资储备价值", "Relief-material reserves per person",
              "元/人", "reserve_value_10k_yuan × 10⁴ / population"),
    Indicator("hospital_beds_per_10k", "preparedness", "每万人医疗卫生机构床位数", "Hospital beds per 10,000 people",
              "张/万人", "hospital_beds / population × 10⁴"),
    Indicator("rescue_force_per_10k", "preparedness", "每万人救援力量人数",
              "Rescue forces (firefighters, volunteers, militia) per 10,000 people", "人/万人",
              "(firefighters + volunteers + militia) / population × 10⁴"),
    Indicator("trained_share_pct", "self_rescue", "受训人员占常住人口比例", "Share of residents trained in rescue",
              "%", "trained_people / population × 100"),
    Indicator("shelter_places_per_person", "self_rescue", "人均避难场所容量", "Shelter places per resident",
              "人/人", "shelter_capacity / population"),
    Indicator("warning_coverage_pct", "self_rescue", "预警信息覆盖率", "Warning coverage", "%",
              "warning_coverage_pct"),
)
INDICATOR_KEYS = tuple(i.key for i in INDICATORS)


def group_members(group: str) -> list[str]:
    """Indicator keys of a first-level group, in table order."""
    return [i.key for i in INDICATORS if i.group == group]


# -- reading the table -------------------------------------------------------------------------
class CapacityTableError(InputError):
    """The capacity table is malformed; the message names the file, line and column."""


def _header_base(header) -> str:
    """A header folded by :func:`risk.survey.fields.normalise_header`, its trailing units taken off.

    Examples
    --------
    >>> _header_base(" Population (persons) "), _header_base("乡镇（街道）"), _header_base("常住人口（人）（2023年）")
    ('population', '乡镇', '常住人口')
    """
    text = normalise_header(header)
    while (base := split_unit(text)[0]) != text:
        text = base
    return text


def header_map(columns, known: Mapping[str, tuple]) -> dict[str, str]:
    """``{header: key}`` for headers that are a key or its Chinese name.

    Headers match as survey headers do (:func:`risk.survey.fields.normalise_header`: case, width, blanks,
    ``_`` and ``-`` ignored), with or without units in brackets (``常住人口（人）``) or after a slash.
    The first column that names a key takes it.

    Examples
    --------
    >>> header_map(["常住人口（人）", "Township", "备注"], TABLE_COLUMNS)
    {'常住人口（人）': 'population', 'Township': 'township'}
    """
    alias = {_header_base(k): k for k in known}
    alias.update({_header_base(v[0]): k for k, v in known.items()})
    out: dict[str, str] = {}
    for c in columns:
        key = alias.get(_header_base(c))
        if key is not None and key not in out.values():
            out[c] = key
    return out


def validate_capacity_table(raw: pd.DataFrame, townships: pd.DataFrame, source: str = "capacity table",
                            max_errors: int = 20) -> pd.DataFrame:
    """Check a township capacity table and return it as numbers, one row per township.

    Parameters
    ----------
    raw : pandas.DataFrame
        The table as read, all cells as text (``dtype=str``), one row per township; headers are the
        keys of :data:`TABLE_COLUMNS` or their Chinese names.
    townships : pandas.DataFrame
        The township layer's attributes with ``code`` and ``name``; a table row may name its
        township by either.
    source : str
        File name used in error messages.

    Returns
    -------
    pandas.DataFrame
        Indexed by township ``code`` in the order of ``townships``, with ``name`` and the numeric
        columns (float).

    Raises
    ------
    CapacityTableError
        Listing every problem found (up to ``max_errors``): a missing column, an empty or
        non-numeric cell, a negative count, a 0/1 or percentage out of range, an unknown or
        repeated township, a township without a row. Each names the file, the line (the header is
        line 1) and the column.
    """
    df = raw.rename(columns=header_map(raw.columns, TABLE_COLUMNS))
    missing = [k for k in TABLE_COLUMNS if k not in df.columns]
    if missing:
        names = ", ".join(f"'{k}' ({TABLE_COLUMNS[k][0]})" for k in missing)
        raise CapacityTableError(f"{source}: missing column(s) {names}; the table needs the columns "
                                 f"{', '.join(TABLE_COLUMNS)} (see docs/capacity.md)")
    codes = [str(c) for c in townships["code"]]
    by_name = {str(n).strip(): str(c) for c, n in zip(townships["code"], townships["name"], strict=True)}
    by_code = {c: c for c in codes}
    errors: list[str] = []
    seen: dict[str, int] = {}
    rows = {}
    for i, (_, row) in enumerate(df.iterrows()):
        line = i + 2
        where = f"{source}, line {line}"
        label = str(row["township"]).strip() if pd.notna(row["township"]) else ""
        if not label:
            errors.append(f"{where}, column 'township': empty; every row names a township")
            continue
        code = by_name.get(label) or by_code.get(label)
        if code is None:
            errors.append(f"{where}, column 'township': '{label}' is not a township of the townships layer "
                          f"(known: {', '.join(list(by_name)[:30])})")
            continue
        if code in seen:
            errors.append(f"{where}, column 'township': '{label}' already given on line {seen[code]}")
            continue
        seen[code] = line
        values = {}
        for col in NUMERIC_COLUMNS:
            cell = row[col]
            text = "" if pd.isna(cell) else str(cell).strip().replace(",", "")
            if text.endswith("%") and col.endswith("_pct"):
                text = text[:-1]
            if text == "":
                errors.append(f"{where} ({label}), column '{col}' ({TABLE_COLUMNS[col][0]}): empty cell")
                continue
            try:
                v = float(text)
            except ValueError:
                errors.append(f"{where} ({label}), column '{col}' ({TABLE_COLUMNS[col][0]}): "
                              f"'{cell}' is not a number")
                continue
            problem = _range_problem(col, v)
            if problem:
                errors.append(f"{where} ({label}), column '{col}' ({TABLE_COLUMNS[col][0]}): {problem}")
                continue
            values[col] = v
        rows[code] = values
        if len(errors) >= max_errors:
            break
    absent = [c for c in codes if c not in seen]
    if absent and len(errors) < max_errors:
        names = {str(c): str(n) for c, n in zip(townships["code"], townships["name"], strict=True)}
        errors.append(f"{source}: no row for township(s) {', '.join(f'{names[c]} ({c})' for c in absent)}")
    if errors:
        more = " (first problems only)" if len(errors) >= max_errors else ""
        raise CapacityTableError(f"{source}: {len(errors)} problem(s){more}:\n  " + "\n  ".join(errors))
    out = pd.DataFrame.from_dict(rows, orient="index").reindex(codes)[list(NUMERIC_COLUMNS)]
    out.index.name = "code"
    out.insert(0, "name", [dict(zip(codes, townships["name"], strict=True))[c] for c in codes])
    return out


def _range_problem(col: str, v: float) -> str | None:
    if not np.isfinite(v):
        return f"{v} is not a finite number"
    if v < 0:
        return f"{v:g} is negative"
    if col == "population" and v <= 0:
        return "population must be positive"
    if col == "risk_assessment_done" and v not in (0.0, 1.0):
        return f"{v:g} must be 1 (yes) or 0 (no)"
    if col.endswith("_pct") and v > 100:
        return f"{v:g} is not a percentage (0-100)"
    return None


# -- indicators, normalisation, weights --------------------------------------------------------
def derive_indicators(table: pd.DataFrame) -> pd.DataFrame:
    """Second-level indicators (rates per person) from the counts of :func:`validate_capacity_table`.

    Examples
    --------
    >>> t = pd.DataFrame({c: [1.0] for c in NUMERIC_COLUMNS}).assign(population=1e4, mgmt_staff=12)
    >>> float(derive_indicators(t)["mgmt_staff_per_10k"].iloc[0])
    12.0
    """
    p = table["population"].astype("f8")
    out = pd.DataFrame(index=table.index)
    out["mgmt_staff_per_10k"] = table["mgmt_staff"] * 1e4 / p
    out["risk_assessment"] = table["risk_assessment_done"].astype("f8")
    out["funding_per_capita"] = table["funding_10k_yuan"] * 1e4 / p
    out["drills_per_year"] = table["plan_drills_per_year"].astype("f8")
    out["reserve_per_capita"] = table["reserve_value_10k_yuan"] * 1e4 / p
    out["hospital_beds_per_10k"] = table["hospital_beds"] * 1e4 / p
    out["rescue_force_per_10k"] = (table["firefighters"] + table["volunteers"] + table["militia"]) * 1e4 / p
    out["trained_share_pct"] = table["trained_people"] * 100.0 / p
    out["shelter_places_per_person"] = table["shelter_capacity"] / p
    out["warning_coverage_pct"] = table["warning_coverage_pct"].astype("f8")
    return out[list(INDICATOR_KEYS)]


def normalise(values: pd.DataFrame, method: str = "minmax") -> pd.DataFrame:
    """Scale each indicator column to 0-1 (all indicators are "more capacity is better").

    ``minmax``: ``(x - min) / (max - min)``; ``max``: ``x / max``. A column equal in every township
    cannot rank them: it scores 1 if its value is positive, else 0.

    Examples
    --------
    >>> normalise(pd.DataFrame({"a": [2.0, 4.0, 6.0]}))["a"].tolist()
    [0.0, 0.5, 1.0]
    """
    if method not in NORMALISATIONS:
        raise ValueError(f"capacity.normalization: {method!r} is not one of {', '.join(NORMALISATIONS)}")
    out = pd.DataFrame(index=values.index)
    for col in values.columns:
        x = values[col].astype("f8")
        lo, hi = float(x.min()), float(x.max())
        if hi - lo <= 1e-12 * max(1.0, abs(hi)):
            out[col] = 1.0 if hi > 0 else 0.0
        elif method == "minmax":
            out[col] = (x - lo) / (hi - lo)
        else:
            out[col] = x / hi
    return out


def parse_matrix(matrix, key: str) -> np.ndarray:
    """A pairwise-comparison matrix from config: numbers or fractions written as text (``"1/3"``)."""
    try:
        return np.array([[float(Fraction(str(v).strip())) if isinstance(v, str) else float(v) for v in row]
                         for row in matrix], dtype="f8")
    except (ValueError, ZeroDivisionError, TypeError) as exc:
        raise wt.InconsistentJudgementError(f"{key}: not a matrix of numbers or fractions like 1/3 ({exc})") \
            from exc


def ahp_hierarchy(ahp: Mapping[str, Sequence], cr_limit: float = wt.CR_LIMIT,
                  key: str = "capacity.ahp") -> tuple[pd.Series, dict[str, float]]:
    """Global AHP weights of the indicators from the two-level hierarchy, and every matrix's CR.

    Parameters
    ----------
    ahp : mapping
        ``groups``: 3 × 3 matrix comparing the groups in the order of :data:`GROUPS`; and for each
        group, a matrix comparing its indicators in the order of :func:`group_members`. Groups with
        one indicator need no matrix.

    Returns
    -------
    (pandas.Series, dict)
        Indicator weights (group weight × weight within the group; they sum to 1) and the
        consistency ratio of each matrix (``{"groups": cr, "management": cr, ...}``).

    Raises
    ------
    risk.weights.InconsistentJudgementError
        A matrix of the wrong size, not reciprocal, or with ``CR >= cr_limit``.
    """
    groups = list(GROUPS)
    if "groups" not in ahp:
        raise wt.InconsistentJudgementError(f"{key}.groups: missing; give a 3 × 3 matrix comparing "
                                            f"{', '.join(groups)}")
    top = wt.ahp_weights(_sized(ahp["groups"], len(groups), f"{key}.groups", groups), f"{key}.groups", cr_limit)
    crs = {"groups": top.cr}
    out = {}
    for g, wg in zip(groups, top.weights, strict=True):
        members = group_members(g)
        if len(members) == 1:
            local = np.ones(1)
            crs[g] = 0.0
        else:
            if g not in ahp:
                raise wt.InconsistentJudgementError(
                    f"{key}.{g}: missing; give a {len(members)} × {len(members)} matrix comparing "
                    f"{', '.join(members)}")
            r = wt.ahp_weights(_sized(ahp[g], len(members), f"{key}.{g}", members), f"{key}.{g}", cr_limit)
            local = r.weights
            crs[g] = r.cr
        for m, wl in zip(members, local, strict=True):
            out[m] = float(wg * wl)
    return pd.Series(out).reindex(list(INDICATOR_KEYS)), crs


def _sized(matrix, n: int, key: str, names) -> np.ndarray:
    a = parse_matrix(matrix, key)
    if a.shape != (n, n):
        raise wt.InconsistentJudgementError(f"{key}: expected a {n} × {n} matrix (rows and columns: "
                                            f"{', '.join(names)}), got shape {a.shape}")
    return a


def indicator_weights(normalised: pd.DataFrame, method: str = "combined", ahp: Mapping | None = None,
                      combination: str = "multiplicative", alpha: float = 0.5,
                      cr_limit: float = wt.CR_LIMIT) -> tuple[pd.DataFrame, dict[str, float]]:
    """Weights of the indicators: AHP, entropy, or both combined (see :mod:`risk.weights`).

    Returns
    -------
    (pandas.DataFrame, dict)
        One row per indicator with ``group``, ``name_zh``, ``name_en``, ``w_ahp``, ``w_entropy``,
        ``weight`` (the one used; sums to 1) and ``group_weight``; and the AHP consistency ratios
        (empty for ``entropy``).
    """
    if method not in WEIGHTINGS:
        raise ValueError(f"capacity.weighting: {method!r} is not one of {', '.join(WEIGHTINGS)}")
    keys = list(INDICATOR_KEYS)
    w_ent = pd.Series(wt.entropy_weights(normalised[keys].to_numpy()), index=keys) \
        if len(normalised) >= 2 else pd.Series(1.0 / len(keys), index=keys)
    crs: dict[str, float] = {}
    if method in ("ahp", "combined"):
        if ahp is None:
            raise ValueError(f"capacity.weighting {method!r} needs capacity.ahp matrices")
        w_ahp, crs = ahp_hierarchy(ahp, cr_limit)
    else:
        w_ahp = pd.Series(np.nan, index=keys)
    if method == "ahp":
        w = w_ahp
    elif method == "entropy":
        w = w_ent
    else:
        w = pd.Series(wt.combine_weights(w_ahp.to_numpy(), w_ent.to_numpy(), combination, alpha), index=keys)
    meta = {i.key: i for i in INDICATORS}
    table = pd.DataFrame({
        "indicator": keys,
        "group": [meta[k].group for k in keys],
        "group_zh": [GROUPS[meta[k].group][0] for k in keys],
        "name_zh": [meta[k].zh for k in keys],
        "name_en": [meta[k].en for k in keys],
        "unit": [meta[k].unit for k in keys],
        "formula": [meta[k].formula for k in keys],
        "w_ahp": w_ahp.to_numpy(),
        "w_entropy": w_ent.to_numpy(),
        "weight": (w / w.sum()).to_numpy(),
    })
    table["group_weight"] = table.groupby("group")["weight"].transform("sum")
    return table, crs


# -- aggregation and grades --------------------------------------------------------------------
def weighted_sum(normalised: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """``C = Σ w_j x_j`` over the indicators (0-1 when the weights sum to 1)."""
    w = weights.reindex(normalised.columns).astype("f8")
    return (normalised.astype("f8") * w).sum(axis=1) / w.sum()


def topsis(normalised: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """TOPSIS closeness ``D⁻ / (D⁺ + D⁻)`` of each township (0-1).

    Distances are Euclidean on the weighted normalised values ``v_ij = w_j x_ij`` to the ideal
    (column maxima) and anti-ideal (column minima) townships; a township equal to the ideal scores 1.
    """
    w = weights.reindex(normalised.columns).astype("f8") / weights.sum()
    v = normalised.astype("f8") * w
    d_plus = np.sqrt(((v - v.max()) ** 2).sum(axis=1))
    d_minus = np.sqrt(((v - v.min()) ** 2).sum(axis=1))
    tot = d_plus + d_minus
    return pd.Series(np.where(tot > 0, d_minus / tot.where(tot > 0, 1.0), 1.0), index=normalised.index)


def aggregate(normalised: pd.DataFrame, weights: pd.Series, method: str = "weighted_sum") -> pd.Series:
    """Capacity index 0-1 by ``weighted_sum`` or ``topsis``."""
    if method == "weighted_sum":
        return weighted_sum(normalised, weights)
    if method == "topsis":
        return topsis(normalised, weights)
    raise ValueError(f"capacity.aggregation: {method!r} is not one of {', '.join(AGGREGATIONS)}")


def grade_breaks(index, method: str = "std_mean", thresholds=None) -> np.ndarray:
    """Four increasing upper bounds of grades 弱, 较弱, 中等, 较强 (grade 强 lies above the last).

    ``std_mean`` (default): ``μ - 1.5σ, μ - 0.5σ, μ + 0.5σ, μ + 1.5σ`` over the townships (σ the
    population standard deviation); any other method of :func:`risk.assessment.zoning.class_breaks`
    (``natural_breaks``, ``quantiles``, ``equal_interval``, ``fixed`` with ``thresholds``).

    Examples
    --------
    >>> grade_breaks([0.2, 0.4, 0.6]).round(3).tolist()
    [0.155, 0.318, 0.482, 0.645]
    """
    x = np.asarray(index, dtype="f8")
    x = x[np.isfinite(x)]
    if method == "std_mean":
        if x.size == 0:
            raise InputError("capacity grades: no finite index value")
        mu = float(x.mean())
        sd = max(float(x.std()), 1e-9 * max(1.0, abs(mu)))  # all equal: every township is 中等
        return np.array([mu - 1.5 * sd, mu - 0.5 * sd, mu + 0.5 * sd, mu + 1.5 * sd])
    return zoning.class_breaks(x, method, k=5, thresholds=thresholds)


def grade(index: pd.Series, breaks) -> pd.Series:
    """Grades 1 (弱 Weak) … 5 (强 Strong); a value equal to a break takes the lower grade."""
    import xarray as xr

    g = zoning.classify(xr.DataArray(index.to_numpy(dtype="f8"), dims="township"), breaks)
    return pd.Series(g.to_numpy().astype("int64"), index=index.index)


# -- the whole index ---------------------------------------------------------------------------
def capacity_index(table: pd.DataFrame, *, normalization: str = "minmax", weighting: str = "combined",
                   ahp: Mapping | None = None, combination: str = "multiplicative", alpha: float = 0.5,
                   cr_limit: float = wt.CR_LIMIT, aggregation: str = "weighted_sum",
                   grading: str = "std_mean", thresholds=None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Capacity index and grade of every township.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`validate_capacity_table` (indexed by township code, with ``name``).
    normalization, weighting, ahp, combination, alpha, cr_limit, aggregation, grading, thresholds
        See :func:`normalise`, :func:`indicator_weights`, :func:`aggregate`, :func:`grade_breaks`.

    Returns
    -------
    (result, weights, info)
        ``result``: per township ``code``, ``name``, ``population``, the indicators, the normalised
        values (``n_<indicator>``), the weights (``w_<indicator>``, equal on every row), the group
        sub-indices (``management``, ``preparedness``, ``self_rescue``: weighted mean of the group's
        normalised indicators), ``capacity_index`` (0-1), ``grade`` (1-5), ``grade_zh``,
        ``grade_en`` and ``rank`` (1 = strongest). ``weights``: see :func:`indicator_weights`.
        ``info``: consistency ratios, grade breaks and the methods used.
    """
    ind = derive_indicators(table)
    norm = normalise(ind, normalization)
    wtab, crs = indicator_weights(norm, weighting, ahp, combination, alpha, cr_limit)
    w = pd.Series(wtab["weight"].to_numpy(), index=wtab["indicator"])
    idx = aggregate(norm, w, aggregation)
    breaks = grade_breaks(idx, grading, thresholds)
    g = grade(idx, breaks)
    res = pd.DataFrame({"code": table.index.astype(str), "name": table["name"].to_numpy(),
                        "population": table["population"].to_numpy()}, index=table.index)
    for k in INDICATOR_KEYS:
        res[k] = ind[k]
    for k in INDICATOR_KEYS:
        res[f"n_{k}"] = norm[k]
    for k in INDICATOR_KEYS:
        res[f"w_{k}"] = float(w[k])
    for grp in GROUPS:
        members = group_members(grp)
        res[grp] = weighted_sum(norm[members], w[members])
    res["capacity_index"] = idx
    res["grade"] = g
    res["grade_zh"] = [GRADE_LABELS[int(v)][0] for v in g]
    res["grade_en"] = [GRADE_LABELS[int(v)][1] for v in g]
    res["rank"] = idx.rank(ascending=False, method="min").astype("int64")
    info = {"weighting": weighting, "combination": combination if weighting == "combined" else None,
            "aggregation": aggregation, "normalization": normalization, "grading": grading,
            "grade_breaks": [float(b) for b in breaks], "consistency_ratio": crs}
    return res.reset_index(drop=True), wtab, info


def describe_weights(weights: pd.DataFrame, info: Mapping) -> pd.DataFrame:
    """The weights table as written: with each group's and the groups' consistency ratio, the method and
    the grade breaks (the same on every row).

    Parameters
    ----------
    weights, info
        The second and third results of :func:`capacity_index`.

    Examples
    --------
    >>> w = pd.DataFrame({"indicator": ["a", "b"], "group": ["management", "preparedness"]})
    >>> info = {"consistency_ratio": {"groups": 0.01, "management": 0.02}, "weighting": "ahp",
    ...         "combination": None, "aggregation": "weighted_sum", "normalization": "minmax",
    ...         "grade_breaks": [0.1, 0.2]}
    >>> d = describe_weights(w, info)
    >>> d[["group_cr", "groups_cr"]].values.tolist(), d["method"][0], d["grade_breaks"][0]
    ([[0.02, 0.01], [nan, 0.01]], 'ahp, weighted_sum, minmax', '0.100000;0.200000')
    """
    weights = weights.copy()
    for grp, cr in info["consistency_ratio"].items():
        weights.loc[weights["group"] == grp, "group_cr"] = cr
    weights["groups_cr"] = info["consistency_ratio"].get("groups")
    weights["method"] = (f"{info['weighting']}" + (f" ({info['combination']})" if info["combination"] else "")
                         + f", {info['aggregation']}, {info['normalization']}")
    weights["grade_breaks"] = ";".join(f"{b:.6f}" for b in info["grade_breaks"])
    return weights


def township_capacity(raw: pd.DataFrame, townships: gpd.GeoDataFrame, source: str = "capacity table",
                      **options) -> tuple[pd.DataFrame, pd.DataFrame, gpd.GeoDataFrame]:
    """Everything the ``capacity_index`` rule writes, from the table as read and the townships layer.

    Parameters
    ----------
    raw : pandas.DataFrame
        The capacity table, cells as text (see :func:`validate_capacity_table`).
    townships : geopandas.GeoDataFrame
        The townships with ``code``, ``name`` and their polygons.
    source : str
        The table's file name, for error messages.
    **options
        Keyword arguments of :func:`capacity_index` (``normalization``, ``weighting``, ``ahp``, ...).

    Returns
    -------
    (result, weights, layer)
        :func:`capacity_index`'s per-township result; the weights table of :func:`describe_weights`;
        the result on the township polygons (in the order of ``result``).
    """
    townships = townships.assign(code=townships["code"].astype(str))
    table = validate_capacity_table(raw, townships, source=source)
    result, weights, info = capacity_index(table, **options)
    logger.info("AHP consistency ratios: %s", {k: round(v, 4) for k, v in info["consistency_ratio"].items()})
    logger.info("grade breaks (%s): %s", info["grading"], [round(b, 4) for b in info["grade_breaks"]])
    for _, r in result.sort_values("rank").iterrows():
        logger.info("%2d %s %.3f %s", r["rank"], r["name"], r["capacity_index"], r["grade_zh"])
    layer = townships[["code", "geometry"]].merge(result, on="code", how="right").set_geometry("geometry")
    return result, describe_weights(weights, info), layer
