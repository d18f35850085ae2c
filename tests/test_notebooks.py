"""The reviewers' notebooks: parameters injected papermill-style, figures counted, sources clean."""

import json

import nbformat
import pytest

from risk.io.notebooks import count_images, inject_parameters
from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def test_parameters_go_after_the_parameters_cell_and_replace_an_earlier_injection():
    params = nbformat.v4.new_code_cell("results = None", metadata={"tags": ["parameters"]})
    nb = _nb(nbformat.v4.new_markdown_cell("# t"), params, nbformat.v4.new_code_cell("print(results)"))
    inject_parameters(nb, {"results": "/r", "area_name": "某县"})
    inject_parameters(nb, {"results": "/r2", "area_name": "某县"})
    assert [c.metadata.get("tags", []) for c in nb.cells][1:3] == [["parameters"], ["injected-parameters"]]
    assert len(nb.cells) == 4
    assert "results = '/r2'\narea_name = '某县'" in nb.cells[2].source


def test_count_images_counts_png_outputs_only():
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "AAA", "text/plain": "<Figure>"}),
                    nbformat.v4.new_output("execute_result", data={"text/plain": "1"}, execution_count=1),
                    nbformat.v4.new_output("stream", text="hi")]
    assert count_images(_nb(cell, nbformat.v4.new_markdown_cell("![x](y.png)"))) == 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_sources_are_clean_and_take_parameters(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [c for c in code if c.outputs or c.execution_count], "outputs are stripped in the repository"
    assert "parameters" in code[0].metadata.get("tags", []) and "results = None" in code[0].source
    text = json.dumps([c.source for c in nb.cells], ensure_ascii=False)
    assert "凌源" not in text  # the title comes from the run's area
    assert "matplotlib.use" not in text and "%matplotlib inline" in text

