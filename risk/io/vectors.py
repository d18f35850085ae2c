"""Vector layers: reading with pyogrio, writing GeoPackages atomically, the area of interest."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from risk.io.files import _tmp_suffix, atomic_path


def read_vector(path, layer: str | None = None, crs: str | None = None):
    """Read a vector layer with pyogrio; reproject to ``crs`` when given."""
    import geopandas as gpd

    gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    if crs is not None and gdf.crs is not None:
        gdf = gdf.to_crs(crs)
    return gdf


def write_layers(layers: Mapping[str, object], path, geometry_types: Mapping[str, str] | None = None) -> None:
    """Write several GeoDataFrames as layers of one GeoPackage, atomically and in the given order.

    ``geometry_types`` names a layer's geometry type (e.g. ``"Point"``) so that an empty layer
    still opens in QGIS as the right kind of layer.
    """
    path = Path(path)
    geometry_types = geometry_types or {}
    with atomic_path(path, _tmp_suffix(path)) as tmp:
        for name, gdf in layers.items():
            kw = {"geometry_type": geometry_types[name]} if name in geometry_types else {}
            gdf.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio", **kw)


def write_vector(gdf, path, layer: str | None = None) -> None:
    """Write one GeoDataFrame as a single-layer file (GeoPackage unless the suffix says otherwise)."""
    path = Path(path)
    write_layers({layer or path.stem: gdf}, path) if path.suffix == ".gpkg" else _write_other(gdf, path)


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
        raise ValueError(f"{path}: the area of interest has no geometry")
    gdf = gdf.dissolve().reset_index(drop=True)[["geometry"]]
    if crs is not None:
        gdf = gdf.to_crs(crs)
    gdf["geometry"] = gdf.geometry.make_valid()
    return gdf
