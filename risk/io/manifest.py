"""Provenance of a run: the config and its hash, inputs and outputs with SHA-256, package versions."""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path

CORE_PACKAGES = ("risk", "numpy", "pandas", "geopandas", "shapely", "pyproj", "pyogrio", "rasterio", "rioxarray",
                 "xarray", "dask", "distributed", "scikit-learn", "scikit-image", "scipy", "xarray-spatial",
                 "mapclassify", "exactextract", "numba", "snakemake", "matplotlib")


def sha256_file(path, bufsize: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes (a folder: of its files' names and hashes, sorted)."""
    path = Path(path)
    h = hashlib.sha256()
    if path.is_dir():
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(str(f.relative_to(path)).encode())
            h.update(sha256_file(f).encode())
        return h.hexdigest()
    with open(path, "rb") as fh:
        while chunk := fh.read(bufsize):
            h.update(chunk)
    return h.hexdigest()


def config_hash(config: dict) -> str:
    """SHA-256 of the config serialised canonically (sorted keys)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def package_versions(names=CORE_PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that shape the results."""
    out = {}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            out[n] = "not installed"
    return out


def build_manifest(config: dict, inputs, outputs, root: str | Path = ".") -> dict:
    """The manifest dictionary (paths relative to ``root`` where possible)."""
    root = Path(root).resolve()

    def rel(p):
        p = Path(p).resolve()
        return str(p.relative_to(root)) if p.is_relative_to(root) else str(p)

    files = lambda paths: {rel(p): sha256_file(p) for p in sorted(set(map(str, paths))) if Path(p).exists()}  # noqa: E731
    return {
        "config": config,
        "config_sha256": config_hash(config),
        "inputs": files(inputs),
        "outputs": files(outputs),
        "packages": package_versions(),
        "python": platform.python_version(),
    }


def data_date(paths=()) -> str:
    """The date a run stands for, as ``YYYY-MM-DD`` (UTC), the same on every rerun of the same inputs.

    ``SOURCE_DATE_EPOCH`` when set (the reproducible-builds convention); else the modification date of the
    newest of ``paths`` that exist (the date of the data the run read); else 1970-01-01.
    """
    import datetime
    import os

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        times = [Path(p).stat().st_mtime for p in paths if Path(p).exists()]
        epoch = max(times, default=0)
    return datetime.datetime.fromtimestamp(int(float(epoch)), tz=datetime.UTC).date().isoformat()
