"""Check every input of the run before any rule does work: errors stop the run (all listed), warnings are kept.

The warnings (file, check, severity, message) go to ``validation_warnings.csv``, which the report shows.
"""

import logging

from risk import io
from risk.checks import errors, problems_frame
from risk.errors import InputError
from risk.runtime import rule_session
from risk.validate import check_inputs, warnings_of

logger = logging.getLogger(__name__)


def main(snakemake):
    p = snakemake.params
    with rule_session(snakemake.log[0], p.dask):
        problems = check_inputs(p.config, p.root)
        for w in warnings_of(problems):
            logger.warning("%s", w)
        bad = errors(problems)
        if bad:
            raise InputError(f"{len(bad)} input problem(s), nothing was run:\n" + "\n".join(f"  {e}" for e in bad))
        io.write_table(problems_frame(warnings_of(problems)), snakemake.output.warnings)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
