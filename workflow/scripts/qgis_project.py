"""The QGIS project of the run (results/risk.qgz), relative paths, every layer styled and named in 中文 and English.

Built with PyQGIS when a Python with QGIS is found, else written as project XML without print layouts
(:mod:`risk.io.qgis`).
"""

import logging
from pathlib import Path

from risk import io
from risk.io import qgis
from risk.io.manifest import config_hash, data_date
from risk.runtime import rule_session


def main(snakemake):
    p, inp = snakemake.params, snakemake.input
    grid = io.read_grid(inp.grid)
    source = (f"数据来源 Source: risk pipeline, config {config_hash(p.config)[:12]}\n"
              f"日期 Date: {data_date(p.inputs)}")  # the data's date: the same bytes on every rerun
    with rule_session(snakemake.log[0], None):
        results = Path(inp.grid).resolve().parents[1]  # grid/grid.json is in the results folder
        spec = qgis.project_spec(results, [*inp.rasters, *inp.vectors], p.area_name, source, grid.crs)
        summary = qgis.write_project(spec, snakemake.output[0])
        logging.getLogger("risk").info("QGIS project: %s", summary)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
