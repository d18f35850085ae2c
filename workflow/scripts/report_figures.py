"""Figures and the table the report adds: each model's validation, class stability, comprehensive zoning.

Maps are drawn from the rasters' overviews (:mod:`risk.io.review`), so the rule stays cheap on a county.
"""

import json
from pathlib import Path

from risk import HAZARD_LABELS, io
from risk.io import review
from risk.io.figures import model_figure, save_figure
from risk.models.summary import validation_table
from risk.runtime import rule_session


def main(snakemake):
    inp, out, p = snakemake.input, snakemake.output, snakemake.params
    with rule_session(snakemake.log[0], None):
        results = Path(inp.grid).resolve().parents[1]
        towns = review.townships(results)
        metrics = {h: json.loads(Path(m).read_text(encoding="utf-8")) for h, m in zip(p.hazards, inp.metrics, strict=True)}
        samples = dict(zip(p.model_hazards, inp.samples, strict=True))
        io.write_table(validation_table(metrics), out.table)
        for h, png in zip(p.hazards, out.models, strict=True):
            fig = model_figure(metrics[h], io.read_table(samples[h]) if h in samples else None,
                               f"{p.area_name} {' '.join(HAZARD_LABELS[h])}")
            save_figure(fig, png)
        if out.stability:
            maps = {" ".join(HAZARD_LABELS.get(Path(t).stem.removesuffix("_stability"), ("", Path(t).stem))): t
                    for t in inp.stability}
            save_figure(review.rasters_map(maps, towns, ncols=3, cmap="RdYlGn", robust=False,
                                           suptitle=f"{p.area_name} 分区稳定性 class stability"), out.stability[0])
        if out.comprehensive:
            save_figure(review.raster_map(inp.comprehensive[0], f"{p.area_name} 综合（考虑减灾能力）风险分区 "
                                          "Comprehensive risk zones (with capacity)", towns, zones=True),
                        out.comprehensive[0])


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
