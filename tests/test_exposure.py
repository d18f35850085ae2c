"""Exposure components and index: densities per km², summed survey densities, recorded bounds used as documented."""

import json

import numpy as np
import pytest

from risk.assessment import exposure
from risk.grid import Grid
from risk.hazard.normalize import quantile_bounds


@pytest.fixture
def grid():
    return Grid.from_bounds((499_980, 4_500_000, 500_580, 4_500_450), "EPSG:4549", 30, chunk=8)  # 15 x 20


def test_components_and_their_metadata(grid):
    rng = np.random.default_rng(2)
    pop = grid.like((rng.random(grid.shape) * 10).astype("f4"), name="population")
    built = grid.like(rng.random(grid.shape).astype("f4"), name="built_up_share")
    dens = [grid.like(rng.random(grid.shape).astype("f4")) for _ in range(3)]
    layers, tags, descriptions = exposure.components(pop, 400.0, built, dens, sigma_m=250)
    assert list(layers) == list(tags) == list(descriptions) == list(exposure.EXPOSURE_COMPONENTS)
    np.testing.assert_allclose(layers["population"].values, pop.values * 1e6 / 400.0, rtol=1e-6)
    assert layers["built_up"] is built
    np.testing.assert_array_equal(layers["survey_points"].values, dens[0].values + dens[1].values + dens[2].values)
    assert layers["survey_points"].name == "survey_points" and layers["population"].name == "population"
    assert tags["survey_points"] == {"UNITS": "points per km2", "SIGMA_M": 250}
    assert tags["population"] == {"UNITS": "persons per km2"}
    assert descriptions["built_up"] == "built-up share (0-1)"


def test_index_uses_recorded_bounds_of_untransformed_components(grid):
    rng = np.random.default_rng(3)
    comps = {k: grid.like(rng.random(grid.shape).astype("f4") * 100, name=k) for k in exposure.EXPOSURE_COMPONENTS}
    weights = {"population": 0.5, "built_up": 0.3, "survey_points": 0.2}
    transforms = {"population": "log1p"}
    recorded = {"population": (1.0, 2.0), "built_up": (10.0, 20.0), "survey_points": None}
    layers, tags, descriptions = exposure.index_layer(comps, recorded, weights, transforms, (0.05, 0.95), 50)
    record = json.loads(tags["exposure"]["COMPONENTS"])
    assert (record["built_up"]["lo"], record["built_up"]["hi"]) == (10.0, 20.0)
    pop = quantile_bounds(comps["population"], (0.05, 0.95), 50, "log1p")  # transformed: not the recorded
    assert (record["population"]["lo"], record["population"]["hi"]) == pytest.approx(pop)
    pts = quantile_bounds(comps["survey_points"], (0.05, 0.95), 50)  # not recorded: sampled
    assert (record["survey_points"]["lo"], record["survey_points"]["hi"]) == pytest.approx(pts)
    ref, ref_record = exposure.exposure_index(comps, weights, transforms, (0.05, 0.95), 50,
                                              bounds={"built_up": (10.0, 20.0)})
    np.testing.assert_array_equal(layers["exposure"].values, ref.values)
    assert json.loads(json.dumps(ref_record)) == record and tags["exposure"]["UNITS"] == "1"
    assert descriptions == {"exposure": "exposure index (0-1)"}
