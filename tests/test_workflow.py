"""The workflow itself, without running it: lint, dry runs with each profile, and a rule's job from mock_snakemake."""

import os
from pathlib import Path

import pytest
import yaml

from risk.mock import mock_snakemake, script_main
from risk.runtime import rule_dask_settings
from tests.conftest import ROOT


def snakemake(capfd, *args) -> tuple[int, str]:
    """``snakemake <args>`` through its command line entry point, in this process (no second start-up of the
    science stack the Snakefile imports): exit code and output."""
    from snakemake.cli import main

    cwd = os.getcwd()
    capfd.readouterr()
    try:
        main(["--snakefile", str(ROOT / "Snakefile"), *args])
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    finally:
        os.chdir(cwd)
    out, err = capfd.readouterr()
    return code, out + err


def test_lint_is_clean(capfd):
    code, out = snakemake(capfd, "--lint", "--configfile", str(ROOT / "configs" / "config.yaml"),
                          "--directory", str(ROOT))
    assert code == 0, out


@pytest.fixture
def test_config(tmp_path) -> Path:
    """configs/test.yaml with its inputs, outputs and AOI moved to (or pointing from) ``tmp_path``."""
    text = (ROOT / "configs" / "test.yaml").read_text(encoding="utf-8").replace("data/demo_test", str(tmp_path / "demo"))
    cfg = yaml.safe_load(text)
    cfg.update(results_dir=str(tmp_path / "results"), aoi=str(ROOT / cfg["aoi"]))
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("profile", ["local", "slurm"])
@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")  # Snakemake's disk_mb of absent inputs
def test_dry_run_with_each_profile_lists_the_jobs(profile, test_config, capfd):
    code, out = snakemake(capfd, "-n", "--profile", str(ROOT / "profiles" / profile),
                          "--configfile", str(test_config), "--directory", str(test_config.parent))
    assert code == 0, out[-6000:]
    stats = out[out.index("Job stats:"):]
    counts = dict(line.split() for line in stats.splitlines()[3:] if len(line.split()) == 2)
    for rule in ("demo", "build_grid", "terrain", "indicators", "susceptibility", "index_model", "zoning",
                 "relief_access", "manifest"):
        assert rule in counts, stats
    assert int(counts["susceptibility"]) + int(counts["index_model"]) == 5  # one hazard model per hazard
    assert "dask_scheduler=threads" in out and "gdal_cachemax_mb=256" in out  # the profile's runtime resources
    assert "This was a dry-run" in out


def test_mock_snakemake_gives_a_raster_rules_job(tmp_path):
    sm = mock_snakemake("zoning", config={"results_dir": str(tmp_path / "r")})
    assert sm.rule == "zoning" and sm.threads == 1  # mostly serial work: two such jobs run side by side
    assert sm.input.grid == str(tmp_path / "r" / "grid" / "grid.json")
    assert sm.input.townships == str(ROOT / "data" / "demo_test" / "townships.gpkg")
    assert sm.output.tif[0] == str(tmp_path / "r" / "zoning" / "waterlogging.tif")
    assert sm.log[0] == str(tmp_path / "r" / "logs" / "zoning.log")
    assert (tmp_path / "r" / "zoning").is_dir() and (tmp_path / "r" / "logs").is_dir()
    assert sm.params.method == sm.config["zoning"]["method"]
    # the Dask session follows the rule's threads and resources (profiles/local), not the config
    assert sm.params.dask == {"scheduler": "threads", "n_workers": 1, "threads_per_worker": 1,
                              "gdal_cachemax_mb": 256, "gdal_num_threads": 1, "memory_limit": "2000MB"}
    assert sm.resources.mem_mb == 2000
    busy = mock_snakemake("terrain", config={"results_dir": str(tmp_path / "r")})  # keeps two cores busy
    assert busy.threads == busy.params.dask["n_workers"] == busy.params.dask["gdal_num_threads"] == 2
    assert busy.params.dask["memory_limit"] == f"{busy.resources.mem_mb // 2}MB"
    assert callable(script_main("zoning"))


def test_mock_snakemake_fills_wildcards_and_checks_them(tmp_path):
    cfg = {"results_dir": str(tmp_path / "r")}
    sm = mock_snakemake("susceptibility", config=cfg, hazard="geological")
    assert sm.wildcards.hazard == "geological" and sm.params.hazard == "geological"
    assert sm.output.hazard == str(tmp_path / "r" / "hazard" / "geological.tif")
    assert sm.input.presence == str(ROOT / "data" / "demo_test" / "events" / "geological_points.gpkg")
    assert sm.threads == sm.params.dask["n_workers"] == 1
    table = mock_snakemake("ingest_survey", config=cfg)
    assert table.threads == 1 and table.params.dask["n_workers"] == table.params.dask["gdal_num_threads"] == 1
    with pytest.raises(ValueError, match="does not make"):
        mock_snakemake("susceptibility", config=cfg, hazard="wind")  # an index hazard
    with pytest.raises(ValueError, match=r"needs the wildcards \['hazard'\]"):
        mock_snakemake("susceptibility", config=cfg)
    with pytest.raises(ValueError, match="rules: all, build_grid"):
        mock_snakemake("zonning", config=cfg)


def test_mock_snakemake_without_a_profile_uses_one_core(tmp_path):
    sm = mock_snakemake("terrain", config={"results_dir": str(tmp_path / "r")}, profile=None)
    assert sm.threads == 1
    assert sm.params.dask["n_workers"] == 1 and sm.params.dask["scheduler"] == "threads"


def test_dask_settings_from_threads_and_resources():
    s = rule_dask_settings(4, {"mem_mb": 8000, "dask_scheduler": "local", "gdal_cachemax_mb": 512})
    assert s == {"scheduler": "local", "n_workers": 4, "threads_per_worker": 1, "gdal_cachemax_mb": 512,
                 "gdal_num_threads": 4, "memory_limit": "2000MB"}
    assert rule_dask_settings(1, {}) == {"scheduler": "threads", "n_workers": 1, "threads_per_worker": 1,
                                    "gdal_cachemax_mb": 256, "gdal_num_threads": 1}
    with pytest.raises(ValueError, match="quote it twice"):
        rule_dask_settings(2, {"dask_scheduler": 2})  # a profile's unquoted `threads` evaluates to the thread count


def test_a_rules_script_runs_on_its_mocked_job(tmp_path):
    sm = mock_snakemake("build_grid", config={"results_dir": str(tmp_path / "r")})  # needs only the AOI
    script_main("build_grid")(sm)
    assert (tmp_path / "r" / "grid" / "grid.json").stat().st_size > 0
    assert (tmp_path / "r" / "grid" / "aoi_mask.tif").exists() and (tmp_path / "r" / "logs" / "build_grid.log").exists()
