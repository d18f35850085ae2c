# Helpers shared by every rules file, with result paths and input functions (no lambdas in rules).
from pathlib import Path

from risk import HAZARDS

RESULTS = Path(config["results_dir"])
LOGS = RESULTS / "logs"
BENCH = RESULTS / "benchmarks"


def res(*parts):
    """A path under the results folder, as a string."""
    return str(RESULTS.joinpath(*parts))


def dask_params():
    return config["dask"]


def _unset(key):
    # Rules are parsed even when a survey-only config leaves `inputs` empty. An unset input becomes
    # this path, which exists nowhere: only if a requested output needs it does Snakemake stop, with
    # "Missing input files ... affected files: <config key inputs.dem is not set>".
    return f"<config key {key} is not set>"


def input_path(key):
    """Path of a configured input (a self-explaining missing path when it is not configured)."""
    return config["inputs"].get(key) or _unset(f"inputs.{key}")


def event_path(hazard):
    """Training events of a hazard (a self-explaining missing path when not configured)."""
    return config["inputs"].get("events", {}).get(hazard) or _unset(f"inputs.events.{hazard}")


def has_inputs():
    return bool(config["inputs"].get("dem"))


def survey_source_paths():
    return [s["path"] for s in config["survey"]["sources"]]


def provenance_inputs():
    """Every input file of the run, for the manifest."""
    paths = [config["aoi"], *survey_source_paths()]
    paths += [v for k, v in config["inputs"].items() if k != "events" and v]
    paths += list(config["inputs"].get("events", {}).values())
    return paths


def demo_outputs():
    """Every configured input file that the demo rule writes (those under demo.out)."""
    if not config["demo"]["enabled"]:
        return []
    out = Path(config["demo"]["out"])
    paths = [v for k, v in config["inputs"].items() if k != "events" and v]
    paths += list(config["inputs"].get("events", {}).values())
    paths += survey_source_paths()
    return sorted({p for p in paths if Path(p).is_relative_to(out)})


STAGE_OUTPUTS = []
"""Each stage's rule file appends the outputs it contributes to the default target."""

ZONED = list(HAZARDS) + ["multi_hazard"]


def all_outputs():
    """The default target: everything the configured inputs allow."""
    outs = [res("survey", "survey.gpkg"), res("survey", "ingest_report.csv")]
    if has_inputs():
        outs += STAGE_OUTPUTS
    return outs
