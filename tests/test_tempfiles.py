"""risk.tempfiles: temporary files of killed processes are removed by the next process that makes one."""

import os
import subprocess
import sys

import numpy as np

from risk.tempfiles import _host_tag, owned_prefix, remove_orphans


def _dead_pid() -> int:
    """A pid no process can have (above the kernel's largest): never reused on a busy machine."""
    try:
        return int(open("/proc/sys/kernel/pid_max").read()) + 1
    except OSError:  # not Linux: a process that has exited
        out = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                             text=True, check=True)
        return int(out.stdout)


def test_files_and_folders_of_gone_processes_are_removed_the_others_kept(tmp_path):
    dead, host = _dead_pid(), _host_tag()
    stale_file, stale_dir = tmp_path / f"x-{dead}-{host}-a.sock", tmp_path / f"x-{dead}-{host}-tiles"
    stale_file.touch()
    (stale_dir / "sub").mkdir(parents=True)
    (stale_dir / "sub" / "t.npz").write_bytes(b"1")
    mine = tmp_path / (owned_prefix("x-") + "b")
    mine.touch()
    other = [tmp_path / f"x-notapid-{host}-c", tmp_path / f"y-{dead}-{host}-d", tmp_path / "x-1",  # no pid, prefix
             tmp_path / f"x-{dead}-0000beef-e",  # another host's (a TMPDIR shared by a cluster's nodes)
             tmp_path / f"x-\u00b2-{host}-f", tmp_path / f"x-99999999999999999999-{host}-g"]  # digits int() or kill refuse
    for p in other:
        p.touch()
    removed = remove_orphans(str(tmp_path), "x-")
    assert sorted(removed) == sorted([str(stale_file), str(stale_dir)])
    assert not stale_file.exists() and not stale_dir.exists()
    assert mine.exists() and all(p.exists() for p in other)


def test_a_killed_terrain_jobs_spilled_cells_go_with_the_next_one(tmp_path, monkeypatch):
    import tempfile

    from risk.hazard.hydrology import _RaisedCells

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    stale = tmp_path / f"risk-raised-{_dead_pid()}-{_host_tag()}-k1"
    stale.mkdir()
    (stale / "0_0.npz").write_bytes(b"0" * 1000)
    cells = _RaisedCells(budget=0)  # everything spills to files
    cells[(0, 1)] = (np.arange(3), np.ones(3, dtype="f4"))
    assert not stale.exists()
    folder = cells.folder
    assert os.path.basename(folder).startswith(owned_prefix("risk-raised-"))
    idx, fv = cells[(0, 1)]
    assert idx.tolist() == [0, 1, 2] and fv.tolist() == [1, 1, 1]
    del cells
    assert not os.path.exists(folder)
