"""The QGIS project of a run: its layer list (from :mod:`risk.io.catalog`) and the PyQGIS build.

The pipeline's environment cannot import ``qgis`` (QGIS ships its own Python bindings for the
system Python), so :func:`build_project` runs :mod:`risk.qgis_project` under a Python that can:
``$RISK_QGIS_PYTHON`` if set, else the first of ``python3`` on the PATH and ``/usr/bin/python3`` that
imports ``qgis.core``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from risk.io.catalog import STAGES, describe
from risk.io.files import atomic_path, write_json
from risk.io.vectors import data_layers

_STAGE_ORDER = list(STAGES)


def project_spec(results_dir, files, area: str = "", source: str = "", crs: str | None = None) -> dict:
    """The layers of the project, grouped by stage (in :data:`risk.io.catalog.STAGES` order) and hazard.

    ``files`` are published rasters (``.tif``) and GeoPackages (every layer of each is listed).
    Paths in the spec are relative to ``results_dir``.
    """
    results_dir = Path(results_dir).resolve()
    entries = []
    for f in files:
        rel = Path(f).resolve().relative_to(results_dir).as_posix()
        if rel.endswith(".gpkg"):
            layer_names = data_layers(f)
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
    groups = [[k, *v] for k, v in STAGES.items() if k in used]  # a list: JSON writers may sort mappings
    return {"title": f"{area} 自然灾害综合风险 Natural-hazard risk".strip(), "area": area, "source": source,
            "crs": crs, "groups": groups, "layers": layers}


def _subgroup_label(key: str) -> tuple[str, str]:
    from risk.io.catalog import _label

    return _label(key)


def find_qgis_python() -> str | None:
    """A Python interpreter that can import ``qgis.core`` (see the module docstring), or None."""
    import importlib.util

    candidates = [os.environ.get("RISK_QGIS_PYTHON"), sys.executable, shutil.which("python3"), "/usr/bin/python3"]
    me = Path(sys.executable)
    seen = set()
    for c in candidates:
        if not c or c in seen or not Path(c).exists():
            continue
        seen.add(c)
        if Path(c).parent == me.parent and os.path.samefile(c, me):  # this interpreter (python3 of its venv)
            if importlib.util.find_spec("qgis") is None:
                continue  # no qgis here: known without starting another Python
        ok = subprocess.run([c, "-c", "import qgis.core"], capture_output=True, env=_qgis_env(),
                            check=False, timeout=120)
        if ok.returncode == 0:
            return c
    return None


def _qgis_env() -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_HASH_SEED="0")  # the seed: XML attributes in one order
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
            repack_qgz(tmp, out.stem)
    return json.loads(run.stdout.strip().splitlines()[-1])


def write_project(spec: dict, out) -> dict:
    """Write ``out`` (``risk.qgz``): with PyQGIS when QGIS is installed, else as project XML.

    The XML project has the same layers, names, groups and styles but no print layouts (those need
    QGIS to lay out); the summary's ``built_with`` says which was used.
    """
    spec = dict(spec)
    font = _cjk_font_file()
    if font:
        spec.setdefault("font_file", font)
    python = find_qgis_python()
    if python is not None:
        return {"built_with": f"PyQGIS ({python})", **build_project(spec, out, python)}
    return {"built_with": "project XML (QGIS not found)", **write_project_xml(spec, out)}


def _cjk_font_file() -> str | None:
    try:
        import mplfonts
    except ImportError:  # pragma: no cover - mplfonts is a dependency
        return None
    path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
    return str(path) if path.exists() else None


def write_project_xml(spec: dict, out) -> dict:
    """A QGIS 3 project (``.qgz``: a zip holding the ``.qgs`` XML) written without QGIS.

    Hand-written because no library writes QGIS projects outside QGIS. Each layer carries its style:
    the ``.qml`` beside a raster, the ``layer_styles`` default of a GeoPackage layer (the same
    :func:`risk.io.styles.layer_style`). Paths are relative to the project.
    """
    import re
    import zipfile
    from xml.sax.saxutils import escape, quoteattr

    out = Path(out)
    root_dir = out.parent
    crs = spec.get("crs") or "EPSG:4326"
    srs = f"<spatialrefsys><authid>{escape(crs)}</authid></spatialrefsys>"
    layers_xml, tree_groups = [], {}
    for i, e in enumerate(spec["layers"]):
        lid = f"layer_{i:03d}"
        path = root_dir / e["path"]
        if e["layer"]:
            source = f"./{e['path']}|layername={e['layer']}"
            kind, provider = "vector", "ogr"
            style = _gpkg_style(path, e["layer"])
        else:
            source = f"./{e['path']}"
            kind, provider = "raster", "gdal"
            qml = path.with_suffix(".qml")
            style = qml.read_text(encoding="utf-8") if qml.exists() else ""
        body = re.sub(r"(?s)^.*?<qgis[^>]*>|</qgis>\s*$", "", style) if style else ""
        layers_xml.append(
            f'    <maplayer type="{kind}">\n      <id>{lid}</id>\n      <datasource>{escape(source)}</datasource>\n'
            f"      <layername>{escape(e['name'])}</layername>\n      <srs>{srs}</srs>\n"
            f"      <provider>{provider}</provider>\n{body}\n    </maplayer>")
        key = e["group"], e.get("subgroup", "")
        visible = "Qt::Checked" if e["path"] == "zoning/multi_hazard.tif" or e["layer"] == "townships" else \
            "Qt::Unchecked"
        tree_groups.setdefault(key, []).append(
            f'      <layer-tree-layer id="{lid}" name={quoteattr(e["name"])} source={quoteattr(source)} '
            f'providerKey="{provider}" checked="{visible}" expanded="0"/>')
    groups_xml = []
    for g, zh, en in spec["groups"]:
        inner = tree_groups.get((g, ""), [])
        subs = sorted({s for (gg, s) in tree_groups if gg == g and s})
        for s in subs:
            name = next(e["subgroup_name"] for e in spec["layers"] if e["group"] == g and e["subgroup"] == s)
            inner.append(f'      <layer-tree-group name={quoteattr(name)} checked="Qt::Checked" expanded="0">\n'
                         + "\n".join(tree_groups[(g, s)]) + "\n      </layer-tree-group>")
        groups_xml.append(f'    <layer-tree-group name={quoteattr(f"{zh} {en}")} checked="Qt::Checked" '
                          f'expanded="{int(g in ("townships", "zoning"))}">\n' + "\n".join(inner)
                          + "\n    </layer-tree-group>")
    qgs = f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis projectname={quoteattr(spec.get("title", ""))} version="3.22.0">
  <title>{escape(spec.get("title", ""))}</title>
  <projectCrs>{srs}</projectCrs>
  <layer-tree-group>
{chr(10).join(groups_xml)}
  </layer-tree-group>
  <projectlayers>
{chr(10).join(layers_xml)}
  </projectlayers>
  <properties>
    <Paths><Absolute type="bool">false</Absolute></Paths>
  </properties>
</qgis>
"""
    with atomic_path(out, ".tmp.qgz") as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(out.stem + ".qgs", qgs)
        repack_qgz(tmp, out.stem)
    return {"layers": len(spec["layers"]), "invalid": [], "layouts": []}


