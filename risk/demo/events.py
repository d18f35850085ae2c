"""Known ("truth") hazard probability surfaces and the events drawn from them.

Each surface is a logistic model of standardised covariates that the pipeline can compute itself
from the delivered inputs (the DEM, the land cover, the river/road/settlement layers and the rain
raster), so a good susceptibility model can recover the planted relations:

    p = 1 / (1 + exp(-(b0 + sum_i b_i * (x_i - mean_i) / sd_i)))

with means and standard deviations over the AOI's cells and ``b0`` solved so that ``sum(p)``
over the AOI equals the number of events drawn: ``p`` is the probability that a cell holds an
event of the record. Events are then drawn as that many distinct cells with probability ∝ p
(a conditioned inhomogeneous Poisson process) and placed uniformly inside their cell.

Covariates (``res`` = cell size, windows are ``(2k+1)^2`` cells):

- ``slope``: degrees, ``atan(|grad z|)`` with ``numpy.gradient`` (central differences).
- ``southness``: ``-cos(aspect)``: ``dz/dnorth / |grad z|`` (+1 facing south, 0 on flats).
- ``relief``: max - min elevation in a window with ``k = round(250 m / res)`` (at least 1).
- ``tpi``: elevation minus the window mean, ``k = round(500 m / res)`` (negative = low-lying).
- ``built_share``: share of built-up (code 4) cells in a window with ``k = round(300 m / res)``.
- ``prox_river``, ``prox_road``, ``prox_settlement``: ``exp(-d / L)`` with ``d`` the Euclidean
  distance from the cell centre to the nearest cell touched by a river line / a road line / holding
  a settlement point (``L`` = 500 m, 300 m, 1,000 m).
- ``rain``: ``rain_max24h.tif`` warped bilinearly onto the grid.
- ``fuel``: a coefficient per land-cover class (wildfire); water cells get ``-8`` for every hazard.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from risk.demo.common import aoi_cells, focal_mean, focal_range, weighted_sample, window_cells
from risk.demo.landcover import BUILT_UP, LANDCOVER_KEYS, WATER

MODELS = {
    "geological": {
        "label": "landslide / collapse / debris flow (地质灾害)",
        "coef": {"slope": 0.8, "relief": 0.4, "prox_river": 0.4, "prox_road": 0.4, "rain": 0.3},
    },
    "wildfire": {
        "label": "forest and grassland fire (森林草原火灾)",
        "coef": {"prox_road": 0.5, "prox_settlement": 0.5, "slope": 0.3, "southness": 0.5},
        "fuel": {"forest": 1.2, "grassland": 1.0, "cropland": -0.6, "built_up": -2.0, "water": -8.0},
    },
    "waterlogging": {
        "label": "rainstorm waterlogging (暴雨内涝)",
        "coef": {"tpi": -0.8, "built_share": 0.6, "rain": 0.4, "slope": -0.6},
    },
}
"""Coefficients of the standardised covariates per hazard."""

PROXIMITY_SCALE_M = {"prox_river": 500.0, "prox_road": 300.0, "prox_settlement": 1000.0}
WINDOW_M = {"relief": 250.0, "tpi": 500.0, "built_share": 300.0}
WATER_PENALTY = -8.0


def covariates(res: float, dem, slope, south, lc, d_river, d_road, d_settlement, rain) -> dict:
    """All covariates as float32 arrays (see module docstring)."""
    return {name: covariate(name, res, dict(dem=dem, slope=slope, south=south, lc=lc, d_river=d_river,
                                            d_road=d_road, d_settlement=d_settlement, rain=rain))
            for name in COVARIATES}


COVARIATES = ("slope", "southness", "relief", "tpi", "built_share", "prox_river", "prox_road", "prox_settlement",
              "rain")
"""The covariates, in the order of :func:`covariates`."""


def covariate(name: str, res: float, layers) -> np.ndarray:
    """One covariate (float32) from ``layers`` (a mapping of the inputs of :func:`covariates` by
    argument name; only those this covariate needs are read), so that they can be made one at a time."""
    if name in ("slope", "rain"):
        return layers[name]
    if name == "southness":
        return layers["south"]
    if name == "relief":
        return focal_range(layers["dem"], window_cells(res, WINDOW_M["relief"]))
    if name == "tpi":
        dem = layers["dem"]
        return (dem - focal_mean(dem, window_cells(res, WINDOW_M["tpi"]))).astype("f4")
    if name == "built_share":
        return focal_mean((layers["lc"] == BUILT_UP).astype("f4"), window_cells(res, WINDOW_M["built_share"]))
    source = {"prox_river": "d_river", "prox_road": "d_road", "prox_settlement": "d_settlement"}[name]
    return np.exp(-layers[source] / PROXIMITY_SCALE_M[name]).astype("f4")


def _solve_intercept(eta: np.ndarray, n_events: int) -> float:
    """b0 with sum(expit(b0 + eta)) == n_events (Newton on a strided subsample)."""
    k = max(1, len(eta) // 400_000)
    sub = eta[::k].astype("f8")
    target = n_events * len(sub) / len(eta)
    m = sub.max()
    b = float(np.log(target) - m - np.log(np.exp(sub - m).sum()))
    for _ in range(30):
        p = expit(b + sub)
        f = p.sum() - target
        fp = (p * (1 - p)).sum()
        if fp <= 0:
            break
        step = f / fp
        b -= float(np.clip(step, -5, 5))
        if abs(step) < 1e-7:
            break
    return b


def truth_surface(hazard: str, cov: dict, lc: np.ndarray, aoi: np.ndarray, n_events: int):
    """The truth probability raster (float32, NaN outside the AOI) and the model actually used."""
    spec = MODELS[hazard]
    eta = np.zeros(int(aoi.sum()), dtype="f8")
    stats = {}
    for name, b in spec["coef"].items():  # ``cov`` may read each covariate from disk when asked
        v = cov[name][aoi].astype("f8")
        mu, sd = float(v.mean()), float(v.std())
        sd = sd if sd > 1e-9 else 1.0
        stats[name] = {"coef": b, "mean": mu, "sd": sd}
        eta += b * (v - mu) / sd
    lcv = lc[aoi]
    if "fuel" in spec:
        table = np.zeros(256)
        for code, key in LANDCOVER_KEYS.items():
            table[code] = spec["fuel"][key]
        eta += table[lcv]
    eta[lcv == WATER] += WATER_PENALTY if "fuel" not in spec else 0.0
    b0 = _solve_intercept(eta, n_events)
    step = 1 << 22  # cells a chunk: the float64 temporaries stay small
    for i0 in range(0, len(eta), step):
        eta[i0:i0 + step] = expit(b0 + eta[i0:i0 + step])
    p = np.full(aoi.shape, np.nan, dtype="f4")
    p[aoi] = eta.astype("f4")
    del eta
    return p, {"intercept": b0, "covariates": stats, "fuel": spec.get("fuel"), "sum_p": float(np.nansum(p))}


def draw_events(rng: np.random.Generator, p: np.ndarray, aoi: np.ndarray, n: int, grid, aoi_geom):
    """``n`` distinct cells with probability ∝ p, a uniform point inside each (inside the AOI)."""
    import shapely

    flat = aoi_cells(aoi)
    pick = flat[weighted_sample(rng, p.ravel()[flat], n)].astype(np.int64)
    rows, cols = np.divmod(pick, grid.width)
    x = grid.xmin + (cols + rng.uniform(0.02, 0.98, len(pick))) * grid.res
    y = grid.ymax - (rows + rng.uniform(0.02, 0.98, len(pick))) * grid.res
    out = ~shapely.contains_xy(aoi_geom, x, y)
    x[out] = grid.xmin + (cols[out] + 0.5) * grid.res
    y[out] = grid.ymax - (rows[out] + 0.5) * grid.res
    return x, y, rows, cols


def truth_readme(models_used: dict, counts: dict, res: float) -> str:
    """The text of ``truth/README.md``."""
    lines = [
        "# Truth surfaces of the synthetic demo (the pipeline never reads this folder)",
        "",
        "`<hazard>.tif`: float32 on the analysis grid, NaN outside the AOI: the probability that a cell holds an "
        "event of the record,",
        "",
        "    p = 1 / (1 + exp(-(b0 + sum_i b_i * (x_i - mean_i) / sd_i) [+ fuel[land cover]] [- 8 on water]))",
        "",
        "with `b0` solved so that the sum of `p` over the AOI equals the number of events drawn. Events are that "
        "many distinct cells drawn with probability proportional to `p`, placed uniformly inside the cell. "
        "Geological and wildfire events are `events/*.gpkg`; the waterlogging events are the accepted rows of "
        "`survey/内涝点.csv`.",
        "",
        "## Covariates (all computable from the delivered inputs)",
        "",
        f"Cell size {res:g} m; windows are (2k+1)x(2k+1) cells.",
        "",
        "| covariate | definition |",
        "| --- | --- |",
        "| slope | degrees, atan(abs(grad z)) of `dem.tif` with numpy.gradient (central differences) |",
        "| southness | -cos(aspect) = (dz/dnorth) / abs(grad z); +1 facing south, 0 on flats |",
        f"| relief | max - min of `dem.tif` in a window, k = max(1, round(250 m / res)) = "
        f"{max(1, round(250 / res))} |",
        f"| tpi | `dem.tif` minus its window mean, k = max(1, round(500 m / res)) = {max(1, round(500 / res))}; "
        "negative = low-lying |",
        f"| built_share | share of land-cover code 4 (built-up) in a window, k = max(1, round(300 m / res)) = "
        f"{max(1, round(300 / res))} |",
        "| prox_river | exp(-d / 500 m), d = distance from the cell centre to the nearest cell touched by a "
        "`rivers.gpkg` line |",
        "| prox_road | exp(-d / 300 m), d to the nearest cell touched by a `roads.gpkg` line (cut slopes, "
        "ignition) |",
        "| prox_settlement | exp(-d / 1000 m), d to the nearest cell holding a `settlements.gpkg` point |",
        "| rain | `rain_max24h.tif` (mm) warped bilinearly onto the grid |",
        "| fuel | wildfire only: an additive term per land-cover class |",
        "",
        "Water cells (land-cover code 5) get -8 for geological and waterlogging (and fuel -8 for wildfire).",
        "",
        "## Models (coefficients per standardised covariate; means and SDs over the AOI)",
        "",
    ]
    for hazard, used in models_used.items():
        lines += [f"### {hazard}: {MODELS[hazard]['label']}", "",
                  f"- events drawn: {counts[hazard]}; intercept b0 = {used['intercept']:.4f}; "
                  f"sum of p over the AOI = {used['sum_p']:.1f}", "",
                  "| covariate | coefficient | mean | sd |", "| --- | --- | --- | --- |"]
        for name, st in used["covariates"].items():
            lines.append(f"| {name} | {st['coef']:+.2f} | {st['mean']:.6g} | {st['sd']:.6g} |")
        if used.get("fuel"):
            lines += ["", "fuel by land cover: " + ", ".join(f"{k} {v:+.1f}" for k, v in used["fuel"].items())]
        lines.append("")
    lines += ["Planted directions: geological rises with slope, relief, nearness to rivers and roads and rain; "
              "wildfire with forest/grass fuel, nearness to roads and settlements, slope and south-facing aspect; "
              "waterlogging with low-lying position (negative TPI), built-up share and rain, and falls with slope.",
              ""]
    return "\n".join(lines)
