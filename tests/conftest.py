"""Shared fixtures: tiny grids and rasters built in memory."""

import numpy as np
import pytest

from risk.grid import Grid

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def load_file(relpath: str):
    """A repository file that is not in a package (a bench or rule script) imported as a module."""
    import importlib.util

    path = ROOT / relpath
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def small_grid():
    """A 60 x 80 grid of 30 m cells on EPSG:4549, chunks of 16."""
    return Grid.from_bounds((500_000, 4_500_000, 502_400, 4_501_800), "EPSG:4549", 30, chunk=16)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
