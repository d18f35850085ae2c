"""The Python kernel of the reviewers' notebooks: ipykernel with inline figures, warm-started when it can be.

Jupyter starts it as ``python -m risk.kernel -f <connection file>`` (the kernel spec of
:func:`risk.io.notebooks.execute`). When the notebook job runs in a warm-start worker (:mod:`risk.warm`), the job
forks a server of itself (:func:`risk.warm.fork_server`) and names its socket in :data:`SOCKET_ENV`: this small
launcher then hands itself over, and the kernel runs in a fork that already holds numpy, pandas, geopandas,
rasterio and matplotlib instead of importing them (1.5-2 CPU-s per notebook). The kernel stays a descendant of
the job, so its CPU counts in the job's usage; the launcher watches its parent, and the kernel is killed with it
when Jupyter kills the launcher or the job dies. Without the variable (no warm start: ``RISK_WARM=0``, tests,
``make notebooks``), or when the server does not answer, the kernel starts in this process.

Either way the kernel starts with matplotlib's inline backend (what ``%matplotlib inline`` does, which every
notebook also says) and its figures sent before pyplot's own draw of every open figure after a cell: that draw
renders figures the inline backend then renders again and closes (a third of a map-heavy cell's CPU); the
figures shown are the same.
"""

from __future__ import annotations

import os
import sys

SOCKET_ENV = "RISK_KERNEL_SOCKET"
"""Environment variable with the socket of the notebook job's server (set in the kernel spec's environment)."""


def start(argv: list[str] | None = None) -> None:
    """Start an IPython kernel (ipykernel's launcher) with inline figures sent before pyplot's redraw."""
    if sys.path and (sys.path[0] == "" or os.path.abspath(sys.path[0]) == os.getcwd()):
        del sys.path[0]  # as ipykernel_launcher: the working directory is added back by the shell
    from ipykernel.kernelapp import IPKernelApp
    from matplotlib_inline.backend_inline import flush_figures

    # the parent's pid as ipykernel reads it from Jupyter's environment, here at start-up: its class reads it when
    # imported, which in a warm fork was before this kernel's environment existed
    app = IPKernelApp.instance(parent_handle=int(os.environ.get("JPY_PARENT_PID") or 0))
    app.initialize(argv)
    if "pandas" in sys.modules:  # imported before the kernel (a warm fork): outside a kernel, pandas chose to fit
        import pandas as pd  # its tables to a terminal's width; in a kernel it shows up to 20 columns

        pd.set_option("display.max_columns", 20)
    app.shell.enable_matplotlib("inline")
    # enable_matplotlib registers flush_figures after pyplot's draw_all hook; pyplot's hook draws each open figure
    # in full, then flush_figures draws them again for the PNG and closes them: sent first, nothing is left to draw
    post_execute = app.shell.events.callbacks["post_execute"]
    post_execute.remove(flush_figures)
    post_execute.insert(0, flush_figures)
    import gc

    gc.freeze()  # what is loaded by now lives as long as the kernel: out of the collections a notebook's cells make
    app.start()


def main() -> None:
    """The launcher: hand over to the job's server when there is one, else start the kernel here."""
    path = os.environ.pop(SOCKET_ENV, None)
    if path:
        import signal

        from risk.warm import hand_over

        # Jupyter interrupts the kernel (SIGINT to this launcher) before it kills it: the launcher stays until the
        # kill, which ends the kernel too. An interrupt does not reach a warm kernel (the rule never interrupts).
        default = signal.signal(signal.SIGINT, signal.SIG_IGN)
        hand_over(path, __file__, watch_parent=True)  # exits with the kernel's status when served
        signal.signal(signal.SIGINT, default)
    start()


if __name__ == "__main__":
    main()
