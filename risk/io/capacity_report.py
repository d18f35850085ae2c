"""Write the township capacity assessment reports as HTML (a Jinja2 template; data from risk.capacity.report)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from risk.capacity import report
from risk.io.files import write_text


def render(template_path, **context) -> str:
    """The template at ``template_path`` rendered with ``context`` and the report's :data:`SECTIONS`."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    path = Path(template_path)
    env = Environment(loader=FileSystemLoader(str(path.parent)), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template(path.name).render(sections=report.SECTIONS, **context)


def write_reports(template_path, out_dir, capacity: pd.DataFrame, weights: pd.DataFrame, raw: pd.DataFrame,
                  priority: pd.DataFrame | None, meta: dict) -> list[Path]:
    """One report per township (``<code>.html``) and the county summary (``index.html``) in ``out_dir``.

    ``meta``: ``area_name``, ``date``, ``config_sha256``, ``source`` (the input table) and ``source_sha256``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    quality = report.data_quality(raw, capacity, weights)
    common = dict(meta=meta, quality=quality, weights=report.weight_rows(weights),
                  scale=report.grade_scale(weights), county=report.county_summary(capacity, weights, priority))
    written = []
    for _, town in capacity.sort_values("rank").iterrows():
        t = report.township_report(town, capacity, weights, priority)
        path = out / t["file"]
        write_text(render(template_path, town=t, **common), path)
        written.append(path)
    write_text(render(template_path, town=None, **common), out / "index.html")
    return [out / "index.html", *written]
