"""The QGIS project of a run: its layer list (from :mod:`risk.io.catalog`) and the PyQGIS build.

The pipeline's environment cannot import ``qgis`` (QGIS ships its own Python bindings for the
system Python), so :func:`build_project` runs :mod:`risk.qgis_project` under a Python that can:
``$RISK_QGIS_PYTHON`` if set, else the first of ``python3`` on the PATH and ``/usr/bin/python3`` that
imports ``qgis.core``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from risk.io.catalog import STAGES, describe
from risk.io.files import atomic_path, write_json

_STAGE_ORDER = list(STAGES)


def project_spec(results_dir, files, area: str = "", source: str = "", crs: str | None = None) -> dict:
    """The layers of the project, grouped by stage (in :data:`risk.io.catalog.STAGES` order) and hazard.

    ``files`` are published rasters (``.tif``) and GeoPackages (every layer of each is listed).
    Paths in the spec are relative to ``results_dir``.
    """
    import pyogrio

    results_dir = Path(results_dir).resolve()
    entries = []
    for f in files:
        rel = Path(f).resolve().relative_to(results_dir).as_posix()
        if rel.endswith(".gpkg"):
            layer_names = [str(n) for n, _geom in pyogrio.list_layers(f) if n != "layer_styles"]
            entries += [describe(rel, n) for n in layer_names]
        elif rel.endswith(".tif"):
            entries.append(describe(rel))
    entries = [e for e in entries if e is not None]
    entries.sort(key=lambda e: (_STAGE_ORDER.index(e.group) if e.group in STAGES else len(STAGES),
                                e.subgroup, e.path, e.layer))
    layers = []
    for e in entries:
        d = e.as_dict()
        d["subgroup_name"] = " ".join(_subgroup_label(e.subgroup)) if e.subgroup else ""
        layers.append(d)
    used = {e.group for e in entries}
    groups = {k: v for k, v in STAGES.items() if k in used}
    return {"title": f"{area} 自然灾害综合风险 Natural-hazard risk".strip(), "area": area, "source": source,
            "crs": crs, "groups": groups, "layers": layers}


def _subgroup_label(key: str) -> tuple[str, str]:
    from risk.io.catalog import _label

    return _label(key)


def find_qgis_python() -> str | None:
    """A Python interpreter that can import ``qgis.core`` (see the module docstring), or None."""
    candidates = [os.environ.get("RISK_QGIS_PYTHON"), sys.executable, shutil.which("python3"), "/usr/bin/python3"]
    seen = set()
    for c in candidates:
        if not c or c in seen or not Path(c).exists():
            continue
        seen.add(c)
        ok = subprocess.run([c, "-c", "import qgis.core"], capture_output=True, env=_qgis_env(),
                            check=False, timeout=120)
        if ok.returncode == 0:
            return c
    return None


def _qgis_env() -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("PYTHONHOME", None)
    return env


def build_project(spec: dict, out, python: str | None = None) -> dict:
    """Write ``out`` (``risk.qgz``) with PyQGIS from ``spec`` (:func:`project_spec`); return its summary.

    Raises
    ------
    RuntimeError
        When no Python with QGIS is found, or QGIS fails or finds an invalid layer (the message
        names them).
    """
    python = python or find_qgis_python()
    if python is None:
        raise RuntimeError("no Python that imports qgis.core was found: install QGIS (apt install "
                           "python3-qgis) or set RISK_QGIS_PYTHON to its Python")
    out = Path(out)
    root = Path(__file__).resolve().parents[2]
    env = _qgis_env()
    env["PYTHONPATH"] = str(root)  # risk.qgis_project imports only the standard library and qgis
    with tempfile.TemporaryDirectory() as d:
        spec_path = Path(d) / "spec.json"
        write_json(spec, spec_path)
        with atomic_path(out, ".tmp.qgz") as tmp:
            run = subprocess.run([python, "-m", "risk.qgis_project", str(spec_path), str(tmp)],
                                 capture_output=True, text=True, env=env, cwd=root, check=False)
            if run.returncode != 0:
                raise RuntimeError(f"{out}: building the QGIS project failed ({python}):\n"
                                   f"{run.stdout[-2000:]}\n{run.stderr[-4000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])
