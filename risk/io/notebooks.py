"""Execute the reviewers' notebooks on a run's results and write them as HTML (nbclient, nbconvert).

The parameter convention is papermill's: the cell tagged ``parameters`` holds the defaults, and a cell
tagged ``injected-parameters`` inserted after it overrides them.
"""

from __future__ import annotations

import logging
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
    """Run a notebook in a fresh Python kernel and return it with its outputs (raises on a failing cell).

    The kernel is :mod:`risk.kernel`: in a warm-start worker (:mod:`risk.warm`) it runs in a fork of this process,
    which already holds the stack; anywhere else in a new Python.
    """
    import nbformat
    from nbclient import NotebookClient

    from risk import warm

    nb = nbformat.read(str(path), as_version=4)
    if params:
        inject_parameters(nb, params)
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # the kernel picks its inline backend itself
    server = None
    if os.environ.get(warm.WORKER_ENV) and hasattr(os, "fork"):
        from risk.kernel import SOCKET_ENV
        from risk.tempfiles import new_temp_path

        env[SOCKET_ENV] = new_temp_path("risk-kernel-", ".sock")  # killed notebook jobs' sockets are removed
        try:
            server = warm.fork_server(env[SOCKET_ENV])
        except OSError as exc:  # e.g. a socket path too long for AF_UNIX under a deep TMPDIR: a new Python
            logging.getLogger(__name__).warning("no warm kernel (%s): the kernel starts in a new Python", exc)
            env.pop(SOCKET_ENV)
    logging.getLogger(__name__).info("%s: kernel %s", Path(path).stem,
                                     "forked from this warm worker" if server else "in a new Python")
    try:
        # an hour (not nbclient's 60 s) for the kernel to start on a loaded machine; no timestamps recorded;
        # the kernel stopped at once when the last cell is done (every output is in by then), not asked to
        # shut down and waited for (about a second)
        NotebookClient(nb, kernel_manager_class=_kernel_manager_class(), kernel_name="python3", timeout=timeout,
                       startup_timeout=3600, record_timing=False, shutdown_kernel="immediate",
                       resources={"metadata": {"path": str(cwd or Path(path).parent)}}).execute(env=env)
    finally:
        if server is not None:
            warm.stop_server(server)
    return nb


def _kernel_manager_class():
    """Jupyter's kernel manager with one kernel, ``python3``, that is :mod:`risk.kernel` in this Python."""
    import sys

    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from traitlets import default

    spec = KernelSpec(argv=[sys.executable, "-m", "risk.kernel", "-f", "{connection_file}"], language="python",
                      display_name="Python 3 (risk)")

    class Specs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return spec

    # named python3, so nbclient keeps the kernel's history in memory as it does for ipykernel's kernel
    class Kernels(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _specs(self):
            return Specs(data_dir=self.data_dir)

    return Kernels


def to_ipynb(nb) -> str:
    """The executed notebook as ``.ipynb`` text (outputs kept: opens in Jupyter without running it)."""
    import nbformat

    return nbformat.writes(nb)


def to_html(nb) -> str:
    """A self-contained HTML page of an executed notebook (figures embedded)."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    return body
