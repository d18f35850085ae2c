"""The ``risk`` command line: run, demo, validate."""

import pytest
import yaml

from risk.__main__ import build_parser, main
from tests.conftest import ROOT


def test_help_offers_run_demo_and_validate(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(c in out for c in ("run", "demo", "validate"))


def test_validate_the_shipped_configs(capsys):
    for cfg in ("configs/config.yaml", "configs/test.yaml"):
        assert main(["validate", str(ROOT / cfg), "--root", str(ROOT)]) == 0
    assert "usable" in capsys.readouterr().out


def test_validate_reports_every_problem_at_once(tmp_path, capsys):
    cfg = yaml.safe_load((ROOT / "configs" / "test.yaml").read_text(encoding="utf-8"))
    cfg["grid"]["resolution"] = "thirty"
    cfg["demo"]["enabled"] = False
    cfg["inputs"]["dem"] = str(tmp_path / "nowhere.tif")
    (tmp_path / "bad.tif").write_bytes(b"not a tiff")
    cfg["inputs"]["pga"] = str(tmp_path / "bad.tif")
    cfg["survey"]["sources"] = [{"path": str(tmp_path / "missing.csv"), "category": "crane"}]
    path = tmp_path / "my.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    assert main(["validate", str(path), "--root", str(ROOT)]) == 1
    err = capsys.readouterr().err
    assert "grid.resolution: 'thirty' is not valid" in err
    assert f"inputs.dem: {tmp_path / 'nowhere.tif'} does not exist" in err
    assert "inputs.pga:" in err and "cannot be opened" in err
    assert "missing.csv" in err


def test_run_builds_the_snakemake_call(monkeypatch):
    calls = []

    class Done:
        returncode = 0

    monkeypatch.setattr("subprocess.run", lambda cmd, **kw: calls.append(cmd) or Done())
    assert main(["run", "--config", str(ROOT / "configs" / "test.yaml"), "-n"]) == 0
    cmd = calls[0]
    assert cmd[1:3] == ["-m", "snakemake"] and "-n" in cmd
    assert str(ROOT / "profiles" / "local") in cmd and str(ROOT / "configs" / "test.yaml") in cmd
    assert "--report" not in cmd  # a dry run writes nothing
    assert build_parser().parse_args(["run"]).cores == 2

    # a real run: one Snakemake process, the report written after the run succeeded, where the config's results go
    calls.clear()
    assert main(["run", "--config", str(ROOT / "configs" / "test.yaml")]) == 0
    (cmd,) = calls
    assert cmd[cmd.index("--report") + 1] == str(ROOT / "results_test" / "report.html")
    assert "--report-after-run" in cmd and "-n" not in cmd
    calls.clear()
    assert main(["run", "--config", str(ROOT / "configs" / "test.yaml"), "--no-report"]) == 0
    assert "--report" not in calls[0]
    calls.clear()  # some targets only: the whole run's report is not replaced by theirs
    assert main(["run", "--config", str(ROOT / "configs" / "test.yaml"), "results_test/grid/grid.json"]) == 0
    assert "--report" not in calls[0] and "results_test/grid/grid.json" in calls[0]
