"""A QGIS style (.qml) beside every published raster that has none, and the zoning rasters' attribute tables.

Names and kinds of style come from :mod:`risk.io.catalog`; the styles from :mod:`risk.io.styles`.
"""

from pathlib import Path

from risk import io
from risk.io import catalog, styles
from risk.runtime import rule_session


def main(snakemake):
    inp, out = snakemake.input, snakemake.output
    results = Path(inp.grid).resolve().parents[1]  # grid/grid.json is in the results folder
    with rule_session(snakemake.log[0], None):
        for tif, qml in zip(inp.rasters, out.qml, strict=True):
            entry = catalog.describe(Path(tif).resolve().relative_to(results).as_posix())
            io.write_text(styles.style_for(tif, entry.style, entry.name), qml)
        for rat in out.rat:
            io.write_text(styles.zoning_rat_xml(), rat)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
