"""Validation at the door: a config and every input it names checked before any rule does work.

:func:`check_inputs` puts a (schema-validated) config's inputs through the checks of :mod:`risk.checks`:
every raster for its CRS, its coverage of the study area, unmasked nodata and physically plausible values (land
cover: known codes); every vector layer for emptiness, geometry type, validity and extent (townships: they cover
the area, none has zero area, none overlaps another or shares its code or name; shelters and settlements: no
negative capacity or population); the capacity table, the yearly statistics and the
disaster record (missing townships, non-numeric cells, each named with its line and column); the survey files;
the grid's CRS against the area. The rule ``validate_inputs`` runs it first and every other rule waits for it;
``risk validate`` (:func:`check_all`) runs it on a config file, nothing else. Errors are all listed at once;
warnings go to ``<results>/validation_warnings.csv`` and the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from risk.checks import ERROR, WARNING, Problem, errors

SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"

RASTERS = {"dem": "m", "landcover": "", "population": "persons per cell", "rain_max24h": "mm", "pga": "g",
           "wind50": "m/s"}
"""Raster inputs and their units."""

VECTORS = {
    "rivers": (("line", "polygon"), False, ": the distance to rivers would be the same everywhere"),
    "roads": (("line",), False, ": the distance to roads and the relief travel times would ignore roads"),
    "settlements": (("point",), True, ""),
    "townships": (("polygon",), True, ""),
    "shelters": (("point",), False, ": no existing shelter is counted"),
    "shelter_candidates": (("point",), False, ": no new shelter site can be proposed"),
    "depots": (("point",), True, ""),
}
"""Vector inputs: geometry kinds allowed, whether an empty layer is an error, what an empty one would mean."""

CAPACITY_FIELDS = {"shelters": "capacity", "shelter_candidates": "capacity", "settlements": "population"}
"""Vector inputs with a count field that must be a number >= 0."""



def default_checks() -> dict:
    """The schema's defaults of ``input_checks`` (a config's own values override them key by key)."""
    from risk.config import load_yaml

    props = load_yaml(SCHEMA)["properties"]["input_checks"]["properties"]
    return {k: v["default"] for k, v in props.items()}


def check(config_path, root: str | Path = ".") -> list[str]:
    """Every error of a config file and the inputs it names, one line each (empty: ready to run)."""
    return [str(p) for p in errors(check_all(config_path, root))]


def check_all(config_path, root: str | Path = ".") -> list[Problem]:
    """Every problem (errors and warnings) of a config file and the inputs it names.

    The config is read safely and checked against the schema (each bad key named), then
    :func:`check_inputs`. Inputs the demo rule will write (under ``demo.out`` with ``demo.enabled``) may be
    missing.
    """
    from risk.config import ConfigError, check_config_file, validate_config

    root = Path(root)
    try:
        config = check_config_file(config_path)
    except (ConfigError, OSError, UnicodeDecodeError) as e:
        return [Problem(str(config_path), "config", ERROR, f"{config_path}: cannot be used ({e})")]
    problems = []
    try:
        validate_config(config, SCHEMA)
    except ConfigError as e:  # and go on: the inputs it names are checked all the same
        lines = [ln.strip() for ln in str(e).splitlines()[1:]] or [str(e)]
        problems += [Problem(str(config_path), "config", ERROR, f"{config_path}: {ln}") for ln in lines]
    demo = config.get("demo") if isinstance(config.get("demo"), dict) else {}
    demo_out = Path(demo.get("out", "data/demo")) if demo.get("enabled") else None
    return problems + check_inputs(config, root, demo_out)


def _inputs(inputs: Mapping):
    for key, value in inputs.items():
        if isinstance(value, dict):
            yield from ((f"{key}.{k}", v) for k, v in value.items() if v)
        elif value:
            yield key, value


def check_inputs(config: Mapping, root: str | Path = ".", may_be_missing: str | Path | None = None) -> list[Problem]:
    """Every problem of the inputs a config names (see the module's docstring); errors and warnings.

    Parameters
    ----------
    config : mapping
        The run's config (schema-validated: defaults filled).
    root : path
        Folder relative paths start from.
    may_be_missing : path, optional
        Inputs under this folder are skipped when they do not exist yet (the demo rule writes them).
    """
    from risk.checks import grid_crs_problems

    root = Path(root)
    defaults = default_checks()
    settings = {**defaults, **(config.get("input_checks") or {})}
    settings["ranges"] = {**defaults["ranges"], **(settings["ranges"] or {})}  # a layer's range replaces its own
    inputs = config.get("inputs") if isinstance(config.get("inputs"), Mapping) else {}
    problems: list[Problem] = []
    present: dict[str, Path] = {}
    for key, path in _inputs(inputs):
        p = root / path
        if p.exists():
            present[key] = p
        elif may_be_missing is None or not Path(path).is_relative_to(may_be_missing):
            problems.append(Problem(str(path), "exists", ERROR, f"inputs.{key}: {path} does not exist"))
    aoi = _read_aoi(config, root, problems)
    grid = config.get("grid") if isinstance(config.get("grid"), Mapping) else {}
    if aoi is not None and isinstance(grid.get("crs"), str):
        c = aoi.to_crs("OGC:CRS84").geometry.union_all().centroid
        problems += grid_crs_problems(grid["crs"], c.x, c.y, settings["max_meridian_offset_deg"])
    for key, path in present.items():
        problems += _check_input(key, path, aoi, config, settings, present)
    return problems + _survey_problems(config, root, may_be_missing)


def _read_aoi(config, root: Path, problems: list):
    from risk.io import read_aoi

    path = config.get("aoi")
    if not isinstance(path, str):
        return None
    try:
        aoi = read_aoi(root / path)
    except Exception as e:  # noqa: BLE001 - any reader error is one finding, reported with the others
        problems.append(Problem(path, "aoi", ERROR, f"aoi: {path} cannot be used as the study area ({e})"))
        return None
    if aoi.to_crs(aoi.estimate_utm_crs()).area.sum() <= 0:
        problems.append(Problem(path, "aoi", ERROR, f"aoi: {path} has no area; it needs a polygon"))
        return None
    return aoi


def _check_input(key, path: Path, aoi, config, settings, present) -> list[Problem]:
    suffix = path.suffix.lower()
    try:
        if suffix in (".tif", ".tiff", ".vrt", ".img", ".nc"):
            return _raster_problems(key, path, aoi, config, settings)
        if suffix in (".gpkg", ".geojson", ".shp", ".json", ".fgb"):
            return _vector_problems(key, path, aoi, config, settings)
        if key == "capacity":
            return _capacity_table_problems(path, present.get("townships"))
        if key == "yearly_statistics":
            return _statistics_problems(path, config)
        if key == "disasters":
            return _record_problems(path)
        if suffix == ".csv":
            import pandas as pd

            pd.read_csv(path, nrows=5, encoding="utf-8-sig")
    except Exception as e:  # noqa: BLE001 - any reader error is reported, not raised: every problem at once
        return [Problem(str(path), "open", ERROR, f"inputs.{key}: {path} cannot be opened ({type(e).__name__}: {e})")]
    return []


def _raster_problems(key, path: Path, aoi, config, settings) -> list[Problem]:
    from risk.checks import code_problems, coverage_problems, range_problems, range_settings
    from risk.io.inputs import cells_outside, sample_in_area, unknown_codes

    if aoi is None:
        import rasterio

        with rasterio.open(path) as src:
            crs = src.crs
        return [] if crs is not None else [Problem(str(path), "crs", ERROR, f"inputs.{key}: {path} has no CRS; "
                                                   "expected a georeferenced raster")]
    values, crs = sample_in_area(path, aoi, int(settings["sample_cells"]))
    if crs is None:
        return [Problem(str(path), "crs", ERROR, f"inputs.{key}: {path} has no CRS; expected a georeferenced raster")]
    label = f"inputs.{key} ({path})"
    out = coverage_problems(values, str(path), label, float(settings["min_coverage"]))
    if key == "landcover":
        codes = [int(c) for c in (config.get("landcover_classes") or {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0})]
        out += code_problems(values, str(path), label, codes, every_cell=unknown_codes(path, aoi, codes))
    ranges = range_settings(settings["ranges"])
    if key in ranges:
        every_cell = cells_outside(path, aoi, *ranges[key])  # a lone unmasked cell falls between the sample's points
        out += range_problems(values, str(path), label, ranges[key], RASTERS.get(key, ""), every_cell)
    return out


def _vector_problems(key, path: Path, aoi, config, settings) -> list[Problem]:
    from risk.checks import nonnegative_field_problems, repair_polygons, townships_problems, vector_problems
    from risk.io.vectors import read_vector

    gdf = read_vector(path, repair=False)
    base = key.split(".")[0]
    kinds, required, consequence = VECTORS.get(base, (("point",), False, ": no training events for this hazard"))
    _, repaired = repair_polygons(gdf)
    area = None
    if aoi is not None:
        area = aoi.to_crs(gdf.crs).geometry.union_all() if gdf.crs is not None else None
    label = f"inputs.{key} ({path})"
    out = vector_problems(gdf, str(path), label, kinds, required=required, empty_consequence=consequence,
                          repaired=repaired, aoi=area)
    if errors(out) or len(gdf) == 0:
        return out
    if base == "townships" and aoi is not None:
        from risk.capacity.layers import require_fields
        from risk.errors import InputError

        try:
            require_fields(gdf, ("code", "name"), str(path), "townships")
        except InputError as e:
            out.append(Problem(str(path), "field", ERROR, str(e)))
        crs = aoi.estimate_utm_crs()  # areas in metres whatever grid.crs is (it is checked on its own)
        towns = read_vector(path, crs=crs)
        out += townships_problems(towns, aoi.to_crs(crs).geometry.union_all(), str(path),
                                  float(settings["min_coverage"]), label)
    if base in CAPACITY_FIELDS:
        out += nonnegative_field_problems(gdf, CAPACITY_FIELDS[base], str(path), label)
    return out


def _capacity_table_problems(path: Path, townships_path: Path | None) -> list[Problem]:
    from risk.capacity.capacity_index import validate_capacity_table
    from risk.checks import message_problems
    from risk.errors import InputError
    from risk.io.tables import read_text_table
    from risk.io.vectors import read_vector

    if townships_path is None:
        return []
    towns = read_vector(townships_path)
    if not {"code", "name"} <= set(towns.columns) or len(towns) == 0:
        return []  # named by the townships check
    towns = towns.assign(code=towns["code"].astype(str))
    try:
        validate_capacity_table(read_text_table(path), towns, source=str(path))
    except InputError as e:
        return message_problems(str(e), str(path), "table")
    return []


def _statistics_problems(path: Path, config) -> list[Problem]:
    from risk.capacity.plan_targets import needed_columns, validate_statistics
    from risk.checks import message_problems
    from risk.errors import InputError
    from risk.io.tables import read_text_table

    targets = (config.get("targets") or {}).get("indicators")
    try:
        validate_statistics(read_text_table(path), needed_columns(targets) if targets else None, source=str(path))
    except InputError as e:
        return message_problems(str(e), str(path), "table")
    return []


def _record_problems(path: Path) -> list[Problem]:
    from risk.assessment.risk_validation import parse_record
    from risk.checks import message_problems
    from risk.errors import InputError
    from risk.io.tables import read_text_table

    try:
        parse_record(read_text_table(path), str(path))
    except InputError as e:
        return message_problems(str(e), str(path), "table")
    return []


def _survey_problems(config, root: Path, may_be_missing) -> list[Problem]:
    from risk.checks import message_problems

    survey = config.get("survey") if isinstance(config.get("survey"), Mapping) else {}
    sources = [s for s in survey.get("sources") or [] if isinstance(s, dict) and "path" in s]
    if not sources or (may_be_missing is not None
                       and all(Path(s["path"]).is_relative_to(may_be_missing) for s in sources)):
        return []
    from risk.survey import SurveyInputError, check_sources

    try:
        check_sources(sources, root)
    except SurveyInputError as e:
        return [Problem(p.file, p.check, p.severity, f"survey.sources: {p.message}")
                for p in message_problems(str(e), "survey.sources", "survey")]
    return []


def warnings_of(problems) -> list[Problem]:
    """The problems that do not stop the run (they go to ``validation_warnings.csv``)."""
    return [p for p in problems if p.severity == WARNING]
