"""Config validation: defaults filled, and errors that name the key."""

import copy
import re

import pytest

from risk import HAZARDS
from risk.config import ConfigError, load_config, load_yaml, validate_config
from tests.conftest import ROOT

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture
def demo_config():
    return load_config(ROOT / "configs" / "config.yaml", SCHEMA)


def test_demo_config_is_valid_and_defaults_are_filled(demo_config):
    assert demo_config["grid"]["crs"] == "EPSG:4549"
    assert "dask" not in demo_config  # runtime settings live in the profiles
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


def test_a_dask_section_is_named_and_sent_to_the_profile(demo_config):
    cfg = copy.deepcopy(demo_config)
    cfg["dask"] = {"scheduler": "threads", "n_workers": 2}
    with pytest.raises(ConfigError) as err:
        validate_config(cfg, SCHEMA)
    msg = str(err.value)
    assert msg.count("\n") == 1 and "dask: runtime settings moved to the Snakemake profile" in msg
    assert "set-threads" in msg and "dask_scheduler" in msg


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml", SCHEMA)


def _hazard_lists(node, path=""):
    """Every enum of the schema that names hazards, and every object whose keys are the hazards, with its path."""
    if isinstance(node, dict):
        if "wind" in node.get("enum", []):
            yield path, set(node["enum"])
        props = node.get("properties", {})
        if "wind" in props:
            yield path, set(props) - {"training", "index"}
        for key, sub in node.items():
            yield from _hazard_lists(sub, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for sub in node:
            yield from _hazard_lists(sub, path)


def test_every_hazard_list_of_the_schema_names_every_hazard():
    # Adding a hazard to risk.HAZARDS: this test lists the places of the schema that must name it too.
    found = dict(_hazard_lists(load_yaml(SCHEMA)))
    assert len(found) >= 6
    for path, names in found.items():
        assert set(HAZARDS) <= names and names - set(HAZARDS) <= {"multi_hazard", "comprehensive"}, path


@pytest.mark.parametrize("key, moved_to", [("weights", "indicator_index.weights"),
                                           ("multi_hazard", "indicator_index.multi_hazard"),
                                           ("exposure", "exposure")])
def test_a_moved_indicators_key_names_where_it_went(key, moved_to):
    from risk.config import moved_key_errors

    errors = moved_key_errors({"indicators": {key: {}}})
    assert len(errors) == 1 and errors[0].startswith(f"indicators.{key}: moved to") and moved_to in errors[0]


@pytest.mark.parametrize("text, message", [
    ("", "the config is empty"),
    ("{}\n", "the config is empty"),
    ("- a\n- b\n", "a mapping of keys"),
    ("__use_yte__: true\naoi: x\n", "templating (__use_yte__) is switched off"),
    ("aoi: [a\nsurvey: 1\n", "not valid YAML (line 2"),
])
def test_a_config_file_that_would_mislead_stops_with_the_reason(tmp_path, text, message):
    from risk.config import ConfigError, check_config_file

    path = tmp_path / "my.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_config_file(path)


def test_the_shipped_configs_pass_the_file_check():
    from risk.config import main

    assert main([str(ROOT / "configs" / "config.yaml"), str(ROOT / "configs" / "test.yaml")]) == 0


def test_each_area_gets_its_own_results_folder_by_default(tmp_path):
    from risk.config import main
    from risk.demo.generate import make_config

    sources = {"sources": [{"path": "x.csv", "category": "crane"}]}
    cfg = {"aoi": "a.geojson", "area_name": "喀左县 Kazuo", "survey": sources}
    assert validate_config(cfg, SCHEMA)["results_dir"] == "results/喀左县_Kazuo"
    assert validate_config({"aoi": "a", "survey": sources}, SCHEMA)["results_dir"] == "results/study_area"
    assert load_config(ROOT / "configs" / "config.yaml", SCHEMA)["results_dir"] == "results"  # the demo's own
    # a config that `risk demo --out data/kazuo` writes does not reuse the demo's results/
    assert make_config(tmp_path / "kazuo", "a.geojson", "Kazuo", 1, "EPSG:4549", 30, 1024)["results_dir"] == \
        "results/Kazuo"
    (tmp_path / "c.yaml").write_text("aoi: a.geojson\narea_name: 建平县\nsurvey: {sources: []}\n", encoding="utf-8")
    assert main(["--results-dir", str(tmp_path / "c.yaml")]) == 0


def test_the_input_checks_read_only_the_keys_their_rule_passes_them(demo_config, tmp_path):
    # rule validate_inputs passes validated_config(config) (common.smk): a scenario's measures must not rerun it
    import ast

    from risk.validate import check_inputs

    text = (ROOT / "workflow" / "rules" / "common.smk").read_text(encoding="utf-8")
    keys = ast.literal_eval(re.search(r"^VALIDATED_KEYS = (\(.*?\))$", text, flags=re.M)[1])
    read = set()

    class Spy(dict):
        def get(self, k, default=None):
            read.add(k)
            return super().get(k, default)

        def __getitem__(self, k):
            read.add(k)
            return super().__getitem__(k)

    full = check_inputs(Spy(demo_config), tmp_path)
    assert read and read <= set(keys), read - set(keys)
    assert [str(p) for p in check_inputs({k: demo_config[k] for k in keys}, tmp_path)] == [str(p) for p in full]
