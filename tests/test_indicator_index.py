"""The indicator_index rule's indices: bounds chosen as documented, weights applied, a faithful record."""

import json

import numpy as np
import pytest

from risk import HAZARDS
from risk.grid import Grid
from risk.hazard import indicator_index
from risk.hazard.indicators import INDICATORS
from risk.hazard.normalize import normalize, quantile_bounds

Q = (0.05, 0.95)


@pytest.fixture
def grid():
    return Grid.from_bounds((499_980, 4_500_000, 500_580, 4_500_450), "EPSG:4549", 30, chunk=8)  # 15 x 20


@pytest.fixture
def rasters(grid):
    rng = np.random.default_rng(11)
    names = sorted({i.name for inds in INDICATORS.values() for i in inds})
    return {n: grid.like((rng.random(grid.shape) * (k + 1)).astype("f4"), name=n) for k, n in enumerate(names)}


def _weights():
    return {h: {i.name: 1.0 + k for k, i in enumerate(INDICATORS[h])} for h in HAZARDS}


def test_bounds_weights_and_record(grid, rasters):
    recorded = {"wind50": (0.5, 2.0), "roughness": (0.0, 1.0), "built_up_share": (0.2, 0.3)}
    multi = {"method": "weighted_mean", "weights": {h: 1 for h in HAZARDS}}
    layers, tags, descriptions, record = indicator_index.build(rasters, recorded, _weights(), multi, Q, 50)
    assert list(layers) == list(tags) == list(descriptions) == [*INDICATORS, "multi_hazard"]
    wind = record["hazards"]["wind"]
    assert (wind["wind50"]["lo"], wind["wind50"]["hi"]) == (0.5, 2.0)  # recorded in the file
    lo, hi = quantile_bounds(rasters["roughness"], Q, 50, "log1p")  # transformed: sampled again
    assert (wind["roughness"]["lo"], wind["roughness"]["hi"]) == (lo, hi)
    lo, hi = quantile_bounds(rasters["terrain_exposure"], Q, 50)  # not recorded: sampled
    assert (wind["terrain_exposure"]["lo"], wind["terrain_exposure"]["hi"]) == (lo, hi)
    share = record["hazards"]["waterlogging"]["built_up_share"]
    assert (share["lo"], share["hi"]) == (0.0, 1.0)  # fixed bounds win
    assert wind["roughness"] == {"weight": 3.0, "direction": "less", "transform": "log1p",
                                 "lo": wind["roughness"]["lo"], "hi": wind["roughness"]["hi"]}
    normed = [normalize(rasters[i.name], i.direction, bounds=(wind[i.name]["lo"], wind[i.name]["hi"]),
                        transform=i.transform).values for i in INDICATORS["wind"]]
    expected = (normed[0] * 1 + normed[1] * 2 + normed[2] * 3) / 6
    np.testing.assert_allclose(layers["wind"].values, expected, rtol=1e-6)
    np.testing.assert_allclose(layers["multi_hazard"].values,
                               np.mean([layers[h].values.astype("f8") for h in HAZARDS], axis=0), rtol=1e-6)
    assert json.loads(tags["wind"]["INDEX"]) == wind and tags["wind"]["HAZARD"] == "wind"
    assert json.loads(tags["multi_hazard"]["INDEX"]) == record["multi_hazard"] == multi
    assert descriptions["multi_hazard"] == "multi_hazard hazard index (0-1, configurable weights)"
    assert record["normalisation"].endswith("quantiles [0.05, 0.95] of a systematic sample unless fixed")


def test_zero_weights_skip_an_indicator_and_bad_names_are_reported(grid, rasters):
    weights = _weights()
    weights["earthquake"]["vs30"] = 0
    multi = {"method": "max", "weights": {h: 1 for h in HAZARDS}}
    layers, _, _, record = indicator_index.build(rasters, {}, weights, multi, Q, 50)
    assert "vs30" not in record["hazards"]["earthquake"] and "pga" in record["hazards"]["earthquake"]
    np.testing.assert_allclose(layers["multi_hazard"].values, np.max([layers[h].values for h in HAZARDS], axis=0))
    weights["wind"]["slope"] = 1
    with pytest.raises(ValueError, match="indicator_index.weights.wind: no layer named slope"):
        indicator_index.build(rasters, {}, weights, multi, Q, 50)
