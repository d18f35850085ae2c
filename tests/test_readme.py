"""The README's commands work as typed after `make setup`: no bare python/snakemake/risk that the set-up does
not put on the PATH."""

import re

from tests.conftest import ROOT


def _commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    spans = re.findall(r"`([^`\n]+)`", text)
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    lines = [ln.split("#")[0].strip() for b in blocks for ln in b.splitlines()]
    return [c.strip() for c in spans + lines if c.strip()]


def test_every_command_names_the_venv_or_make():
    bare = [c for c in _commands() if re.match(r"(python3?|snakemake|risk|pytest|jupyter)\s", c)]
    assert not bare, bare


def test_the_own_county_walkthrough_ends_with_the_command_that_runs_everything():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Your own county"):text.index("## Survey inputs")]
    steps = re.findall(r"^\d+\. \*\*(.+?)\*\*", section, flags=re.M)
    assert steps[0].startswith("Area") and steps[-1].startswith("Everything")
    assert section.index("risk demo") < section.index("risk validate") < section.rindex("risk run --config my.yaml")
