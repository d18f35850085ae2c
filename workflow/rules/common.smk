# Helpers shared by every rules file, with result paths and input functions (no lambdas in rules).
from pathlib import Path

from risk import HAZARDS
from risk.runtime import rule_dask_settings

RESULTS = Path(config["results_dir"])
REPO = Path(workflow.basedir)  # the repository (where the Snakefile is), for its own files when run elsewhere
LOGS = RESULTS / "logs"
BENCH = RESULTS / "benchmarks"


def res(*parts):
    """A path under the results folder, as a string."""
    return str(RESULTS.joinpath(*parts))


# -- runtime: threads, Dask and GDAL of each job, from the profile; nothing here changes a result ----------
RASTER_THREADS = 2
"""Threads of the Dask-computing steps that keep two cores busy (terrain, indicators, class_stability), i.e. their
Dask workers. To give one step more, use the profile's set-threads (profiles/*/config.yaml), not this number."""
SIDE_BY_SIDE_THREADS = 1
"""Threads of the other raster steps: their work is mostly serial (writing and compressing COGs, maps, model
fits; 1.1-1.6 CPU-s per wall-s with two Dask threads in bench/bench_dag.py), so one thread each lets Snakemake
run two of them side by side on a 2-core workstation. A large area may give them more with set-threads."""


def dask_params(wildcards, threads, resources):
    """params.dask: the Dask session of a job, from its threads and resources (risk.runtime.rule_dask_settings)."""
    return rule_dask_settings(threads, resources)


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


def landing_page():
    """The report's landing page (workflow/report/workflow.rst) with this run's configuration hash and data date.

    Snakemake renders the page with the config only, so the two figures are filled in here, into a copy in the
    temporary folder (nothing is written under the results folder when the workflow is parsed).
    """
    import hashlib
    import tempfile

    from risk.io import write_text
    from risk.io.manifest import config_hash, data_date

    digest = config_hash(config)
    text = Path(workflow.source_path("../report/workflow.rst")).read_text(encoding="utf-8")
    text = text.replace("@CONFIG_SHA256@", digest).replace("@DATA_DATE@", data_date(provenance_inputs()))
    page = Path(tempfile.gettempdir()) / f"risk-report-{hashlib.sha256(text.encode()).hexdigest()[:20]}.rst"
    if not page.exists():
        write_text(text, page)  # atomic: several parses may race
    return str(page)


def all_outputs():
    """The default target: everything the configured inputs allow."""
    outs = [res("survey", "survey.gpkg"), res("survey", "ingest_report.csv")]
    if has_inputs():
        outs += STAGE_OUTPUTS
    return outs


# -- models stage (models.smk): hazard modes, features and presences per hazard -------------------
from risk.hazard.layer_names import indicator_names
from risk.models.feature_settings import check_weight_settings, feature_spec

MODEL_HAZARDS = [h for h in HAZARDS if config["hazards"][h]["mode"] == "model"]
INDEX_HAZARDS = [h for h in HAZARDS if config["hazards"][h]["mode"] == "index"]
NEVER = "(?!x)x"  # a wildcard constraint that matches nothing (an empty hazard list)


def hazard_features(hazard):
    """{feature key (path under indicators/): spec} of a hazard, in the configured order."""
    hc = config["hazards"][hazard]
    feats = hc["features"] or indicator_names(hazard)
    specs = [feature_spec(hazard, f, hc["directions"]) for f in feats]
    return {s.pop("key"): s for s in specs}


def feature_paths(wildcards):
    return [res("indicators", f"{k}.tif") for k in hazard_features(wildcards.hazard)]


def hazard_settings(wildcards):
    hc = dict(config["hazards"][wildcards.hazard])
    hc["features"] = hazard_features(wildcards.hazard)
    return hc


def presence_path(wildcards):
    if config["hazards"][wildcards.hazard]["presence"] == "survey":
        return res("survey", "survey.gpkg")
    return event_path(wildcards.hazard)


def presence_layer(wildcards):
    return wildcards.hazard if config["hazards"][wildcards.hazard]["presence"] == "survey" else None


def presence_desc(wildcards):
    h = wildcards.hazard
    if config["hazards"][h]["presence"] == "survey":
        return f"survey database, layer {h}"
    return f"inputs.events.{h}: {event_path(h)}"


def stability_indicator_keys():
    """Indicator keys of every hazard (an index hazard's risk is recomputed from them in each draw)."""
    return list(dict.fromkeys(k for h in HAZARDS for k in hazard_features(h)))


