"""Command line: ``python -m risk <command>`` (also installed as ``risk``).

Commands
--------
run
    Run the whole pipeline (Snakemake with the local profile): ``risk run [--config my.yaml] [--cores 2]``.
demo
    Generate the synthetic demo inputs for an AOI: ``python -m risk demo --aoi PATH --out DIR --seed N``.
validate
    Check a config and the inputs it names, every problem at once, nothing run: ``risk validate my.yaml``.
scenario
    Run a what-if scenario (a config overlay) on top of a base run, reusing its unchanged outputs:
    ``risk scenario configs/scenarios/new_shelters.yaml [--base configs/config.yaml] [-n]``.
compare
    Compare two results folders (two rounds, or a baseline and a scenario): ``risk compare A B [--out DIR]``;
    several scenarios ``risk compare A B C ...`` are each compared with A and ranked by averted risk per unit cost.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


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


ROOT = Path(__file__).resolve().parents[1]


def _run(args: argparse.Namespace) -> int:
    import subprocess

    from risk.config import ConfigError, check_config_file, results_dir_of

    try:  # before Snakemake reads it: Snakemake would run its templating and stop on YAML without the line
        config = check_config_file(args.config)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(args.cores), "--profile",
           str(ROOT / "profiles" / "local"), "--configfile", str(Path(args.config).resolve()), *args.targets]
    if args.dry_run:
        cmd.append("-n")
    elif not args.no_report and not args.targets:  # the whole run's report, by the same Snakemake process
        results = results_dir_of(config)
        report = Path(results) if Path(results).is_absolute() else ROOT / results
        cmd += ["--report", str(report / "report.html"), "--report-after-run"]
    return subprocess.run(cmd, cwd=ROOT, check=False).returncode


def _validate(args: argparse.Namespace) -> int:
    from risk.validate import check_all

    problems = check_all(args.config, args.root)
    for p in sorted(problems, key=lambda p: p.severity != "error"):  # errors first, then warnings
        print(f"{p.severity}: {p}", file=sys.stderr)
    errors = [p for p in problems if p.severity == "error"]
    if not errors:
        print(f"{args.config}: the config and every input it names are usable"
              + (f" ({len(problems)} warning(s) above)" if problems else ""))
    return 1 if errors else 0


def _scenario(args: argparse.Namespace) -> int:
    import subprocess

    import yaml

    from risk.config import ConfigError, check_config_file, validate_config
    from risk.followup.scenario import merge_config
    from risk.io import write_text
    from risk.io.scenario import backdate_checked_inputs, scenario_inputs, seed_results

    schema = ROOT / "workflow" / "schemas" / "config.schema.yaml"
    try:  # each file as a config file first: a YAML error named with its line, templating refused
        base = validate_config(check_config_file(args.base), schema)
        cfg = validate_config(merge_config(check_config_file(args.base), check_config_file(args.overlay)), schema)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    b, t = base["results_dir"], cfg["results_dir"]
    if Path(ROOT, t).resolve() == Path(ROOT, b).resolve():
        print(f"error: {args.overlay}: give the scenario its own results_dir (the base writes to {b})", file=sys.stderr)
        return 2
    if not (ROOT / b / "manifest.json").is_file():
        print(f"error: the base run's results ({b}) are not complete: run it first (risk run --config {args.base})",
              file=sys.stderr)
        return 2
    cfg, new_inputs = scenario_inputs(cfg, b, (Path(t) / "scenario_inputs").as_posix(), ROOT)
    seeded = seed_results(b, t, ROOT)
    print(f"scenario {cfg['scenario']['name'] or args.overlay}: {seeded['files']} outputs of {b} reused in {t} "
          f"({seeded['records']} Snakemake records)")
    path = Path(ROOT, t) / "scenario_config.yaml"
    write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), path)
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(args.cores), "--profile", str(ROOT / "profiles" / "local"),
           "--configfile", str(path.resolve())]
    # the scenario's inputs are checked first (also with -n: the checks change nothing but their own table)
    backdate_checked_inputs(Path(ROOT, b), Path(ROOT, t), new_inputs, checked=False)
    checks = subprocess.run(cmd + ["--until", "validate_inputs", "--quiet"], cwd=ROOT, check=False)
    if checks.returncode:
        return checks.returncode
    backdate_checked_inputs(Path(ROOT, b), Path(ROOT, t), new_inputs, checked=True)
    return subprocess.run(cmd + (["-n"] if args.dry_run else []), cwd=ROOT, check=False).returncode


def _compare(args: argparse.Namespace) -> int:
    from risk.errors import InputError
    from risk.io.compare import compare_folders, rank_folders

    if args.out and len(args.b) > 1:
        print("error: --out names the folder of one comparison: give one B, or none with several", file=sys.stderr)
        return 2
    try:
        for b in args.b:
            out = compare_folders(args.a, b, args.out)
            print(f"comparison of {args.a} and {b} written to {out}")
        if len(args.b) > 1:
            print(f"scenarios ranked by averted risk per 10,000 yuan: {rank_folders(args.a, args.b) / 'ranking.csv'}")
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
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
    r = sub.add_parser("run", help="run the whole pipeline and write the report",
                       description="Run every rule (Snakemake, profile profiles/local), then write the HTML report.")
    r.add_argument("--config", default=str(ROOT / "configs" / "config.yaml"), help="config file (default: the demo)")
    r.add_argument("--cores", type=int, default=2, help="CPU cores (default 2)")
    r.add_argument("-n", "--dry-run", action="store_true", help="only say what would run")
    r.add_argument("--no-report", action="store_true", help="skip the HTML report")
    r.add_argument("targets", nargs="*", help="files to make (default: everything, then the report)")
    r.set_defaults(func=_run)
    v = sub.add_parser("validate", help="check a config and its inputs without running anything",
                       description="Check a config against the schema and every input it names; report every "
                                   "problem at once. Exit status 1 if there is any.")
    v.add_argument("config", help="config file")
    v.add_argument("--root", default=".", help="folder relative input paths start from (default: current)")
    v.set_defaults(func=_validate)
    s = sub.add_parser("scenario", help="run a what-if scenario on top of a base run, reusing its outputs",
                       description="Merge a scenario overlay into the base config, write the inputs its measures "
                                   "change, seed its results folder with the base run's outputs, and run Snakemake "
                                   "there: only what the scenario changes is recomputed.")
    s.add_argument("overlay", help="scenario file (an overlay of the base config with its own results_dir)")
    s.add_argument("--base", default=str(ROOT / "configs" / "config.yaml"), help="base config (default: the demo)")
    s.add_argument("--cores", type=int, default=2, help="CPU cores (default 2)")
    s.add_argument("-n", "--dry-run", action="store_true", help="only say what would run")
    s.set_defaults(func=_scenario)
    c = sub.add_parser("compare", help="compare two results folders (rounds, or baseline and scenario)",
                       description="Write a change report of B against A: zone changes per township, risk and "
                                   "capacity grades, priority townships, shelter coverage and relief reach, change "
                                   "maps, and averted risk per unit cost for a scenario with a cost.")
    c.add_argument("a", help="results folder A (before, baseline)")
    c.add_argument("b", nargs="+", help="results folder B (after, scenario); several scenarios: each compared "
                                        "with A, then ranked by averted risk per unit cost (A/compare/ranking.csv)")
    c.add_argument("--out", default=None, help="output folder (default: B/compare)")
    c.set_defaults(func=_compare)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
