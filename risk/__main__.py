"""Command line: ``python -m risk <command>`` (also installed as ``risk``).

Commands
--------
demo
    Generate the synthetic demo inputs for an AOI: ``python -m risk demo --aoi PATH --out DIR --seed N``.
"""

from __future__ import annotations

import argparse
import sys


def _demo(args: argparse.Namespace) -> int:
    from risk.demo import generate
    from risk.io import read_vector

    raw = read_vector(args.aoi)
    if raw.crs is None:
        raw = raw.set_crs("OGC:CRS84")
    raw = raw[raw.geometry.notna() & ~raw.geometry.is_empty]
    if len(raw) == 0:
        print(f"error: {args.aoi}: the area of interest has no geometry", file=sys.stderr)
        return 2
    name = args.area_name
    if name is None and "name" in raw.columns and raw["name"].notna().any():
        name = str(raw["name"].dropna().iloc[0])
    generate(raw[["geometry"]], args.out, seed=args.seed, crs=args.crs, res=args.res, aoi_path=args.aoi,
             area_name=name, chunk=args.chunk, verbose=not args.quiet)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m risk", description="Natural-hazard risk pipeline tools.")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="generate synthetic demo inputs for an area of interest",
                       description="Generate synthetic demo inputs (rasters, layers, messy survey files, tables, "
                                   "truth surfaces and a config) for any AOI polygon.")
    d.add_argument("--aoi", required=True, help="AOI polygon file (GeoJSON, GeoPackage, ...)")
    d.add_argument("--out", required=True, help="output folder")
    d.add_argument("--seed", type=int, default=42, help="random seed (same seed, same bytes; default 42)")
    d.add_argument("--res", type=float, default=30.0, help="cell size in metres (default 30)")
    d.add_argument("--crs", default="EPSG:4549", help="projected CRS of the grid (default EPSG:4549)")
    d.add_argument("--chunk", type=int, default=1024, help="Dask chunk size recorded in the config (default 1024)")
    d.add_argument("--area-name", default=None, help="area_name for the config (default: the AOI's name field)")
    d.add_argument("--quiet", action="store_true", help="no progress lines")
    d.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
