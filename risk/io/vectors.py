"""Vector layers: reading with pyogrio, writing GeoPackages atomically, the area of interest."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from risk.errors import InputError
from risk.io.files import _tmp_suffix, atomic_path


def read_vector(path, layer: str | None = None, crs: str | None = None, repair: bool = True):
    """Read a vector layer with pyogrio; reproject to ``crs`` when given.

    With ``repair``, invalid polygons (self-intersecting rings: a bow-tie has area 0 as drawn) are replaced by
    their ``make_valid`` repair (:func:`risk.checks.repair_polygons`); the checks at the door warn about them.
    """
    import geopandas as gpd

    if layer is None and str(path).lower().endswith(".gpkg"):
        names = data_layers(path)  # the one data layer, not QGIS's layer_styles table beside it
        layer = names[0] if len(names) == 1 else None
    gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    if repair and len(gdf) and isinstance(gdf, gpd.GeoDataFrame) and gdf.active_geometry_name is not None:
        from risk.checks import repair_polygons

        gdf, _ = repair_polygons(gdf)
    if crs is not None and gdf.crs is not None:
        gdf = gdf.to_crs(crs)
    return gdf


QGIS_TABLES = ("layer_styles", "qgis_projects")
"""Tables QGIS keeps in a GeoPackage beside the data (styles, projects): not data layers."""


def data_layers(path) -> list[str]:
    """The data layers of a GeoPackage (or any vector file), without QGIS's style and project tables."""
    import pyogrio

    return [str(n) for n, _ in pyogrio.list_layers(path) if str(n) not in QGIS_TABLES]


def write_layers(layers: Mapping[str, object], path, geometry_types: Mapping[str, str] | None = None,
                 styles: bool = True) -> None:
    """Write several GeoDataFrames as layers of one GeoPackage, atomically and in the given order.

    ``geometry_types`` names a layer's geometry type (e.g. ``"Point"``) so that an empty layer
    still opens in QGIS as the right kind of layer. With ``styles`` (published outputs) each layer's
    default QGIS style and Chinese field aliases go into the file (:func:`write_layer_styles`).
    """
    path = Path(path)
    geometry_types = geometry_types or {}
    with atomic_path(path, _tmp_suffix(path)) as tmp:
        for name, gdf in layers.items():
            kw = {"geometry_type": geometry_types[name]} if name in geometry_types else {}
            gdf.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio", **kw)
        if styles and path.suffix == ".gpkg":
            write_layer_styles(tmp, {name: _kind_and_columns(gdf, geometry_types.get(name))
                                     for name, gdf in layers.items()})


def _kind_and_columns(gdf, declared: str | None) -> tuple[str, list[str]]:
    geom = getattr(gdf, "_geometry_column_name", None)
    if geom is None or geom not in gdf.columns:
        return "none", [str(c) for c in gdf.columns]
    columns = [str(c) for c in gdf.columns if c != geom]
    kind = declared or next((str(t) for t in gdf.geom_type.dropna().unique()), "Point")
    kind = kind.lower()
    return ("polygon" if "polygon" in kind else "line" if "line" in kind else "point"), columns


LAYER_STYLES_DDL = """CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
  f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
  useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), update_time DATETIME)"""
"""The table QGIS reads a layer's default style from (QGIS writes the same one: "Save as default")."""


def write_layer_styles(path, layers) -> None:
    """Store each layer's default QGIS style (symbols, labels, Chinese field aliases) in a GeoPackage.

    ``layers`` maps layer name to ``(geometry kind, columns)``; the style is
    :func:`risk.io.styles.layer_style`. QGIS applies it when the layer is opened; other clients ignore
    the table. Written with sqlite3 (GDAL has no API for it); the timestamp is the pinned
    ``OGR_CURRENT_DATE`` so reruns keep the same bytes.
    """
    import os
    import sqlite3

    from risk.io.files import FIXED_DATE
    from risk.io.styles import layer_style

    stamp = os.environ.get("OGR_CURRENT_DATE", FIXED_DATE)
    con = sqlite3.connect(path)
    try:
        with con:
            con.execute(LAYER_STYLES_DDL)
            geom = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
            for name, (kind, columns) in layers.items():
                con.execute("DELETE FROM layer_styles WHERE f_table_name = ?", (name,))
                con.execute(
                    "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column,"
                    " styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time)"
                    " VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL, ?)",
                    (name, geom.get(name, ""), name, layer_style(name, kind, columns),
                     "risk: default style", stamp))
            con.execute(
                "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description, last_change)"
                " VALUES ('layer_styles', 'attributes', 'layer_styles', '', ?)", (stamp,))
    finally:
        con.close()


def write_vector(gdf, path, layer: str | None = None, styles: bool = True) -> None:
    """Write one GeoDataFrame as a single-layer file (GeoPackage unless the suffix says otherwise).

    ``styles=False`` for files that stand for someone's inputs (the demo's), which carry no QGIS style.
    """
    path = Path(path)
    if path.suffix == ".gpkg":
        write_layers({layer or path.stem: gdf}, path, styles=styles)
    else:
        _write_other(gdf, path)


def _write_other(gdf, path: Path) -> None:
    with atomic_path(path, _tmp_suffix(path)) as tmp:
        gdf.to_file(tmp, engine="pyogrio")


def read_aoi(path, crs: str | None = None):
    """Read the area of interest and dissolve it to one (multi)polygon GeoDataFrame."""
    gdf = read_vector(path)
    if gdf.crs is None:
        gdf = gdf.set_crs("OGC:CRS84")
    gdf = gdf[~gdf.geometry.is_empty & gdf.geometry.notna()]
    if len(gdf) == 0:
        raise InputError(f"{path}: the area of interest has no geometry")
    gdf = gdf.dissolve().reset_index(drop=True)[["geometry"]]
    if crs is not None:
        gdf = gdf.to_crs(crs)
    gdf["geometry"] = gdf.geometry.make_valid()
    return gdf
