"""GCJ-02 / BD-09 web-map coordinates to WGS84."""

import numpy as np
import pytest
from pyproj import Geod

from risk.survey import coords as C

GEOD = Geod(ellps="WGS84")


def metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def test_gcj02_round_trip_is_sub_centimetre_across_china():
    rng = np.random.default_rng(7)
    lon = rng.uniform(74, 134, 20_000)
    lat = rng.uniform(18, 53, 20_000)
    back_lon, back_lat = C.gcj02_to_wgs84(*C.wgs84_to_gcj02(lon, lat))
    err = metres(lon, lat, back_lon, back_lat)
    assert err.max() < 0.01  # the contract asks for < 1 m
    # and from the other side: GCJ-02 points picked on a map come back exactly
    gl, gt = C.wgs84_to_gcj02(*C.gcj02_to_wgs84(lon, lat))
    assert np.abs(gl - lon).max() < 1e-9 and np.abs(gt - lat).max() < 1e-9


def test_bd09_round_trip():
    lon, lat = np.array([119.25, 116.39, 121.47]), np.array([41.05, 39.91, 31.23])
    back = C.bd09_to_wgs84(*C.wgs84_to_bd09(lon, lat))
    assert metres(lon, lat, *back).max() < 0.01
    # Baidu adds roughly another 0.0065 / 0.006 degrees on top of GCJ-02
    bl, bt = C.wgs84_to_bd09(119.25, 41.05)
    gl, gt = C.wgs84_to_gcj02(119.25, 41.05)
    assert 0.004 < bl - gl < 0.009 and 0.004 < bt - gt < 0.008


def test_offset_near_lingyuan_is_hundreds_of_metres_north_east():
    lon, lat = 119.25, 41.05
    glon, glat = C.wgs84_to_gcj02(lon, lat)
    d = metres(lon, lat, glon, glat)
    assert 300 < d < 800
    assert glon > lon and glat > lat  # in Liaoning the offset points east-north-east


def test_offset_matches_the_known_magnitude_in_beijing():
    # Tian'anmen: the well-known GCJ-02 shift is about +0.0062 deg lon, +0.0014 deg lat
    glon, glat = C.wgs84_to_gcj02(116.391, 39.907)
    assert glon - 116.391 == pytest.approx(0.0062, abs=5e-4)
    assert glat - 39.907 == pytest.approx(0.0014, abs=5e-4)


def test_outside_china_is_unchanged_and_nan_stays_nan():
    lon, lat = np.array([2.35, -74.0, np.nan]), np.array([48.85, 40.7, 41.0])
    wl, wt = C.gcj02_to_wgs84(lon, lat)
    np.testing.assert_array_equal(wl[:2], lon[:2])
    np.testing.assert_array_equal(wt[:2], lat[:2])
    assert np.isnan(wl[2])


def test_scalar_and_array_inputs():
    lon, lat = C.gcj02_to_wgs84(119.25, 41.05)
    assert np.ndim(lon) == 0
    lon, lat = C.gcj02_to_wgs84([119.25, 119.3], [41.05, 41.0])
    assert lon.shape == (2,)
