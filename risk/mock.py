"""Run one rule's script from a Python prompt, on the real workflow (after PyPSA-Eur's ``mock_snakemake``).

>>> from risk.mock import mock_snakemake, script_main          # doctest: +SKIP
>>> sm = mock_snakemake("zoning")                              # doctest: +SKIP
>>> main = script_main("zoning")        # workflow/scripts/zoning.py's main  # doctest: +SKIP
>>> main(sm)                                                   # doctest: +SKIP

:func:`mock_snakemake` builds the workflow through Snakemake's API, exactly as ``snakemake --profile
profiles/local --configfile configs/test.yaml`` would (the Snakefile, the config validated against its
schema, the profile's cores, default-resources, set-threads and set-resources), and returns the
``snakemake`` object a rule's script receives: ``input``, ``output``, ``params``, ``wildcards``,
``threads``, ``resources``, ``log`` and ``config`` of one job. Nothing runs and no DAG is evaluated: the
rule's inputs must exist before its script can run; make everything upstream of it first with

    snakemake --profile profiles/local --configfile configs/test.yaml --omit-from zoning

Paths in ``input``, ``output`` and ``log`` are absolute, so the script also runs from a notebook in
another folder (paths inside ``params`` and ``config`` stay relative to the project root); the folders
of the outputs and the log are created, as Snakemake does before a job.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
"""The project root: the folder with the Snakefile, where relative config paths start."""

TEST_CONFIG = "configs/test.yaml"
LOCAL_PROFILE = "profiles/local"


def profile_resource_settings(profile: str | os.PathLike | None, root: Path = ROOT):
    """Snakemake's resource settings as the command line ``--profile <profile>`` gives them.

    Parameters
    ----------
    profile : path or None
        A profile folder (relative to ``root``); ``None``: Snakemake's defaults, one core.
    root : Path
        The project root.

    Returns
    -------
    snakemake.settings.types.ResourceSettings
    """
    from snakemake.cli import parse_args
    from snakemake.settings.types import ResourceSettings

    argv = ["--snakefile", str(root / "Snakefile"), "--workflow-profile", "none"]
    if profile is None:
        argv += ["--profile", "none", "--cores", "1"]
    else:
        argv += ["--profile", str(root / profile)]
    with contextlib.redirect_stderr(io.StringIO()):  # "Using profile ... for setting default ..."
        _, args = parse_args(argv)
    return ResourceSettings(
        cores=args.cores,
        nodes=args.jobs,
        max_threads=args.max_threads,
        resources=args.resources,
        overwrite_threads=args.set_threads,
        overwrite_resources=args.set_resources,
        default_resources=args.default_resources,
    )


def _absolute(paths, root: Path) -> None:
    """Make every path of a Snakemake Namedlist absolute, in place (names follow their positions)."""
    for i, p in enumerate(paths):
        paths[i] = str(root / p)


def mock_snakemake(rulename: str, configfile: str | os.PathLike = TEST_CONFIG,
                   profile: str | os.PathLike | None = LOCAL_PROFILE, root: str | os.PathLike = ROOT,
                   config: Mapping | None = None, **wildcards):
    """The ``snakemake`` object one job of rule ``rulename`` hands its script, built by Snakemake itself.

    Parameters
    ----------
    rulename : str
        A rule of the workflow (``snakemake --list-rules``), e.g. ``"zoning"`` or ``"susceptibility"``.
    configfile : path
        The run's config, relative to ``root``; the small, coarse test config by default.
    profile : path or None
        The profile whose cores and resources the job gets (``profiles/local``); ``None``: none.
    root : path
        The project root (the folder with the Snakefile).
    config : mapping, optional
        Keys overriding the config file's (like ``snakemake --config``), e.g. ``{"results_dir": "/tmp/r"}``.
    **wildcards
        The job's wildcards, e.g. ``hazard="geological"`` for ``susceptibility``.

    Returns
    -------
    snakemake.script.Snakemake
        With ``input``, ``output``, ``params``, ``wildcards``, ``threads``, ``resources``, ``log``,
        ``config`` and ``rule``, as the script's global ``snakemake`` in a real run.

    Raises
    ------
    ValueError
        For an unknown rule (the message lists the rules), missing or extra wildcards, or wildcard
        values the rule does not make (e.g. ``susceptibility`` for an index hazard).
    """
    from snakemake.api import SnakemakeApi
    from snakemake.dag import DAG
    from snakemake.io import IOCache
    from snakemake.jobs import Job
    from snakemake.script import Snakemake
    from snakemake.settings.enums import Quietness
    from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings

    root = Path(root).resolve()
    resource_settings = profile_resource_settings(profile, root)
    config_settings = ConfigSettings(config=dict(config or {}), configfiles=[root / configfile])
    output_settings = OutputSettings(quiet={Quietness.ALL}, enable_file_logging=False)
    with SnakemakeApi(output_settings) as api:
        workflow_api = api.workflow(resource_settings=resource_settings, config_settings=config_settings,
                                    snakefile=root / "Snakefile", workdir=root)
        dag_settings = DAGSettings()
        workflow = workflow_api.dag(dag_settings).workflow_api._workflow
        workflow.iocache = IOCache(dag_settings.max_inventory_wait_time)  # what Workflow._build_dag sets up
        rules = {r.name: r for r in workflow.rules}
        if rulename not in rules:
            raise ValueError(f"no rule {rulename!r} in this workflow (with {configfile}); rules: "
                             + ", ".join(sorted(rules)))
        rule = rules[rulename]
        wanted, given = set(rule.wildcard_names), set(wildcards)
        if wanted != given:
            raise ValueError(f"rule {rulename} needs the wildcards {sorted(wanted) or 'none'}, "
                             f"got {sorted(given) or 'none'}")
        job = Job(rule, DAG(workflow, rules=[rule]), wildcards_dict={k: str(v) for k, v in wildcards.items()})
        if not all(rule.is_producer(f) for f in job.output):
            raise ValueError(f"rule {rulename} does not make {dict(wildcards)} (its wildcard_constraints)")
        params, resources, log = job.params, job.resources, job.log  # evaluated on the project's own paths
        for paths in (job.input, job.output, log):
            _absolute(paths, root)
        sm = Snakemake(job.input, job.output, params, job.wildcards, job.threads, resources, log,
                       workflow.config, rule.name, None, scriptdir=str(root / "workflow" / "scripts"))
    for path in [*sm.log, *sm.output]:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return sm


def script_main(rulename: str, root: str | os.PathLike = ROOT):
    """The ``main(snakemake)`` of a rule's script, ``workflow/scripts/<rulename>.py`` (named after its rule).

    Parameters
    ----------
    rulename : str
        The rule, e.g. ``"zoning"``.
    root : path
        The project root.

    Returns
    -------
    callable
        ``main``; call it with :func:`mock_snakemake`'s object to run the script in this process.
    """
    import runpy

    path = Path(root) / "workflow" / "scripts" / f"{rulename}.py"
    if not path.exists():
        raise ValueError(f"no script {path} for rule {rulename}")
    return runpy.run_path(str(path), run_name=f"mock_{rulename}")["main"]
