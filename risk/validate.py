"""``risk validate``: a config and its inputs checked before anything runs, every problem reported at once."""

from __future__ import annotations

from pathlib import Path

SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"


def check(config_path, root: str | Path = ".") -> list[str]:
    """Every problem of a config file and the inputs it names, one line each (empty: ready to run).

    Checks: the config against the schema (each bad key named); every configured input exists and
    opens (rasters have a CRS, vector layers have features); every survey source is readable
    (:func:`risk.survey.readers.check_sources`). Inputs the demo rule will write (under ``demo.out``
    with ``demo.enabled``) may be missing.
    """
    from risk.config import ConfigError, load_yaml, validate_config

    root = Path(root)
    try:
        config = load_yaml(config_path)
    except (OSError, ValueError) as e:
        return [f"{config_path}: cannot be read ({e})"]
    if not isinstance(config, dict):
        return [f"{config_path}: expected a mapping of settings, got {type(config).__name__}"]
    problems = []
    try:
        validate_config(config, SCHEMA)
    except ConfigError as e:  # and go on: the inputs it names are checked all the same
        problems += [f"{config_path}: {line.strip()}" for line in str(e).splitlines()[1:]] or [str(e)]
    demo = config.get("demo") if isinstance(config.get("demo"), dict) else {}
    demo_out = Path(demo.get("out", "data/demo")) if demo.get("enabled") else None
    inputs = config.get("inputs") if isinstance(config.get("inputs"), dict) else {}
    for key, path in _inputs(inputs):
        p = root / path
        if not p.exists():
            if demo_out is None or not Path(path).is_relative_to(demo_out):
                problems.append(f"inputs.{key}: {path} does not exist")
            continue
        problems += _open_problem(key, p)
    survey = config.get("survey") if isinstance(config.get("survey"), dict) else {}
    sources = [s for s in survey.get("sources") or [] if isinstance(s, dict) and "path" in s]
    if sources and (demo_out is None or not all(Path(s["path"]).is_relative_to(demo_out) for s in sources)):
        from risk.survey import SurveyInputError, check_sources

        try:
            check_sources(sources, root)
        except SurveyInputError as e:
            problems += [f"survey.sources: {line.strip()}" for line in str(e).splitlines() if line.strip()]
    return problems


def _inputs(inputs: dict):
    for key, value in inputs.items():
        if isinstance(value, dict):
            yield from ((f"{key}.{k}", v) for k, v in value.items() if v)
        elif value:
            yield key, value


def _open_problem(key: str, path: Path) -> list[str]:
    suffix = path.suffix.lower()
    try:
        if suffix in (".tif", ".tiff", ".vrt", ".img", ".nc"):
            import rasterio

            with rasterio.open(path) as src:
                if src.crs is None:
                    return [f"inputs.{key}: {path} has no CRS; expected a georeferenced raster"]
        elif suffix in (".gpkg", ".geojson", ".shp", ".json", ".fgb"):
            import pyogrio

            from risk.io.vectors import data_layers

            for layer in data_layers(path):
                if pyogrio.read_info(path, layer=layer)["features"] == 0:
                    return [f"inputs.{key}: {path} layer {layer!r} has no features"]
        elif suffix == ".csv":
            import pandas as pd

            pd.read_csv(path, nrows=5, encoding="utf-8-sig")
    except Exception as e:  # any reader error is reported, not raised: every problem at once
        return [f"inputs.{key}: {path} cannot be opened ({type(e).__name__}: {e})"]
    return []