_UUID = re.compile(r"[0-9a-f]{8}([-_])[0-9a-f]{4}\1[0-9a-f]{4}\1[0-9a-f]{4}\1[0-9a-f]{12}")


def stable_qgs(xml: str) -> str:
    """A QGIS project's XML without what changes from one save to the next: the save and creation time, the user, the
    random UUIDs QGIS gives layers and layout items (numbered in order of appearance instead)."""
    xml = re.sub(r'saveDateTime="[^"]*"', 'saveDateTime=""', xml)
    xml = re.sub(r"<creation>[^<]*</creation>", "<creation></creation>", xml)  # the layouts carry the data date
    xml = re.sub(r'(saveUser|saveUserFull)="[^"]*"', r'\1="risk"', xml)
    # QGIS writes the snapping settings of each layer in hash order: one line each, sorted here
    xml = re.sub(r"(?:[ \t]*<layer-setting [^>]*/>\n)+", lambda m: "".join(sorted(m.group(0).splitlines(True))), xml)
    ids: dict[str, str] = {}

    def number(m):
        sep = m.group(1)
        return ids.setdefault(m.group(0), sep.join(["00000000", "0000", "0000", "0000", f"{len(ids) + 1:012x}"]))

    return _UUID.sub(number, xml)


def repack_qgz(path, stem: str) -> None:
    """Rewrite a ``.qgz`` in place so the same project gives the same bytes: entries in name order, each
    dated 1980-01-01 (zip's epoch; a zip records every entry's write time), the project named ``<stem>.qgs``
    (QGIS names it after the file it wrote, here a temporary one)."""
    import zipfile

    path = Path(path)
    with zipfile.ZipFile(path) as z:
        entries = {(stem + n[-4:] if n.endswith((".qgs", ".qgd")) else n): z.read(n) for n in z.namelist()}
    for name in [n for n in entries if n.endswith(".qgs")]:
        entries[name] = stable_qgs(entries[name].decode("utf-8")).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(entries):
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), entries[name],
                       compress_type=zipfile.ZIP_DEFLATED)


def _gpkg_style(path: Path, layer: str) -> str:
    import sqlite3

    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = ? AND useAsDefault = 1",
                          (layer,)).fetchone()
    except sqlite3.OperationalError:  # no layer_styles table (a GeoPackage not written by risk.io)
        row = None
    finally:
        con.close()
    return row[0] if row else ""
