"""Zoning: class breaks by each method, classification on numpy and Dask, QGIS styles."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from risk.assessment import zoning
from risk.io import styles


@pytest.mark.parametrize("method", ["natural_breaks", "quantiles", "equal_interval", "std_mean"])
def test_breaks_are_four_increasing_numbers_inside_the_range(method, rng):
    v = rng.beta(2, 5, 5000)
    b = zoning.class_breaks(v, method)
    assert b.shape == (4,) and np.all(np.diff(b) >= 0)
    assert v.min() <= b[0] and b[-1] <= v.max()


def test_quantile_breaks_split_evenly(rng):
    v = rng.random(10_000)
    z = np.searchsorted(zoning.class_breaks(v, "quantiles"), v, side="left") + 1
    assert np.allclose(np.bincount(z)[1:] / v.size, 0.2, atol=0.01)


def test_natural_breaks_find_obvious_clusters(rng):
    centres = [0.05, 0.3, 0.5, 0.7, 0.95]
    v = np.concatenate([c + rng.normal(0, 0.01, 400) for c in centres])
    b = zoning.class_breaks(v, "natural_breaks")
    for lo, hi, br in zip(centres[:-1], centres[1:], b, strict=True):
        assert lo < br < hi


def test_fixed_thresholds_are_checked():
    assert zoning.class_breaks([], "fixed", thresholds=[0.2, 0.4, 0.6, 0.8]).tolist() == [0.2, 0.4, 0.6, 0.8]
    with pytest.raises(ValueError, match="zoning.thresholds"):
        zoning.class_breaks([], "fixed", thresholds=[0.4, 0.2, 0.6, 0.8])
    with pytest.raises(ValueError, match="zoning.method"):
        zoning.class_breaks([1.0, 2.0], "jenks")


def test_constant_index_still_gives_breaks():
    assert zoning.class_breaks(np.full(100, 0.3), "natural_breaks").shape == (4,)


def test_classify_numpy_and_dask_agree_and_nan_is_zero(small_grid, rng):
    data = rng.random(small_grid.shape).astype("float32")
    data[:3, :5] = np.nan
    arr = small_grid.like(data)
    breaks = [0.2, 0.4, 0.6, 0.8]
    a = zoning.classify(arr, breaks).values
    for chunk in (16, 23):
        b = zoning.classify(arr.chunk(chunk), breaks).compute().values
        np.testing.assert_array_equal(a, b)
    assert a.dtype == np.uint8 and (a[:3, :5] == 0).all()
    assert set(np.unique(a[3:])) == {1, 2, 3, 4, 5}
    # A value equal to a break falls into the lower zone.
    assert zoning.classify(small_grid.like(np.full(small_grid.shape, 0.4, "f4")), breaks).values[0, 0] == 2


@pytest.mark.parametrize("method", ["natural_breaks", "quantiles", "fixed"])
def test_zone_draws_breaks_on_the_systematic_sample_numpy_and_dask(small_grid, rng, method):
    from risk.grid import systematic_sample

    a = rng.random(small_grid.shape).astype("float32")
    a[:3, :5] = np.nan
    arr = small_grid.like(a)
    thresholds = [0.2, 0.4, 0.6, 0.8] if method == "fixed" else None
    zones, breaks = zoning.zone(arr, method, 500, thresholds, name="wind")
    ref = zoning.class_breaks(systematic_sample(arr, 500), method, thresholds=thresholds)
    np.testing.assert_array_equal(breaks, ref)
    np.testing.assert_array_equal(zones.values, zoning.classify(arr, ref).values)
    dz, db = zoning.zone(arr.chunk(16), method, 500, thresholds)
    np.testing.assert_array_equal(db, breaks)
    np.testing.assert_array_equal(dz.values, zones.values)


def test_map_title_is_bilingual():
    from risk import HAZARD_LABELS

    zh, en = HAZARD_LABELS["wind"]
    assert zoning.map_title("凌源市 Lingyuan", "wind") == f"凌源市 Lingyuan {zh}风险区划 {en} risk zones"
    assert zoning.map_title("X", "other") == "X other风险区划 other risk zones"


def test_qml_is_valid_xml_with_five_bilingual_classes():
    root = ET.fromstring(styles.zoning_qml("t").split("\n", 1)[1])
    entries = root.findall(".//paletteEntry")
    assert [e.get("value") for e in entries] == ["1", "2", "3", "4", "5"]
    assert entries[0].get("label") == "1 低 Low" and entries[4].get("label") == "5 高 High"
    ET.fromstring(styles.index_qml("t").split("\n", 1)[1])


def test_zoning_tags_record_method_and_breaks():
    tags = zoning.zoning_tags("wind", "quantiles", [0.1, 0.2, 0.3, 0.4])
    assert tags["ZONING_METHOD"] == "quantiles" and tags["ZONING_BREAKS"] == "[0.1, 0.2, 0.3, 0.4]"
    assert tags["CLASS_3"] == "中 Medium"


def test_fisher_jenks_equals_mapclassify_bit_for_bit():
    # The cached copy of mapclassify's kernel must draw the same breaks (same bits), ties and repeats included.
    import mapclassify

    from risk.assessment.zoning import fisher_jenks

    rng = np.random.default_rng(1)
    for trial in range(12):
        n = int(rng.integers(10, 800))
        x = rng.gamma(2, 1, n) if trial % 2 else rng.random(n).astype("f4").astype("f8")
        x = np.round(x, 1 + trial % 4)
        if np.unique(x).size < 5:
            continue
        assert fisher_jenks(x, 5).tobytes() == mapclassify.FisherJenks(x, k=5).bins.tobytes()
