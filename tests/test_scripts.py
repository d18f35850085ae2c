"""Every rule's script imports cleanly, has a ``main(snakemake)``, and stays thin (<= 25 statements)."""

import runpy
from pathlib import Path

import pytest

from tests.conftest import load_file

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "workflow" / "scripts").glob("*.py"))


def _script_size():
    return load_file("bench/script_size.py")


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_script_imports_and_has_main(path):
    ns = runpy.run_path(str(path), run_name="not_main")
    assert callable(ns.get("main")), f"{path.name} has no main(snakemake)"


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_script_is_thin(path):
    n = _script_size().own_statements(path)
    assert n <= 25, f"{path.name}: {n} statements of its own (at most 25: move the logic into risk/)"


def test_every_rule_has_its_script():
    rules = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "workflow" / "rules").glob("*.smk"))
    for path in SCRIPTS:
        assert f'"../scripts/{path.name}"' in rules, f"{path.name} is not any rule's script"
