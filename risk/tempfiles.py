"""Temporary files named after the process that made them, and their removal once that process is gone.

A process killed with SIGKILL cannot remove its temporary files (sockets of the warm server and the notebooks'
kernels, the flow routing's spilled cells: up to 0.5 GB at 10⁹ cells). Naming them ``<prefix><pid>-<host>-...``
lets the next process that makes such a file remove those whose process no longer runs. Only this host's
entries are considered (a TMPDIR shared between the nodes of a cluster holds other hosts' pids), only this
user's, and a pid that runs keeps its files. Standard library only: :mod:`risk.warm` imports this in every
process.
"""

from __future__ import annotations

import glob
import os
import shutil


def _host_tag() -> str:
    """Eight hex digits of this host's name (short: a Unix socket's path has room for about 100 bytes)."""
    import hashlib
    import socket

    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def owned_prefix(prefix: str) -> str:
    """``prefix`` followed by this process's pid, this host's tag and a dash, for :func:`remove_orphans`."""
    return f"{prefix}{os.getpid()}-{_host_tag()}-"


def new_temp_path(prefix: str, suffix: str = "") -> str:
    """A new path in the temporary folder, ``<prefix><pid>-<host>-<n><suffix>`` (not created), once the files of
    ``prefix`` left there by processes that are gone are removed (:func:`remove_orphans`)."""
    import tempfile
    import time

    folder = tempfile.gettempdir()
    remove_orphans(folder, prefix)
    return os.path.join(folder, f"{owned_prefix(prefix)}{time.time_ns() % 10**9}{suffix}")


def remove_orphans(folder: str, prefix: str) -> list[str]:
    """Remove this host's and user's files and folders ``<prefix><pid>-<host>-*`` in ``folder`` whose process is
    gone; the paths removed.

    A pid that runs (or that this user may not signal) keeps its files; other hosts' entries, other users' and
    names that do not have the form are left alone.

    Examples
    --------
    >>> import tempfile; d = tempfile.mkdtemp()
    >>> open(os.path.join(d, owned_prefix("x-") + "a"), "w").close()
    >>> remove_orphans(d, "x-")  # this process runs: kept
    []
    """
    removed, host = [], _host_tag()
    for path in glob.glob(os.path.join(glob.escape(folder), glob.escape(prefix) + "*")):
        parts = os.path.basename(path)[len(prefix):].split("-", 2)
        if len(parts) < 3 or parts[1] != host or not (parts[0].isascii() and parts[0].isdigit()):
            continue
        try:
            if os.lstat(path).st_uid != os.getuid():
                continue
            os.kill(int(parts[0]), 0)
            continue  # it runs
        except ProcessLookupError:
            pass
        except (OSError, ValueError, OverflowError):  # gone already, another user's process, not a pid
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
