"""Cut a continuous index (0-1) into five risk zones, with the tags that record how.

Zones follow the outputs contract: 1 = 低 Low, 2 = 较低 Moderately low, 3 = 中 Medium,
4 = 较高 Moderately high, 5 = 高 High, 0 = nodata (outside the study area). Class breaks come
from mapclassify's algorithms (natural breaks are drawn on a systematic sample of cells: Fisher-Jenks is
quadratic in the number of values) or from fixed thresholds.
"""

from __future__ import annotations

import json
import logging

import dask.array as da
import numpy as np
import xarray as xr
from numba import njit

from risk.errors import InputError
from risk.grid import systematic_sample

logger = logging.getLogger(__name__)

METHODS = ("natural_breaks", "quantiles", "equal_interval", "std_mean", "fixed")

ZONE_LABELS = {
    1: ("低", "Low"),
    2: ("较低", "Moderately low"),
    3: ("中", "Medium"),
    4: ("较高", "Moderately high"),
    5: ("高", "High"),
}
ZONE_COLORS = {  # ColorBrewer RdYlGn, reversed: green = low, red = high
    1: (26, 150, 65, 255),
    2: (166, 217, 106, 255),
    3: (255, 255, 191, 255),
    4: (253, 174, 97, 255),
    5: (215, 25, 28, 255),
}
FOUR_LABELS = {1: ("低", "Low"), 2: ("中", "Medium"), 3: ("高", "High"), 4: ("极高", "Very high")}
FOUR_COLORS = {1: (26, 150, 65, 255), 2: (255, 255, 191, 255), 3: (253, 174, 97, 255), 4: (215, 25, 28, 255)}


def level_scheme(levels: int = 5) -> tuple[dict, dict]:
    """Labels and colours of a zoning with ``levels`` classes: five 低…高 (default) or four 低/中/高/极高.

    Examples
    --------
    >>> level_scheme(4)[0][4]
    ('极高', 'Very high')
    """
    if levels == 5:
        return ZONE_LABELS, ZONE_COLORS
    if levels == 4:
        return FOUR_LABELS, FOUR_COLORS
    raise ValueError(f"hazard_zoning.levels: {levels!r} is not 4 or 5")


# mapclassify's Fisher-Jenks kernel (mapclassify 2.10 ``classifiers._fisher_jenks_means``, BSD-3-Clause,
# (c) PySAL developers), copied operation for operation so that the breaks are the same bits. Why not call it:
# mapclassify compiles it eagerly at import with an explicit signature and no cache, 3-9 s in every process
# that imports mapclassify (zoning, shelters, class_stability); here it is compiled once and cached.
@njit(cache=True, nogil=True)
def _fisher_jenks_means(values, classes):
    n_data = len(values)
    mat1 = np.zeros((n_data + 1, classes + 1), dtype=np.int32)
    mat2 = np.zeros((n_data + 1, classes + 1), dtype=np.float32)
    mat1[1, 1:] = 1
    mat2[2:, 1:] = np.inf
    v = np.float32(0)
    for _l in range(2, len(values) + 1):
        s1 = np.float32(0)
        s2 = np.float32(0)
        w = np.float32(0)
        for m in range(1, _l + 1):
            i3 = _l - m + 1
            val = np.float32(values[i3 - 1])
            s2 += val * val
            s1 += val
            w += np.float32(1)
            v = s2 - (s1 * s1) / w
            i4 = i3 - 1
            if i4 != 0:
                for j in range(2, classes + 1):
                    if mat2[_l, j] >= (v + mat2[i4, j - 1]):
                        mat1[_l, j] = i3
                        mat2[_l, j] = v + mat2[i4, j - 1]
        mat1[_l, 1] = 1
        mat2[_l, 1] = v
    k = len(values)
    kclass = np.zeros(classes + 1, dtype=values.dtype)
    kclass[classes] = values[len(values) - 1]
    kclass[0] = values[0]
    for count_num in range(classes, 1, -1):
        pivot = mat1[k, count_num]
        _id = int(pivot - 2)
        kclass[count_num - 1] = values[_id]
        k = int(pivot - 1)
    return kclass[1:].copy()


