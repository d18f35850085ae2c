"""QGIS styles (``.qml``) written beside rasters, so that QGIS opens each one styled.

QGIS loads ``<name>.qml`` automatically when it opens ``<name>.tif``.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from risk.assessment.zoning import ZONE_COLORS, ZONE_LABELS


def zoning_qml(title: str = "", labels=None, colors=None) -> str:
    """A QGIS style (``.qml``) that shows zones 1-5 (or ``labels``) with their Chinese and English labels.

    QGIS loads ``<name>.qml`` automatically when it opens ``<name>.tif``.
    """
    labels, colors = labels or ZONE_LABELS, colors or ZONE_COLORS
    entries = "\n".join(
        f'        <paletteEntry value="{k}" alpha="255" color="#{r:02x}{g:02x}{b:02x}" '
        f"label={quoteattr(f'{k} {zh} {en}')}/>"
        for k, (zh, en) in labels.items()
        for (r, g, b, _a) in [colors[k]]
    )
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.0" styleCategories="Symbology|Rendering">
  <!-- {title} -->
  <pipe>
    <provider>
      <resampling enabled="false" maxOversampling="2" zoomedInResamplingMethod="nearestNeighbour" zoomedOutResamplingMethod="nearestNeighbour"/>
    </provider>
    <rasterrenderer type="paletted" band="1" opacity="1" alphaBand="-1" nodataColor="">
      <rasterTransparency/>
      <minMaxOrigin>
        <limits>None</limits>
        <extent>WholeRaster</extent>
        <statAccuracy>Estimated</statAccuracy>
        <cumulativeCutLower>0.02</cumulativeCutLower>
        <cumulativeCutUpper>0.98</cumulativeCutUpper>
        <stdDevFactor>2</stdDevFactor>
      </minMaxOrigin>
      <colorPalette>
{entries}
      </colorPalette>
    </rasterrenderer>
    <brightnesscontrast brightness="0" contrast="0" gamma="1"/>
    <huesaturation saturation="0" colorizeOn="0" grayscaleMode="0" invertColors="0"/>
    <rasterresampler maxOversample="2"/>
    <resamplingStage>resamplingFilter</resamplingStage>
  </pipe>
  <blendMode>0</blendMode>
</qgis>
"""


def index_qml(title: str = "", vmin: float = 0.0, vmax: float = 1.0) -> str:
    """A QGIS style for a continuous 0-1 index: a green-yellow-red pseudocolour ramp."""
    stops = [(0.0, ZONE_COLORS[1]), (0.25, ZONE_COLORS[2]), (0.5, ZONE_COLORS[3]), (0.75, ZONE_COLORS[4]),
             (1.0, ZONE_COLORS[5])]
    items = "\n".join(
        f'            <item alpha="255" value="{vmin + f * (vmax - vmin):.4f}" '
        f'color="#{c[0]:02x}{c[1]:02x}{c[2]:02x}" label="{vmin + f * (vmax - vmin):.2f}"/>'
        for f, c in stops
    )
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.0" styleCategories="Symbology|Rendering">
  <!-- {title} -->
  <pipe>
    <rasterrenderer type="singlebandpseudocolor" band="1" opacity="1" alphaBand="-1" classificationMin="{vmin}" classificationMax="{vmax}" nodataColor="">
      <rasterTransparency/>
      <rastershader>
        <colorrampshader colorRampType="INTERPOLATED" classificationMode="1" clip="0" minimumValue="{vmin}" maximumValue="{vmax}">
{items}
        </colorrampshader>
      </rastershader>
    </rasterrenderer>
    <brightnesscontrast brightness="0" contrast="0" gamma="1"/>
    <huesaturation saturation="0" colorizeOn="0" grayscaleMode="0" invertColors="0"/>
    <rasterresampler maxOversample="2"/>
  </pipe>
  <blendMode>0</blendMode>
</qgis>
"""
