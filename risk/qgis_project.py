"""Build the QGIS project of a run (``results/risk.qgz``) with PyQGIS.

Run by QGIS's own Python (the pipeline's environment cannot import ``qgis``; see
:func:`risk.io.qgis.build_project`)::

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 -m risk.qgis_project spec.json results/risk.qgz

``spec.json`` lists the layers (``risk.io.catalog`` entries: path relative to the results folder,
bilingual name, group, subgroup, layer) and the groups' names. The project stores relative paths, so
the results folder can be copied anywhere. Rasters get the ``.qml`` beside them, GeoPackage layers the
default style stored in the file (``layer_styles``). Township outlines and labels are drawn on top;
every zoning map gets a print layout (title, legend beside the county, scale bar, north arrow, source
and date).

This module imports nothing but the standard library and ``qgis`` (QGIS's Python has no numpy stack
guaranteed), so it must not import other ``risk`` modules.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

VISIBLE = ("townships", "zoning/multi_hazard.tif")
"""Layers switched on when the project opens (the rest are one click away)."""


def build(spec: dict, out: Path) -> dict:
    """Write the project to ``out`` (``.qgz``); return a summary (layer count, invalid layers, layouts)."""
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsProject,
        QgsRasterLayer,
        QgsVectorLayer,
    )

    out = Path(out).resolve()
    root_dir = out.parent
    project = QgsProject.instance()
    project.clear()
    project.setFileName(str(out))
    project.setTitle(spec.get("title", "risk"))
    project.writeEntry("Paths", "/Absolute", False)  # relative paths: the folder can be copied
    if spec.get("crs"):
        project.setCrs(QgsCoordinateReferenceSystem(spec["crs"]))
    tree = project.layerTreeRoot()
    groups: dict[tuple[str, str], object] = {}
    invalid, layers, placed = [], {}, []
    for key, zh, en in spec["groups"]:
        groups[(key, "")] = tree.addGroup(f"{zh} {en}")
    for e in spec["layers"]:
        path = root_dir / e["path"]
        if e["layer"]:
            lyr = QgsVectorLayer(f"{path}|layername={e['layer']}", e["name"], "ogr")
            lyr.loadDefaultStyle()
        else:
            lyr = QgsRasterLayer(str(path), e["name"])  # loads <name>.qml beside it
        if not lyr.isValid():
            invalid.append(e["path"])
            continue
        project.addMapLayer(lyr, False)
        key = "townships" if e["layer"] == "townships" else f"{e['path']}|{e['layer']}" if e["layer"] else e["path"]
        layers[key] = lyr
        placed.append((e, key, lyr))
    # the print layouts before the layers go into the tree: each legend starts from a copy of the project's tree
    # (then emptied), which with every layer in it took 0.13 s a layout; the project written is the same
    layouts = [_layout(project, layers[p], layers.get("townships"), spec) for p in layers
               if p.startswith("zoning/") and p.endswith(".tif")]
    for e, key, lyr in placed:
        parent = groups[(e["group"], "")]
        if e["subgroup"]:
            k = (e["group"], e["subgroup"])
            if k not in groups:
                groups[k] = parent.addGroup(e["subgroup_name"])
            parent = groups[k]
        node = parent.addLayer(lyr)
        node.setItemVisibilityChecked(key in VISIBLE)
        node.setExpanded(False)
    for (key, sub), g in groups.items():
        g.setExpanded(key in ("townships", "zoning") and not sub)
        g.setItemVisibilityChecked(True)
    tmp = out.with_name(out.stem + ".tmp" + out.suffix)
    project.setFileName(str(tmp))
    if not project.write():
        raise RuntimeError(f"{out}: QGIS could not write the project")
    os.replace(tmp, out)
    return {"layers": len(layers), "invalid": invalid, "layouts": layouts}


def _layout(project, zoning, townships, spec) -> str:
    """An A4 landscape print layout of one zoning map: map, legend to its right, scale bar, north arrow."""
    from qgis.core import (
        QgsLayoutItemLabel,
        QgsLayoutItemLegend,
        QgsLayoutItemMap,
        QgsLayoutItemPicture,
        QgsLayoutItemScaleBar,
        QgsLayoutPoint,
        QgsLayoutSize,
        QgsLegendStyle,
        QgsMapLayerLegendUtils,
        QgsPrintLayout,
        QgsRectangle,
        QgsUnitTypes,
    )
    from qgis.PyQt.QtGui import QFont

    mm = QgsUnitTypes.LayoutMillimeters
    layout = QgsPrintLayout(project)
    layout.initializeDefaults()  # one A4 landscape page, 297 x 210 mm
    name = zoning.name()
    layout.setName(name)
    shown = [lyr for lyr in (townships, zoning) if lyr is not None]

    title = QgsLayoutItemLabel(layout)
    title.setText(f"{spec.get('area', '')} {name}".strip())
    title.setFont(QFont(spec.get("font", "Noto Sans CJK SC"), 16))
    title.attemptMove(QgsLayoutPoint(10, 6, mm))
    title.attemptResize(QgsLayoutSize(277, 12, mm))
    layout.addLayoutItem(title)

    m = QgsLayoutItemMap(layout)
    layout.addLayoutItem(m)  # before sizing and zooming: the item needs its layout for both
    ext = QgsRectangle(zoning.extent())
    ext.scale(1.04)
    # the map keeps the county's shape (at most 200 x 180 mm); the legend goes to its right
    map_w = min(200.0, 180.0 * ext.width() / max(ext.height(), 1e-9))
    map_h = min(180.0, map_w * ext.height() / max(ext.width(), 1e-9))
    m.attemptMove(QgsLayoutPoint(10, 20, mm))
    m.attemptResize(QgsLayoutSize(map_w, map_h, mm))
    m.setLayers(shown)
    m.setKeepLayerSet(True)
    m.setCrs(zoning.crs())
    m.setExtent(ext)  # an empty map cannot zoom: set, then fit
    m.zoomToExtent(ext)
    m.setFrameEnabled(True)
    right = 10 + map_w + 8

    legend = QgsLayoutItemLegend(layout)
    legend.setTitle("图例 Legend")
    legend.setLinkedMap(m)
    legend.setAutoUpdateModel(False)
    model_root = legend.model().rootGroup()
    model_root.removeAllChildren()
    for lyr in reversed(shown):
        node = model_root.addLayer(lyr)
        if lyr is zoning:  # the five classes only, without the raster's "Band 1: ..." line
            nodes = legend.model().layerLegendNodes(node, True)
            keep = [i for i, n in enumerate(nodes) if not n.data(0).startswith("Band ")]
            QgsMapLayerLegendUtils.setLegendNodeOrder(node, keep)
            legend.model().refreshLayerLegend(node)
    font = spec.get("font", "Noto Sans CJK SC")
    for style, size in ((QgsLegendStyle.Title, 11), (QgsLegendStyle.Group, 9), (QgsLegendStyle.Subgroup, 9),
                        (QgsLegendStyle.SymbolLabel, 8)):
        legend.setStyleFont(style, QFont(font, size))
    legend.attemptMove(QgsLayoutPoint(right, 20, mm))
    layout.addLayoutItem(legend)

    arrow = QgsLayoutItemPicture(layout)
    arrow.setPicturePath(":/images/north_arrows/layout_default_north_arrow.svg")
    arrow.setLinkedMap(m)
    arrow.setNorthMode(QgsLayoutItemPicture.GridNorth)
    arrow.attemptMove(QgsLayoutPoint(10 + map_w - 18, 24, mm))
    arrow.attemptResize(QgsLayoutSize(14, 18, mm))
    layout.addLayoutItem(arrow)

    bar = QgsLayoutItemScaleBar(layout)
    layout.addLayoutItem(bar)
    bar.setStyle("Single Box")
    bar.setLinkedMap(m)
    bar.setUnits(QgsUnitTypes.DistanceKilometers)
    bar.setUnitLabel("km")
    bar.setNumberOfSegments(4)
    bar.setNumberOfSegmentsLeft(0)
    bar.setUnitsPerSegment(_nice_segment(ext.width() / 1000.0))
    bar.attemptMove(QgsLayoutPoint(14, 20 + map_h - 16, mm))
    bar.setBackgroundEnabled(True)
    bar.update()

    source = QgsLayoutItemLabel(layout)
    source.setText(spec.get("source", ""))
    source.setFont(QFont(spec.get("font", "Noto Sans CJK SC"), 7))
    source.attemptMove(QgsLayoutPoint(right, 20 + map_h - 30, mm))
    source.attemptResize(QgsLayoutSize(287 - right, 30, mm))
    layout.addLayoutItem(source)

    project.layoutManager().addLayout(layout)
    return name


def _nice_segment(width_km: float) -> float:
    """A round segment length (1, 2 or 5 × 10ⁿ km) so that four segments span about a third of the map."""
    import math

    target = max(width_km / 12.0, 1e-3)
    exp = 10 ** math.floor(math.log10(target))
    return next(s * exp for s in (1, 2, 5, 10) if s * exp >= target)


def main(argv: list[str]) -> int:
    """``python -m risk.qgis_project spec.json out.qgz``: build the project and print its summary as JSON."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qgis.core import QgsApplication

    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    app = QgsApplication([], False)
    app.initQgis()
    if spec.get("font_file"):  # so that Chinese renders where the system has no CJK font
        from qgis.PyQt.QtGui import QFontDatabase

        QFontDatabase.addApplicationFont(spec["font_file"])
    try:
        summary = build(spec, Path(argv[1]))
    finally:
        app.exitQgis()
    print(json.dumps(summary, ensure_ascii=False))
    return 1 if summary["invalid"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