def fisher_jenks(values: np.ndarray, k: int = 5) -> np.ndarray:
    """Fisher-Jenks natural breaks: the ``k`` upper bounds of ``mapclassify.FisherJenks(values, k).bins``.

    Examples
    --------
    >>> fisher_jenks(np.array([1.0, 2, 3, 10, 11, 12, 50, 51, 90, 91]), k=4).tolist()
    [3.0, 12.0, 51.0, 91.0]
    """
    return _fisher_jenks_means(np.sort(np.asarray(values, dtype="f8").ravel()), int(k))


def class_breaks(values: np.ndarray, method: str = "natural_breaks", k: int = 5,
                 thresholds=None) -> np.ndarray:
    """Upper bounds of zones 1..k-1 (``k - 1`` increasing numbers).

    Parameters
    ----------
    values : numpy.ndarray
        Finite sample of the index.
    method : str
        One of ``natural_breaks``, ``quantiles``, ``equal_interval``, ``std_mean``
        (mean ± 0.5 and 1.5 standard deviations), ``fixed``.
    thresholds : sequence of float, optional
        The ``k - 1`` upper bounds for ``fixed``.

    Examples
    --------
    >>> class_breaks(np.arange(100.0), "quantiles").round(1).tolist()
    [19.8, 39.6, 59.4, 79.2]
    """
    if method not in METHODS:
        raise ValueError(f"zoning.method: {method!r} is not one of {', '.join(METHODS)}")
    if method == "fixed":
        b = np.asarray(thresholds, dtype="f8")
        if b.shape != (k - 1,) or np.any(np.diff(b) <= 0):
            raise ValueError(f"zoning.thresholds: expected {k - 1} increasing numbers, got {thresholds!r}")
        return b
    values = np.asarray(values, dtype="f8")
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise InputError("cannot draw class breaks: the index has no finite value")
    if np.unique(values).size < k:
        # Degenerate input (constant index): fall back to evenly spaced bounds over [min, max + eps].
        lo, hi = float(values.min()), float(values.max())
        return np.linspace(lo, hi + 1e-9, k + 1)[1:-1]
    if method == "natural_breaks":
        bins = fisher_jenks(values, k)
    else:
        import mapclassify  # only for the other methods: importing it costs seconds (see above)

        if method == "quantiles":
            bins = mapclassify.Quantiles(values, k=k).bins
        elif method == "equal_interval":
            bins = mapclassify.EqualInterval(values, k=k).bins
        else:
            bins = mapclassify.StdMean(values, multiples=[-1.5, -0.5, 0.5, 1.5]).bins
    b = np.asarray(bins[:-1], dtype="f8")
    if b.size != k - 1:  # StdMean may collapse classes on skewed data
        b = np.interp(np.linspace(0, 1, k + 1)[1:-1], np.linspace(0, 1, b.size + 2), np.r_[values.min(), b,
                      values.max()])
    return np.maximum.accumulate(b)


def classify(arr: xr.DataArray, breaks) -> xr.DataArray:
    """Zone numbers (uint8, 1..len(breaks)+1) of each cell; 0 where the index is NaN.

    A value equal to a break falls in the lower zone (breaks are inclusive upper bounds).
    Works on numpy- and Dask-backed arrays alike.
    """
    b = np.asarray(breaks, dtype="f8")

    def _zone(x):
        # Compare in the data's precision: a float32 0.4 must equal a 0.4 break.
        bb = b.astype(x.dtype) if x.dtype.kind == "f" else b
        z = np.searchsorted(bb, x, side="left").astype("uint8") + 1
        return np.where(np.isfinite(x), z, 0).astype("uint8")

    data = arr.data
    out = data.map_blocks(_zone, dtype="uint8") if isinstance(data, da.Array) else _zone(np.asarray(data))
    res = arr.copy(data=out)
    res.attrs = {**arr.attrs, "breaks": b.tolist()}
    return res


