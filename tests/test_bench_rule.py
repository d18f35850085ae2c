"""bench/bench_rule.py: a finer grid made by repeating every cell, people divided among the copies."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import rasterio

from risk import io
from risk.grid import Grid
from tests.conftest import load_file

ROOT = Path(__file__).resolve().parents[1]


def _bench_rule():
    return load_file("bench/bench_rule.py")


class _Files(list):
    """A Snakemake Namedlist's interface: positions named in ``_names`` and attributes that follow them."""

    def __init__(self, **named):
        super().__init__(named.values())
        self._names = {k: (i, None) for i, k in enumerate(named)}
        for k, v in named.items():
            setattr(self, k, v)

    def _set_name(self, name, index, end=None):
        setattr(self, name, self[index])


def test_finer_inputs_repeat_cells_and_divide_people(tmp_path):
    g = Grid.from_bounds((500_000, 4_500_000, 500_300, 4_500_200), "EPSG:4549", 100, chunk=2)
    a = np.arange(6, dtype="f4").reshape(2, 3)
    io.write_raster(g.like(a), tmp_path / "risk.tif", g)
    io.write_raster(g.like(a), tmp_path / "pop.tif", g)
    (tmp_path / "grid.json").write_text(json.dumps({"chunk": 2, "crs": g.crs, "height": 2, "res": 100.0,
                                                    "width": 3, "xmin": g.xmin, "ymax": g.ymax}))
    sm = SimpleNamespace(input=_Files(risk=str(tmp_path / "risk.tif"), population=str(tmp_path / "pop.tif"),
                                      grid=str(tmp_path / "grid.json"), table=str(tmp_path / "t.csv")))
    _bench_rule().finer_inputs(sm, 2, tmp_path / "out", {})
    fine = io.read_grid(sm.input.grid)
    assert (fine.res, fine.shape, fine.xmin, fine.ymax) == (50.0, (4, 6), g.xmin, g.ymax)
    with rasterio.open(sm.input.risk) as r, rasterio.open(sm.input.population) as p:
        assert r.res == (50.0, 50.0) and r.bounds == rasterio.open(tmp_path / "risk.tif").bounds
        np.testing.assert_array_equal(r.read(1), np.kron(a, np.ones((2, 2), "f4")))
        np.testing.assert_allclose(p.read(1).sum(), a.sum())  # the same people over four times the cells
    assert sm.input.table == str(tmp_path / "t.csv") and sm.input[3] == sm.input.table
