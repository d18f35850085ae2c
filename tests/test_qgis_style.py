"""What a planner sees: QGIS (headless) opens a zoning COG styled by its .qml with bilingual classes."""

import json
import os
import shutil
import subprocess

import numpy as np
import pytest

from risk import io
from risk.assessment import zoning
from risk.io import styles
from tests.conftest import ROOT

QGIS_PYTHON = "/usr/bin/python3"


def _has_pyqgis() -> bool:
    if not os.path.exists(QGIS_PYTHON):
        return False
    return subprocess.run([QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _has_pyqgis(), reason="PyQGIS not installed (apt-get install qgis python3-qgis)")
def test_qgis_opens_zoning_styled(tmp_path, small_grid):
    x, _ = small_grid.coordinates(dask=False)
    index = small_grid.like(((x - x.min()) / float(x.max() - x.min())).values.astype("f4"))
    zones = zoning.classify(index, [0.2, 0.4, 0.6, 0.8])
    tif = tmp_path / "wind.tif"
    io.write_raster(zones, tif, small_grid, nodata=0, dtype="uint8", cog=True, colormap=zoning.ZONE_COLORS,
                    band_description=zoning.band_description("wind"),
                    tags=zoning.zoning_tags("wind", "fixed", [0.2, 0.4, 0.6, 0.8]))
    io.write_text(styles.zoning_qml("wind"), tmp_path / "wind.qml")
    png = tmp_path / "render.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path)}
    proc = subprocess.run([QGIS_PYTHON, str(ROOT / "tests" / "qgis" / "check_zoning_style.py"), str(tif), str(png)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    shown = json.loads(proc.stdout.strip().splitlines()[-1])
    assert shown["valid"] and shown["renderer"] == "paletted"
    assert shown["crs"] == "EPSG:4549"
    assert [c["value"] for c in shown["classes"]] == [1, 2, 3, 4, 5]
    assert shown["classes"][0]["label"] == "1 低 Low" and shown["classes"][4]["label"] == "5 高 High"
    assert shown["classes"][4]["color"] == "#d7191c"
    # The rendered map really shows the five colours.
    from PIL import Image

    img = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3)
    colours = {tuple(c) for c in np.unique(img, axis=0)}
    for k in range(1, 6):
        assert tuple(zoning.ZONE_COLORS[k][:3]) in colours
    shutil.copy(png, tmp_path / "kept.png")
