"""Hazard zoning: level schemes (five, or four 低/中/高/极高), tags and styles."""

import numpy as np
import pytest

from risk.assessment import hazard_zoning, zoning
from risk.io.styles import zoning_qml


def test_four_level_geological_zoning(small_grid):
    rng = np.random.default_rng(0)
    idx = small_grid.like(rng.random(small_grid.shape).astype("f4"))
    cfg = {"method": "quantiles", "sample_size": 5000, "levels": {"geological": 4}}
    z = hazard_zoning.zone_hazard(idx, "geological", cfg, "geological.tif")
    assert set(np.unique(z["zones"].values)) == {1, 2, 3, 4}
    assert len(z["breaks"]) == 3
    assert z["tags"]["CLASS_4"] == "极高 Very high" and z["tags"]["LEVELS"] == "4"
    assert "极高" in zoning_qml("t", z["labels"], z["colors"]) and 'value="5"' not in zoning_qml(
        "t", z["labels"], z["colors"])
    w = hazard_zoning.zone_hazard(idx, "wind", cfg)
    assert set(np.unique(w["zones"].values)) == {1, 2, 3, 4, 5} and w["tags"]["CLASS_5"] == "高 High"
    with pytest.raises(ValueError, match="levels"):
        zoning.level_scheme(3)


def test_risk_zoning_breaks_ignore_unexposed_cells(small_grid):
    a = np.zeros(small_grid.shape, dtype="f4")
    a[:10] = np.linspace(1, 100, 10 * small_grid.width).reshape(10, -1)
    _, all_cells = zoning.zone(small_grid.like(a), "quantiles", 5000)
    z, exposed = zoning.zone(small_grid.like(a), "quantiles", 5000, exposed_only=True)
    assert all_cells[0] == 0 and exposed[0] > 1  # the zeros no longer decide the breaks
    assert (z.values[10:] == 1).all() and (z.values[:10] == 5).sum() > 0
    assert zoning.risk_zoning_method({"RISK_METHOD": "matrix"}, "natural_breaks", None)[0] == "fixed"
