# risk: natural-hazard risk survey and assessment, one DAG from survey files to zoning maps.
# Run `make run` (see README) or `snakemake --cores 2 --profile profiles/local [--configfile my.yaml]`.
from risk.config import validate_config


if not config:

    configfile: "configs/config.yaml"


validate_config(config, workflow.source_path("workflow/schemas/config.schema.yaml"))


# The report's landing page: what the run was (area, grid, hazards, where the provenance is).
report: "workflow/report/workflow.rst"


# One software environment for every rule (used with --use-conda; `make setup` builds the same as .venv).
conda: "workflow/envs/risk.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/demo.smk"
include: "workflow/rules/grid.smk"
include: "workflow/rules/survey.smk"
include: "workflow/rules/hazard.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/assessment.smk"
include: "workflow/rules/capacity.smk"
include: "workflow/rules/publish.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        all_outputs(),
        res("manifest.json"),
    default_target: True