def draw_breaks(sample: np.ndarray, method: str, k: int = 5, thresholds=None, exposed_only: bool = False,
                log_breaks: bool = False) -> np.ndarray:
    """:func:`class_breaks` of a sample, on its values above 0 only (``exposed_only``) and on their log10
    (``log_breaks``: for a quantity spanning orders of magnitude, such as expected harm; the breaks are returned
    in the data's units). Shared by the zoning and its class-stability draws.

    Examples
    --------
    >>> draw_breaks(np.array([0, 0, 0, 1, 10, 100, 1000, 10000.0]), "equal_interval", exposed_only=True,
    ...             log_breaks=True).round(1).tolist()
    [6.3, 39.8, 251.2, 1584.9]
    """
    sample = np.asarray(sample, dtype="f8")
    sample = sample[np.isfinite(sample)]
    if (exposed_only or log_breaks) and (sample > 0).any():
        sample = sample[sample > 0]
    if log_breaks and method != "fixed" and sample.size and (sample > 0).all():
        return 10.0 ** class_breaks(np.log10(sample), method, k=k, thresholds=thresholds)
    return class_breaks(sample, method, k=k, thresholds=thresholds)


def zone(index: xr.DataArray, method: str = "natural_breaks", sample_size: int = 200_000, thresholds=None,
         name: str = "", k: int = 5, exposed_only: bool = False,
         log_breaks: bool = False) -> tuple[xr.DataArray, np.ndarray]:
    """Five zones of an index raster: breaks drawn on a systematic sample, then every cell classified.

    Parameters
    ----------
    index : xarray.DataArray
        The continuous index (0-1, NaN outside the study area), numpy- or Dask-backed.
    method, thresholds
        As in :func:`class_breaks`.
    sample_size : int
        About how many cells the breaks are drawn on (:func:`risk.grid.systematic_sample`).
    name : str
        What is zoned, for the log.
    k : int
        Number of zones (5, or 4 for a four-level hazard zoning).
    exposed_only : bool
        Draw the breaks on the cells with a value above 0 only (risk: cells where nothing is exposed
        have risk 0 and fall in zone 1 without driving the breaks).
    log_breaks : bool
        Draw them on the log10 of those values (:func:`draw_breaks`).

    Returns
    -------
    zones, breaks
        :func:`classify`'s zones (uint8 1-k, 0 nodata) and the ``k - 1`` breaks.
    """
    sample = systematic_sample(index, sample_size)
    breaks = draw_breaks(sample, method, k, thresholds, exposed_only, log_breaks)
    logger.info("%s: %s breaks %s from %d sampled cells", name, method, breaks.round(4).tolist(), sample.size)
    return classify(index, breaks), breaks


def zone_many(indexes: dict[str, xr.DataArray], method: str = "natural_breaks", sample_size: int = 200_000,
              thresholds=None, settings: dict[str, dict] | None = None) -> dict[str, tuple[xr.DataArray, np.ndarray]]:
    """:func:`zone` of several index rasters, their breaks drawn in parallel.

    Fisher-Jenks is quadratic in the sample and single-threaded (seconds per raster at 200,000 cells); the
    rasters' breaks run as tasks of the current Dask scheduler (its threads: the kernel releases the GIL).
    Same zones and breaks as :func:`zone` on each. ``settings[name]`` overrides, for one raster, the keyword
    arguments of :func:`draw_breaks` (``method``, ``k``, ``thresholds``, ``exposed_only``, ``log_breaks``).
    """
    import dask

    names = list(indexes)
    kw = {n: {"method": method, "thresholds": thresholds, **(settings or {}).get(n, {})} for n in names}
    samples = [systematic_sample(indexes[n], sample_size) for n in names]
    breaks = dask.compute(*[dask.delayed(draw_breaks)(s, **kw[n]) for n, s in zip(names, samples, strict=True)])
    out = {}
    for n, sample, b in zip(names, samples, breaks, strict=True):
        logger.info("%s: %s breaks %s from %d sampled cells", n, kw[n]["method"], b.round(4).tolist(), sample.size)
        out[n] = (classify(indexes[n], b), b)
    return out


