"""Load and validate the run configuration against its JSON Schema.

The schema (``workflow/schemas/config.schema.yaml``) gives every key a description and a
default; :func:`validate_config` fills the defaults in place and turns the first violations into
one message that names the key (``survey.sources[2].category``), the value found and what was
expected, so an analyst can fix a config without reading a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import jsonschema
import yaml

from risk.errors import InputError


class ConfigError(InputError):
    """The configuration does not match the schema; the message names the key."""


def load_yaml(path) -> dict:
    """Read a YAML file (UTF-8) safely, with libyaml's loader where present (the schema: 10x faster)."""
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}  # noqa: S506 - safe


def check_config_file(path) -> dict:
    """Read a run's config file safely, refusing what would run code or silently do something else.

    * YAML is read with ``safe_load`` (no Python objects);
    * a file that asks for templating (``__use_yte__``, which Snakemake would evaluate as Python) is refused:
      a config holds settings, not code;
    * an empty file, or one that is not a mapping of keys, is an error rather than a silent fall-back to the demo.

    Raises
    ------
    ConfigError
        Naming the file and the line (YAML syntax errors) or what is wrong.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{where}: {getattr(e, 'problem', None) or e}") from None
    if data is None or data == {}:
        raise ConfigError(f"{path}: the config is empty; it needs at least `aoi` and `survey.sources` "
                          "(see configs/config.yaml)")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config is a mapping of keys (aoi: ..., survey: ...), "
                          f"not a {type(data).__name__}")
    if "__use_yte__" in data or "__use_yte__" in text:
        raise ConfigError(f"{path}: templating (__use_yte__) is switched off: a config holds settings, not code; "
                          "write the values out")
    return data


def or_stop(check, *args):
    """``check(*args)``; a :class:`ConfigError` stops the process with one line, ``error: <message>``, exit status 1.

    For the Snakefile's checks: Snakemake would print an error raised there with the Snakefile's stack.
    """
    try:
        return check(*args)
    except ConfigError as e:
        raise SystemExit(f"error: {e}") from None


def _with_defaults(validator_class):
    validate_props = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for prop, sub in properties.items():
                if isinstance(sub, Mapping) and "default" in sub and prop not in instance:
                    instance[prop] = _copy(sub["default"])
        yield from validate_props(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def _copy(value):
    import copy

    return copy.deepcopy(value)


_Validator = _with_defaults(jsonschema.Draft202012Validator)


def key_path(error: jsonschema.ValidationError) -> str:
    """Render an error's location as ``a.b[2].c`` (``<root>`` for the top level)."""
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


def _describe(error: jsonschema.ValidationError) -> str:
    where = key_path(error)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        where = f"{where}.{missing}" if where != "<root>" else missing
        return f"{where}: required key is missing"
    if error.validator == "additionalProperties":
        return f"{where}: {error.message} (check the spelling against the schema)"
    # a oneOf/anyOf branch has no description of its own: the key's
    expected = error.schema.get("description") or (error.parent.schema.get("description", "") if error.parent else "")
    found = repr(error.instance)
    if len(found) > 80:
        found = found[:77] + "..."
    msg = f"{where}: {found} is not valid: {error.message}"
    if expected:
        msg += f". Expected: {expected}"
    return msg


MOVED_KEYS = {
    "dask": "runtime settings moved to the Snakemake profile (profiles/<name>/config.yaml): a rule's Dask "
            "workers are its `threads` (set-threads), the scheduler and GDAL's cache are the resources "
            "`dask_scheduler` and `gdal_cachemax_mb` (default-resources / set-resources), the workers' memory "
            "is the rule's `mem_mb`. Delete the `dask:` section from the config",
}
"""Top-level keys that used to be config and now live elsewhere: key -> where it went."""

MOVED_INDICATOR_KEYS = {
    "weights": "moved to indicator_index.weights (the screening index of every hazard, hazard/index/)",
    "multi_hazard": "moved to indicator_index.multi_hazard",
    "exposure": "moved to the top-level section exposure (exposure.weights, exposure.transforms)",
    "flow_halo": "removed: flow routing is exact at any size now (tiles exchange their edges, no halo); "
                 "delete the key",
}
"""Keys of ``indicators`` that moved to their own sections: key -> where it went."""


def moved_key_errors(config: Mapping) -> list[str]:
    """One message per top-level key of ``config`` that has moved out of the config (see :data:`MOVED_KEYS`)."""
    errors = [f"{key}: {where}" for key, where in MOVED_KEYS.items() if key in config]
    indicators = config.get("indicators") or {}
    if isinstance(indicators, Mapping):
        errors += [f"indicators.{key}: {where}" for key, where in MOVED_INDICATOR_KEYS.items() if key in indicators]
    return errors


def default_results_dir(area_name: str | None) -> str:
    """Results folder of a config that names none: ``results/<area>``, so each area keeps its own results.

    >>> default_results_dir("凌源市 test clip")
    'results/凌源市_test_clip'
    """
    import re

    slug = re.sub(r"[^\w-]+", "_", str(area_name or "")).strip("_")
    return f"results/{slug or 'study_area'}"


def results_dir_of(config: dict) -> str:
    """The results folder a config writes to (its ``results_dir``, else :func:`default_results_dir`)."""
    return config.get("results_dir") or default_results_dir(config.get("area_name"))


def validate_config(config: dict, schema_path) -> dict:
    """Validate ``config`` in place (filling defaults) and return it.

    Raises
    ------
    ConfigError
        With one line per problem, each naming the key, e.g.
        ``grid.resolution: -30 is not valid: -30 is less than or equal to the minimum of 0``.
        A key that has moved out of the config (``dask``) is named with where it went.
    """
    moved = moved_key_errors(config)
    if moved:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(moved))
    schema = load_yaml(schema_path)
    validator = _Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if errors:
        lines = [_describe(e) for e in _best(errors)]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(dict.fromkeys(lines)))
    config["results_dir"] = results_dir_of(config)
    return config


def _best(errors):
    # For oneOf/anyOf failures show the most relevant sub-error instead of the whole blob.
    out = []
    for e in errors:
        if e.context:
            out.append(jsonschema.exceptions.best_match(e.context))
        else:
            out.append(e)
    return out


def load_config(path, schema_path) -> dict:
    """Read and validate a config file."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file not found: {path}")
    return validate_config(load_yaml(path), schema_path)


def main(argv=None) -> int:
    """``python -m risk.config CONFIG``: check a config file and its schema before Snakemake reads it
    (``python -m risk.config --results-dir CONFIG`` prints where its results go).

    Snakemake evaluates a config's templating and stops on YAML errors without a line number; the Makefile
    runs this first so that those stop with one clear line.
    """
    import sys

    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--results-dir"]:  # the Makefile asks where a config's results go
        print(results_dir_of(load_yaml(args[1])))
        return 0
    schema = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"
    try:
        for path in args:
            validate_config(check_config_file(path), schema)
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
