# risk: natural-hazard risk survey and assessment, one DAG from survey files to zoning maps.
# Run `make run` (see README) or `snakemake --cores 2 --profile profiles/local [--configfile my.yaml]`.
import os

from risk.config import check_config_file, or_stop, validate_config
from risk.runtime import clear_stale_lock
from risk.warm import WarmServer


# A config given with --configfile is checked as a file first (safe YAML, not empty, no templating), so that
# an empty or mistyped file stops here instead of falling back to the demo config.
for _path in workflow.overwrite_configfiles or ():
    or_stop(check_config_file, _path)


if not config and not workflow.overwrite_configfiles:

    configfile: "configs/config.yaml"


or_stop(validate_config, config, workflow.source_path("workflow/schemas/config.schema.yaml"))

# Bytecode: with PYTHONDONTWRITEBYTECODE set (as on many machines) every job would recompile each library it
# imports, 3-7 s a job; the jobs write it into .venv once instead, at its first import (atomic writes). The
# Makefile does the same for its commands.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# A run killed with SIGKILL leaves Snakemake's lock behind; clear it when no Snakemake works here any more, so
# the rerun the README prescribes resumes without a manual `--unlock` (--rerun-incomplete redoes cut jobs).
clear_stale_lock(os.getcwd())


# Warm start (risk.warm): on a local run, one Python imports the stack once and each rule's script runs in a
# fork of it, instead of every job paying 2-4 s of imports. Off on cluster executors and with --use-conda (the
# jobs' Python is another one there) or with RISK_WARM=0; results are the same either way.
_warm = WarmServer()


onstart:
    # the executor and the deployment are known here, not when the Snakefile is read
    _warm.enabled &= workflow.local_exec and not workflow.deployment_settings.deployment_method
    _warm.start()


onsuccess:
    _warm.stop()


onerror:
    _warm.stop()


# The report's landing page: what the run was (area, grid, hazards, where the provenance is).
# One software environment for every rule (used with --use-conda; `make setup` builds the same as .venv).
conda: "workflow/envs/risk.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/demo.smk"
include: "workflow/rules/validate.smk"
include: "workflow/rules/grid.smk"
include: "workflow/rules/survey.smk"
include: "workflow/rules/hazard.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/assessment.smk"
include: "workflow/rules/capacity.smk"
include: "workflow/rules/publish.smk"
include: "workflow/rules/followup.smk"
include: "workflow/rules/report.smk"


report: landing_page()  # workflow/report/workflow.rst with the run's configuration hash and data date


rule all:
    input:
        all_outputs(),
        res("manifest.json"),
    default_target: True
