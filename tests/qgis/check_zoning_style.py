"""Open a zoning GeoTIFF in QGIS (headless) the way a planner would, and report what QGIS shows.

Run with the system Python that has PyQGIS: ``QT_QPA_PLATFORM=offscreen /usr/bin/python3 check_zoning_style.py
ZONES.tif OUT.png``. Prints one JSON object: renderer type, class values and labels, CRS, and writes a
rendered PNG of the layer.
"""

import json
import os
import sys

from qgis.core import (
    QgsApplication,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsRasterLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def main(path, png):
    app = QgsApplication([], False)
    app.initQgis()
    layer = QgsRasterLayer(path, "zones")
    out = {"valid": layer.isValid()}
    if layer.isValid():
        renderer = layer.renderer()
        out["renderer"] = renderer.type()
        classes = getattr(renderer, "classes", lambda: [])()
        out["classes"] = [{"value": int(c.value), "label": c.label, "color": c.color.name()} for c in classes]
        out["crs"] = layer.crs().authid()
        out["band_name"] = layer.dataProvider().bandDescription(1) if hasattr(layer.dataProvider(), "bandDescription") else ""
        settings = QgsMapSettings()
        settings.setLayers([layer])
        settings.setBackgroundColor(QColor(255, 255, 255))
        settings.setOutputSize(QSize(400, 400))
        settings.setExtent(layer.extent())
        job = QgsMapRendererParallelJob(settings)
        job.start()
        job.waitForFinished()
        job.renderedImage().save(png, "png")
    print(json.dumps(out, ensure_ascii=False), flush=True)
    # QGIS 3.22 can crash while tearing down in a headless process; the answer is already out.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
