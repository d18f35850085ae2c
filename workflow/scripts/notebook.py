"""Execute one reviewers' notebook on the run's results and write it as HTML (figures embedded) and as
an executed ``.ipynb``.

The notebook's parameters (results folder, area name) are injected after its ``parameters`` cell
(:func:`risk.io.notebooks.inject_parameters`); a failing cell fails the rule.
"""

import logging

from risk import io
from risk.io import notebooks
from risk.runtime import rule_session

logger = logging.getLogger(__name__)


def main(snakemake):
    p = snakemake.params
    with rule_session(snakemake.log[0]):
        nb = notebooks.execute(snakemake.input.notebook, {"results": p.results, "area_name": p.area_name})
        io.write_text(notebooks.to_html(nb), snakemake.output.html)
        io.write_text(notebooks.to_ipynb(nb), snakemake.output.ipynb)
        logger.info("%s: %d figures", snakemake.wildcards.notebook, notebooks.count_images(nb))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
