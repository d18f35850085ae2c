"""Temporary files named after the process that made them, and their removal once that process is gone.

A process killed with SIGKILL cannot remove its temporary files (sockets of the warm server, the flow routing's
spilled cells, up to 0.5 GB at 10⁹ cells). Naming them ``<prefix><pid>-<anything>`` lets the next process that
makes such a file remove those whose process no longer runs. Standard library only: :mod:`risk.warm` imports
this in every process.
"""

from __future__ import annotations

import glob
import os
import shutil


def owned_prefix(prefix: str) -> str:
    """``prefix`` followed by this process's pid and a dash, for names :func:`remove_orphans` can sweep."""
    return f"{prefix}{os.getpid()}-"


def remove_orphans(folder: str, prefix: str) -> list[str]:
    """Remove the files and folders ``<prefix><pid>-*`` in ``folder`` whose process is gone; the paths removed.

    A pid that runs (or that this user may not signal) keeps its files; names that carry no pid are left alone.

    Examples
    --------
    >>> import tempfile; d = tempfile.mkdtemp()
    >>> open(os.path.join(d, owned_prefix("x-") + "a"), "w").close()
    >>> remove_orphans(d, "x-")  # this process runs: kept
    []
    """
    removed = []
    for path in glob.glob(os.path.join(glob.escape(folder), glob.escape(prefix) + "*")):
        pid = os.path.basename(path)[len(prefix):].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
            continue
        except ProcessLookupError:
            pass
        except OSError:  # another user's process: still running
            continue
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
            removed.append(path)
        except OSError:
            pass
    return removed
