# The two fresh-machine commands are `make report` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= workflow/config/quick.yaml
CORES ?= all

.PHONY: setup test lint report clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: setup
	$(BIN)/ruff check harness tests
	$(BIN)/snakefmt --check Snakefile workflow

test: lint
	$(BIN)/pytest -q

report: setup
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/snakemake --profile workflow/profiles/local --cores $(CORES) --configfile $(CONFIG)
	@echo "report: $(abspath reports/report.html)"

# Keeps results/bench/ (committed measurements that `harness estimate` reads).
clean:
	rm -rf results/data results/refstats results/train results/samples results/metrics \
		results/analysis results/logs results/plan.json reports/report.html reports/assets .snakemake
