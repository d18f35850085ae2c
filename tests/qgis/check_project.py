"""Run by QGIS's Python: open a project, report its layers, styles and layouts as JSON on the last line.

    python3 check_project.py project.qgz [layout.png]
"""

import json
import sys

from qgis.core import QgsApplication, QgsLayoutExporter, QgsProject, QgsVectorLayer

app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
ok = project.read(sys.argv[1])
layers = []
for lyr in project.mapLayers().values():
    r = lyr.renderer()
    info = {"name": lyr.name(), "valid": lyr.isValid(), "source": lyr.source(), "renderer": r.type() if r else None}
    if isinstance(lyr, QgsVectorLayer):
        info["labels"] = lyr.labelsEnabled()
        info["aliases"] = {f.name(): lyr.attributeAlias(i) for i, f in enumerate(lyr.fields()) if lyr.attributeAlias(i)}
    layers.append(info)
tree = project.layerTreeRoot()
order = [node.name() for node in tree.findLayers()]
groups = [g.name() for g in tree.children()]
layouts = []
for layout in project.layoutManager().layouts():
    layouts.append({"name": layout.name(), "items": sorted({type(i).__name__ for i in layout.items()})})
exported = None
if len(sys.argv) > 2 and project.layoutManager().layouts():
    exporter = QgsLayoutExporter(project.layoutManager().layouts()[0])
    settings = QgsLayoutExporter.ImageExportSettings()
    settings.dpi = 60
    exported = exporter.exportToImage(sys.argv[2], settings) == QgsLayoutExporter.Success
print(json.dumps({"read": ok, "layers": layers, "order": order, "groups": groups, "layouts": layouts,
                  "absolute_paths": project.readBoolEntry("Paths", "/Absolute", True)[0],
                  "exported": exported}, ensure_ascii=False))
app.exitQgis()
