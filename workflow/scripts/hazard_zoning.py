"""Hazard zoning (危险性/易发性区划) of every hazard: ``zoning/hazard/<hazard>.tif`` (COG with colour table,
method and breaks in the tags), its ``.qml`` and a map (:func:`risk.assessment.hazard_zoning.zone_hazard`).
"""

from pathlib import Path

from risk import io
from risk.assessment import hazard_zoning
from risk.io import styles
from risk.io.figures import save_figure, zone_map
from risk.runtime import rule_session


def main(snakemake):
    p, out = snakemake.params, snakemake.output
    grid = io.read_grid(snakemake.input.grid)
    with rule_session(snakemake.log[0], p.dask):
        townships = io.read_vector(snakemake.input.townships, crs=grid.crs)
        for h, index, tif, qml, png in zip(p.hazards, snakemake.input.hazards, out.tif, out.qml, out.png,
                                           strict=True):
            z = hazard_zoning.zone_hazard(io.read_raster_on_grid(index, grid, resampling="nearest"), h,
                                          p.hazard_zoning, Path(index).name)
            io.write_raster(z["zones"], tif, grid, nodata=0, dtype="uint8", cog=True, tags=z["tags"],
                            band_description=z["description"], colormap=z["colors"],
                            overview_resampling="nearest")
            io.write_text(styles.zoning_qml(z["description"], z["labels"], z["colors"]), qml)
            small, small_grid = io.read_decimated(tif)
            fig = zone_map(small, small_grid, hazard_zoning.map_title(p.area_name, h), townships, z["labels"],
                           colors=z["colors"], legend_title="危险性等级 Hazard level")
            save_figure(fig, png, dpi=110)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
