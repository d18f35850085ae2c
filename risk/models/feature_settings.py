"""A hazard's configured features and weight settings, checked when the workflow is parsed.

Light on purpose (no xarray or Dask): Snakemake imports it in its own process;
:mod:`risk.models.index_model` re-exports both functions.
"""

from __future__ import annotations

from collections.abc import Mapping

from risk import weights as W
from risk.hazard.layer_names import INDICATORS


def feature_spec(hazard: str, feature: str, directions: Mapping[str, str] | None = None) -> dict:
    """Where a configured feature lives and how it normalises.

    ``feature`` is an indicator name of ``hazard`` (``indicators/<hazard>/<name>.tif``) or a path
    under ``indicators/`` without ``.tif`` (``terrain/twi``). Direction, bounds and transform come
    from :data:`risk.hazard.layer_names.INDICATORS`; ``directions`` (``{feature: more|less}``) overrides or
    supplies the direction (default ``more``).
    """
    folder, name = feature.split("/", 1) if "/" in feature else (hazard, feature)
    spec = {"key": f"{folder}/{name}", "direction": "more", "bounds": None, "transform": "none"}
    for ind in INDICATORS.get(folder, ()):
        if ind.name == name:
            spec.update(direction=ind.direction, bounds=ind.bounds, transform=ind.transform)
            break
    if directions and feature in directions:
        d = directions[feature]
        if d not in ("more", "less"):
            raise ValueError(f"hazards.{hazard}.directions.{feature}: {d!r} is not more or less")
        spec["direction"] = d
    return spec


def check_weight_settings(hazard: str, settings: Mapping, n_features: int) -> None:
    """Fail early (when the workflow is parsed) on an AHP matrix that is inconsistent or of the wrong size.

    Raises
    ------
    risk.weights.InconsistentJudgementError, ValueError
        Naming ``hazards.<hazard>.ahp_matrix`` (or ``fixed_weights``).
    """
    key = f"hazards.{hazard}"
    method = settings.get("weights", "entropy")
    if method in ("ahp", "ahp_entropy") or settings.get("ahp_matrix") is not None:
        if settings.get("ahp_matrix") is None:
            if settings.get("mode") == "index":
                raise ValueError(f"{key}.ahp_matrix: required for weights {method!r}")
            return
        r = W.ahp_weights(settings["ahp_matrix"], key=f"{key}.ahp_matrix")
        if len(r.weights) != n_features:
            raise ValueError(f"{key}.ahp_matrix: is {len(r.weights)}×{len(r.weights)} but the hazard has "
                             f"{n_features} features")
    if method == "fixed" and not settings.get("fixed_weights"):
        raise ValueError(f"{key}.fixed_weights: required for weights 'fixed'")
