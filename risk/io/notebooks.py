"""Execute the reviewers' notebooks on a run's results and write them as HTML (nbclient, nbconvert).

The parameter convention is papermill's: the cell tagged ``parameters`` holds the defaults, and a cell
tagged ``injected-parameters`` inserted after it overrides them.
"""

from __future__ import annotations

import os
from pathlib import Path


def inject_parameters(nb, params: dict):
    """Insert a cell that sets ``params`` after the notebook's ``parameters`` cell (or first); returns ``nb``."""
    import nbformat

    src = "# Parameters of this run (injected)\n" + "".join(f"{k} = {v!r}\n" for k, v in params.items())
    cell = nbformat.v4.new_code_cell(src, metadata={"tags": ["injected-parameters"]})
    cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    at = next((i + 1 for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])), 0)
    cell.id = "injected-parameters"
    nb.cells = cells[:at] + [cell] + cells[at:]
    return nb


def count_images(nb) -> int:
    """How many figures (``image/png`` outputs) the executed notebook shows."""
    return sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def execute(path, params: dict | None = None, cwd=None, timeout: int | None = None):
    """Run a notebook in a fresh Python kernel and return it with its outputs (raises on a failing cell)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    if params:
        inject_parameters(nb, params)
    env_backend = os.environ.pop("MPLBACKEND", None)  # the kernel picks its inline backend itself
    try:
        # an hour (not nbclient's 60 s) for the kernel to start on a loaded machine; no timestamps recorded;
        # the kernel stopped at once when the last cell is done (every output is in by then), not asked to
        # shut down and waited for (about a second)
        NotebookClient(nb, timeout=timeout, startup_timeout=3600, kernel_name="python3", record_timing=False,
                       shutdown_kernel="immediate",
                       resources={"metadata": {"path": str(cwd or Path(path).parent)}}).execute()
    finally:
        if env_backend is not None:
            os.environ["MPLBACKEND"] = env_backend
    return nb


def to_ipynb(nb) -> str:
    """The executed notebook as ``.ipynb`` text (outputs kept: opens in Jupyter without running it)."""
    import nbformat

    return nbformat.writes(nb)


def to_html(nb) -> str:
    """A self-contained HTML page of an executed notebook (figures embedded)."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    return body