def zoning_tags(hazard: str, method: str, breaks, source: str = "", labels=None,
                exposed_only: bool = False, log_breaks: bool = False) -> dict[str, str]:
    """GeoTIFF metadata recording the method and the breaks (and the labels) of a zoning raster."""
    tags = {
        "HAZARD": hazard,
        "ZONING_METHOD": method,
        "ZONING_BREAKS": json.dumps([float(x) for x in breaks]),  # full precision: the exact edges used
        "ZONING_RULE": "zone k holds values in (break[k-1], break[k]]; zone 1 <= break[0]; 0 = nodata",
        "SOURCE_INDEX": source,
        "BREAKS_FROM": breaks_from(exposed_only, log_breaks),
    }
    for k, (zh, en) in (labels or ZONE_LABELS).items():
        tags[f"CLASS_{k}"] = f"{zh} {en}"
    return tags


def band_description(hazard: str) -> str:
    """Bilingual band description of a zoning raster."""
    from risk import HAZARD_LABELS

    zh, en = HAZARD_LABELS.get(hazard, (hazard, hazard))
    return f"{zh}风险区划 {en} risk zone (1 低 Low … 5 高 High, 0 nodata)"


def breaks_from(exposed_only: bool, log_breaks: bool) -> str:
    """The ``BREAKS_FROM`` tag: which cells, on which scale, the breaks were drawn on (read back by
    :func:`breaks_settings`)."""
    text = "cells with a value above 0 (something exposed)" if exposed_only or log_breaks else "all cells"
    return text + ", log10 of the values" if log_breaks else text


def breaks_settings(tags) -> tuple[bool, bool]:
    """``(exposed_only, log_breaks)`` of a zoning raster from its ``BREAKS_FROM`` tag.

    Examples
    --------
    >>> breaks_settings({"BREAKS_FROM": breaks_from(True, True)}), breaks_settings({})
    ((True, True), (False, False))
    """
    text = str(tags.get("BREAKS_FROM", ""))
    return text.startswith("cells with a value above 0"), "log10" in text


MATRIX_THRESHOLDS = (1.5, 2.5, 3.5, 4.5)
"""Fixed breaks that zone risk-matrix levels 1-5 as they are (level 0, nothing exposed, falls in zone 1)."""


def risk_zoning_method(risk_tags: dict, method: str, thresholds,
                       log_breaks: bool = False) -> tuple[str, object, bool]:
    """Zoning method, thresholds and log-scale breaks of a risk raster: a risk-matrix raster is zoned by its own
    levels; expected harm (spanning orders of magnitude) on log10 when ``log_breaks`` (``zoning.log_breaks``).

    Examples
    --------
    >>> risk_zoning_method({"RISK_METHOD": "matrix"}, "natural_breaks", None)
    ('fixed', [1.5, 2.5, 3.5, 4.5], False)
    >>> risk_zoning_method({"RISK_METHOD": "expected_harm"}, "quantiles", None, log_breaks=True)
    ('quantiles', None, True)
    """
    if risk_tags.get("RISK_METHOD") == "matrix":
        return "fixed", list(MATRIX_THRESHOLDS), False
    return method, thresholds, bool(log_breaks and risk_tags.get("RISK_METHOD") == "expected_harm")


def risk_zoning_settings(risk_tags: dict[str, dict], method: str, thresholds, log_breaks: bool = False,
                         exposed_only: bool = False) -> dict[str, dict]:
    """:func:`draw_breaks` settings of each risk raster (keyed like ``risk_tags``), for :func:`zone_many`.

    Examples
    --------
    >>> risk_zoning_settings({"a": {"RISK_METHOD": "matrix"}}, "natural_breaks", None)["a"]["method"]
    'fixed'
    """
    out = {}
    for name, tags in risk_tags.items():
        m, t, lb = risk_zoning_method(tags, method, thresholds, log_breaks)
        out[name] = {"method": m, "thresholds": t, "exposed_only": exposed_only, "log_breaks": lb}
    return out


def map_title(area_name: str, hazard: str) -> str:
    """Bilingual title of a zoning map.

    Examples
    --------
    >>> map_title("A", "unknown")
    'A unknown风险区划 unknown risk zones'
    """
    from risk import HAZARD_LABELS

    zh, en = HAZARD_LABELS.get(hazard, (hazard, hazard))
    return f"{area_name} {zh}风险区划 {en} risk zones"
