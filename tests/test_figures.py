"""Map drawing helpers: township outlines drawn as geopandas draws them, without redrawing the figure."""

import geopandas as gpd
import numpy as np
from shapely.geometry import MultiPolygon, Polygon, box

from risk.io.figures import draw_boundaries, small_multiples


def _towns():
    holed = Polygon([(0, 0), (40, 0), (40, 30), (0, 30)], [[(10, 10), (20, 10), (20, 20), (10, 20)]])
    multi = MultiPolygon([box(50, 0, 60, 10), box(70, 0, 80, 25)])
    return gpd.GeoDataFrame(geometry=[holed, multi, None], crs="EPSG:4549")


def test_draw_boundaries_draws_the_lines_geopandas_draws_and_the_same_limits():
    import matplotlib.pyplot as plt

    towns = _towns()
    fig, (a, b) = plt.subplots(1, 2)
    towns.boundary.plot(ax=a, color="#444444", linewidth=0.5)
    draw_boundaries(b, towns, color="#444444", linewidth=0.5)
    (ca,), (cb,) = a.collections, b.collections
    assert len(cb.get_segments()) == 4  # outer ring, hole, two parts
    for sa, sb in zip(ca.get_segments(), cb.get_segments(), strict=True):
        np.testing.assert_array_equal(sa, sb)
    np.testing.assert_array_equal(ca.get_colors(), cb.get_colors())
    np.testing.assert_array_equal(ca.get_linewidths(), cb.get_linewidths())
    assert a.get_xlim() == b.get_xlim() and a.get_ylim() == b.get_ylim() and b.get_aspect() == 1.0
    plt.close(fig)


def test_small_multiples_render_the_figure_once(monkeypatch):
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from risk.grid import Grid

    draws = []
    real = FigureCanvasAgg.draw
    monkeypatch.setattr(FigureCanvasAgg, "draw", lambda self, *a, **k: (draws.append(1), real(self, *a, **k)))
    grid = Grid("EPSG:4549", 10.0, 0.0, 30.0, 8, 3)
    arrays = {f"m{i}": np.arange(24, dtype="f4").reshape(3, 8) + i for i in range(6)}
    fig = small_multiples(arrays, grid, boundaries=_towns(), ncols=3)
    assert draws == []  # geopandas' plot asked for a full redraw after every map's outlines
    fig.canvas.draw()
    assert len(draws) == 1 and len(fig.axes) == 12  # six maps and their colour bars
    plt.close(fig)
