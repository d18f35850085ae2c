"""Record the run's provenance: config and hash, inputs and outputs with SHA-256, package versions."""

import logging

from risk import io
from risk.io.manifest import build_manifest
from risk.runtime import rule_session

logger = logging.getLogger(__name__)


def main(snakemake):
    with rule_session(snakemake.log[0], snakemake.params.dask):
        inp = snakemake.input
        manifest = build_manifest(dict(snakemake.params.config), inp.inputs, inp.outputs)
        io.write_json(manifest, snakemake.output[0])
        logger.info("manifest: %d inputs, %d outputs", len(manifest["inputs"]), len(manifest["outputs"]))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
