"""Config validation: defaults filled, and errors that name the key."""

import copy

import pytest

from risk.config import ConfigError, load_config, validate_config
from tests.conftest import ROOT

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture
def demo_config():
    return load_config(ROOT / "configs" / "config.yaml", SCHEMA)


def test_demo_config_is_valid_and_defaults_are_filled(demo_config):
    assert demo_config["grid"]["crs"] == "EPSG:4549"
    assert demo_config["dask"]["scheduler"] == "threads"
    assert demo_config["zoning"]["method"] in ("natural_breaks", "quantiles", "equal_interval", "std_mean", "fixed")


def test_minimal_survey_only_config_is_valid():
    cfg = {"aoi": "a.geojson", "results_dir": "out", "survey": {"sources": [{"path": "x.csv",
                                                                            "category": "crane"}]}}
    validate_config(cfg, SCHEMA)
    assert cfg["survey"]["sources"][0]["encoding"] == "auto"
    assert cfg["inputs"] == {"events": {}}


@pytest.mark.parametrize(
    ("patch", "needle"),
    [
        ({"grid": {"resolution": -30}}, "grid.resolution"),
        ({"grid": {"crs": "4549"}}, "grid.crs"),
        ({"survey": {"sources": [{"path": "a.csv", "category": "bridge"}]}}, "survey.sources[0].category"),
        ({"survey": {"sources": [{"path": "a.csv", "category": "crane", "coords": "baidu"}]}},
         "survey.sources[0].coords"),
        ({"survey": {"sources": [{"category": "crane"}]}}, "survey.sources[0].path"),
        ({"zoning": {"method": "jenks"}}, "zoning.method"),
        ({"resluts_dir": "x"}, "resluts_dir"),
    ],
)
def test_errors_name_the_key(demo_config, patch, needle):
    cfg = copy.deepcopy(demo_config)
    cfg.update(patch)
    with pytest.raises(ConfigError) as err:
        validate_config(cfg, SCHEMA)
    assert needle in str(err.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml", SCHEMA)
