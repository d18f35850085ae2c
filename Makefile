# Two commands a user needs (see README):
#   make run   -> set up .venv and run the whole DAG on the bundled Lingyuan demo
#   make test  -> set up .venv and run the test suite (ruff + every test, the end-to-end DAG runs too)
# and the developer's loop:
#   make test-fast -> ruff + every test except the end-to-end DAG runs (pytest -m "not slow"), under a minute
# Set-up needs only python3 (3.11+) on the PATH: uv is installed into .venv from PyPI,
# then installs the pinned stack from requirements.lock.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CORES  ?= 2
CONFIG ?= configs/config.yaml
UV_VERSION := 0.13.9
export GDAL_CACHEMAX ?= 256
# Bytecode: every job, kernel and test worker is a Python process; with PYTHONDONTWRITEBYTECODE set (as on many
# machines) each one would recompile every library it imports, 3-7 s a job. Here the bytecode of what is imported
# is written into .venv once, at its first import (Python writes it atomically: processes side by side are safe);
# compiling all of .venv at set-up instead took 10 s of a fresh clone's `make run` for modules no job imports.
# The Snakefile does the same for the DAG's jobs however Snakemake is started.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: setup run test test-fast lint dry-run report bench bench-region clean jupyter notebooks

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

RESULTS = $(shell $(BIN)/python -m risk.config --results-dir $(CONFIG) 2>/dev/null || echo results)

run: setup
	@$(BIN)/python -m risk.config $(CONFIG)
	$(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG) --profile profiles/local \
	  --report $(RESULTS)/report.html --report-after-run

report: setup
	$(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG) --report $(RESULTS)/report.html

# The reviewers' notebooks: the run writes them executed as HTML under $(RESULTS)/notebooks/; to open and rerun
# them interactively, `make jupyter` adds JupyterLab to .venv (optional, not in requirements.lock) and
# `make notebooks` opens notebooks/ on $(RESULTS).
JUPYTERLAB_VERSION := 4.6.6

jupyter: setup
	$(BIN)/uv pip install --quiet --python $(BIN)/python "jupyterlab==$(JUPYTERLAB_VERSION)"

notebooks: jupyter
	RISK_RESULTS=$(abspath $(RESULTS)) $(BIN)/jupyter lab notebooks/

dry-run: setup
	@$(BIN)/python -m risk.config $(CONFIG)
	$(BIN)/snakemake -n --cores $(CORES) --configfile $(CONFIG) --profile profiles/local

test: setup
	$(BIN)/ruff check risk workflow tests bench
	$(BIN)/python -m pytest -n $(CORES) -q

test-fast: setup
	$(BIN)/ruff check risk workflow tests bench
	$(BIN)/python -m pytest -n $(CORES) -q -m "not slow"

lint: setup
	$(BIN)/ruff check risk workflow tests bench
	$(BIN)/snakemake --lint --configfile $(CONFIG)

bench: setup
	$(BIN)/python bench/bench_indicators.py
	$(BIN)/python bench/bench_dag.py

# The raster stages on a mirror-tiled region of 10^7 and 10^8 cells (README, "Prefecture scale"; about an hour
# on 2 cores, 15 GB of disk in a temporary folder). It mirrors a finished run of $(CONFIG): `make run` first.
REGION_CELLS ?= 1e7 1e8
bench-region: setup
	nice -n 10 $(BIN)/python bench/bench_region.py --source-config $(CONFIG) --cells $(REGION_CELLS)

clean:
	rm -rf results data/demo .snakemake
