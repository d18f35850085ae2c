"""The file side of a scenario (:mod:`risk.followup.scenario`): its inputs, and its results folder seeded from the base."""

from __future__ import annotations

import json
import os
import shutil
from base64 import urlsafe_b64decode, urlsafe_b64encode
from pathlib import Path

from risk.followup.scenario import raise_capacity, rewrite_record, shelters_with_selected


def _write_if_changed(write, path: Path, suffix: str) -> bool:
    """Write with ``write(tmp)`` and replace ``path`` only if the bytes differ (an unchanged input keeps its mtime).

    Returns True when ``path`` did not exist before (a first write), False when it was kept or replaced.
    """
    tmp = path.with_name(path.name + ".new" + suffix)
    write(tmp)
    first = not path.exists()
    if not first and path.read_bytes() == tmp.read_bytes():
        tmp.unlink()
    else:
        os.replace(tmp, path)
    return first


def scenario_inputs(cfg: dict, base_results: str, out_dir: str, root: Path = Path(".")) -> dict:
    """Write the inputs the scenario's measures change under ``out_dir``; return ``cfg`` pointing at them and the
    list of inputs written for the first time (see :func:`backdate_checked_inputs`).

    Paths of ``cfg``, ``base_results`` and ``out_dir`` are relative to ``root`` unless absolute.
    """
    from risk.io import read_table, read_vector, write_table, write_vector

    sc = cfg.get("scenario", {})
    rel = Path(out_dir)
    out_dir = Path(root, out_dir)
    base_results = Path(root, base_results)
    out_dir.mkdir(parents=True, exist_ok=True)
    new = []
    if sc.get("build_selected_shelters"):
        selected = base_results / "shelters" / "selected_sites.gpkg"
        if not selected.is_file():
            raise FileNotFoundError(f"scenario.build_selected_shelters: {selected} is missing: run the base first")
        built = shelters_with_selected(read_vector(Path(root, cfg["inputs"]["shelters"])),
                                       read_vector(selected, layer="selected_sites"))
        if _write_if_changed(lambda p: write_vector(built, p, layer="shelters", styles=False),
                             out_dir / "shelters.gpkg", ".gpkg"):
            new.append(str(out_dir / "shelters.gpkg"))
        cfg["inputs"]["shelters"] = (rel / "shelters.gpkg").as_posix()
    if sc.get("capacity"):
        table = raise_capacity(read_table(Path(root, cfg["inputs"]["capacity"])), sc["capacity"])
        if _write_if_changed(lambda p: write_table(table, p), out_dir / "township_capacity.csv", ".csv"):
            new.append(str(out_dir / "township_capacity.csv"))
        cfg["inputs"]["capacity"] = (rel / "township_capacity.csv").as_posix()
    return cfg, new


def backdate_checked_inputs(base: Path, target: Path, new_inputs, checked: bool) -> None:
    """Give the scenario's input checks the base run's time stamp, so the gate they form does not rerun the DAG.

    Every rule waits for ``validation_warnings.csv`` (the checks of every input), and Snakemake reruns everything
    after a job that reruns, so a scenario that changes one input would rerun the whole DAG. The scenario runs the
    checks first (a job of its own); then the inputs it wrote for the first time get a time stamp just before
    the base run's checks, and the checks the base run's stamp: the rules that read a changed input rerun because
    their set of inputs changed (Snakemake's ``input`` trigger), the others keep the base run's outputs. An input
    rewritten with new bytes keeps its new time stamp, so its readers (and the checks) rerun by time.

    Parameters
    ----------
    base, target : path
        The base run's and the scenario's results folders.
    new_inputs : list of str
        Inputs :func:`scenario_inputs` wrote for the first time.
    checked : bool
        False before the checks ran (only the new inputs are dated), True after (the checks' output too).
    """
    base_checks = Path(base) / "validation_warnings.csv"
    if not base_checks.is_file():  # a base run made before the checks existed: everything reruns anyway
        return
    ref = base_checks.stat().st_mtime
    for p in new_inputs:
        os.utime(p, (ref - 1, ref - 1))
    if checked:
        os.utime(Path(target) / "validation_warnings.csv", (ref, ref))


def _record_name(key: str) -> list[str]:
    b = urlsafe_b64encode(key.encode()).decode()
    parts = [b[i:i + 254] for i in range(0, len(b), 254)]
    return ["@" + s for s in parts[:-1]] + [parts[-1]]


def _records(metadata: Path):
    for root, _, files in os.walk(metadata):
        for f in files:
            rel = Path(root, f).relative_to(metadata).parts
            try:
                key = urlsafe_b64decode("".join(p.removeprefix("@") for p in rel)).decode()
            except ValueError:
                continue
            yield key, Path(root, f)


def seed_results(base: str, target: str, workdir: Path = Path(".")) -> dict:
    """Hard-link every output of the base results folder into the scenario's and copy its Snakemake records.

    Only what the scenario folder lacks is seeded (a rerun of the scenario keeps what it recomputed). Outputs
    are written atomically (a new file renamed into place), so recomputing a linked output never touches the
    base run's copy.

    Parameters
    ----------
    base, target : str
        ``results_dir`` of the base and of the scenario, spelled as in their configs (Snakemake keys its records
        by these paths).
    workdir : path
        Folder Snakemake runs in (its ``.snakemake/metadata`` holds the records).

    Returns
    -------
    dict
        ``{"files": n linked, "records": n copied}``.
    """
    base, target = str(Path(base)), str(Path(target))  # spelled as Snakemake's paths are (risk/common.smk res())
    src, dst = workdir / base, workdir / target
    n_files = n_rec = 0
    for p in src.rglob("*"):
        rel = p.relative_to(src)
        if p.is_dir() or rel.parts[0] in ("scenario_inputs", "compare") or rel.name == "report.html":
            continue
        q = dst / rel
        if q.exists():
            continue
        q.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(p, q)
        except OSError:  # another file system: a copy keeps the time stamps Snakemake compares
            shutil.copy2(p, q)
        n_files += 1
    metadata = workdir / ".snakemake" / "metadata"
    prefix = base.rstrip("/") + "/"
    for key, path in list(_records(metadata)) if metadata.is_dir() else []:
        if not key.startswith(prefix):
            continue
        new_key = target.rstrip("/") + "/" + key[len(prefix):]
        out = metadata.joinpath(*_record_name(new_key))
        if out.exists() or not (workdir / new_key).exists():
            continue
        record = rewrite_record(json.loads(path.read_text()), base, target)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(record))
        n_rec += 1
    return {"files": n_files, "records": n_rec}