def stability_indicators():
    return [res("indicators", f"{k}.tif") for k in stability_indicator_keys()]


def check_hazard_settings():
    """Stop before any work when an AHP matrix is inconsistent (CR >= 0.1) or does not fit the features."""
    for h in HAZARDS:
        check_weight_settings(h, config["hazards"][h], len(hazard_features(h)))


check_hazard_settings()


# -- publish stage (publish.smk): what goes into the QGIS project and gets a style ---------------------------
def published_rasters():
    """Every raster of the default target, plus the hazard rasters and the study-area mask."""
    tifs = [o for o in STAGE_OUTPUTS if o.endswith(".tif")]
    tifs += expand(res("hazard", "{hazard}.tif"), hazard=HAZARDS) + [res("grid", "aoi_mask.tif")]
    return sorted(set(tifs))


def published_vectors():
    return sorted({o for o in STAGE_OUTPUTS if o.endswith(".gpkg")} | {res("survey", "survey.gpkg")})


ZONING_CATEGORY = "Risk zoning 风险区划"  # per hazard (subcategory): hazard zoning beside risk zoning; validation


def zoning_subcategory(name):
    """Report subcategory of a hazard's zoning maps: its hazard zoning and its risk zoning side by side."""
    from risk import HAZARD_LABELS

    zh, en = HAZARD_LABELS.get(name, (name, name))
    return f"{zh} {en}"


# -- report stage (report.smk): the reviewers' notebooks and what each reads ------------------------------
NOTEBOOK_STAGES = {
    "01_survey": ("survey",),
    "02_indicators": ("indicators", "hazard/index"),
    "03_models": ("models", "hazard"),
    "04_risk_zoning": ("risk", "zoning", "points", "validation", "uncertainty", "figures"),
    "05_capacity_access": ("capacity", "shelters", "access", "targets"),
}


def notebook_inputs(wildcards):
    """The outputs a notebook reads: those of its stages (never another notebook, report or project)."""
    stages = NOTEBOOK_STAGES[wildcards.notebook]
    outs = [o for o in all_outputs() if not o.endswith((".html", ".ipynb", ".qgz", ".qml", ".aux.xml"))]
    own = [o for o in outs if Path(o).relative_to(RESULTS).as_posix().startswith(stages)]
    return sorted(set(own) | ({res("zoning", "townships.gpkg")} & set(outs)))


def notebooks_of_run():
    """Every notebook whose stage this run makes (the survey one always)."""
    made = {Path(o).relative_to(RESULTS).parts[0] for o in all_outputs()}
    return [n for n, stages in NOTEBOOK_STAGES.items() if any(s.split("/")[0] in made for s in stages)]


# -- follow-up stage (followup.smk): the earlier survey round ---------------------------------------------------
def check_followup(fu):
    """Stop before any work when a comparison is asked for without the dates it needs."""
    missing = [k for k in ("date", "previous_date") if not fu[k]]
    if missing:
        raise ValueError("followup.previous is set, so followup." + " and followup.".join(missing)
                         + " must be given too (YYYY-MM-DD): days open are counted between the rounds")


VALIDATED_KEYS = ("aoi", "grid", "inputs", "survey", "input_checks", "landcover_classes", "targets")
"""The config keys risk.validate.check_inputs reads (tests/test_config.py checks the list against it)."""


def validated_config(cfg):
    """The part of the config the input checks read: a change elsewhere (results_dir, a scenario's measures, a
    weight) does not rerun them, and so does not rerun every rule that waits for them."""
    return {k: cfg[k] for k in VALIDATED_KEYS if k in cfg}


def rectification_params(cfg):
    """What rectifying a point does, for the categories the scenario rectifies only (a base run's params: {})."""
    wanted = [c for c, ids in cfg["scenario"]["rectified"].items() if ids]
    return {c: v for c, v in cfg["vulnerability"]["rectification"].items() if c in wanted}


def previous_survey_path(previous):
    """The earlier round's survey database: `previous` itself, or survey/survey.gpkg of a results folder."""
    p = Path(previous)
    return str(p / "survey" / "survey.gpkg") if p.is_dir() or p.suffix != ".gpkg" else str(p)


def previous_history_path(previous):
    """The earlier run's own point history when `previous` is a results folder that has one (else none).

    changes/point_history.csv; a results folder written before it existed has changes/register_history.csv.
    """
    for name in ("point_history.csv", "register_history.csv"):
        p = Path(previous) / "changes" / name
        if p.is_file():
            return [str(p)]
    return []
