"""One table of every hazard model's validation, for the report and the notebooks."""

from __future__ import annotations

import pandas as pd


def validation_table(metrics: dict[str, dict]) -> pd.DataFrame:
    """One row per hazard from its ``metrics.json``: mode, model, spatial and random CV AUC, samples.

    An index hazard (no training labels) has no AUC; its row gives the weighting and the AHP consistency ratio.
    """
    rows = []
    for hazard, m in metrics.items():
        model = m.get("model") if isinstance(m.get("model"), dict) else {}
        folds = m.get("auc_spatial_cv_folds") or []
        rows.append({
            "hazard": hazard, "mode": m.get("mode", "model"),
            "model": model.get("name") or (m.get("weighting") or {}).get("method", "index"),
            "auc_spatial_cv": m.get("auc_spatial_cv"), "auc_random_cv": m.get("auc_random_cv"),
            "auc_spatial_min_fold": min(folds) if folds else None,
            "auc_spatial_max_fold": max(folds) if folds else None,
            "n_presence": m.get("n_presence"), "n_background": m.get("n_background"),
            "top_feature": (m.get("feature_ranking") or [None])[0],
            "consistency_ratio": m.get("consistency_ratio"),
        })
    return pd.DataFrame(rows)
