# Pacer — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
# The project pins Python 3.11: prefer that interpreter where several are installed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run demo test lint typecheck pytest bench stress clean schema browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Start the embedded (or DATABASE_URL) database, migrate, run the three services and the gateway.
run: $(STAMP)
	$(BIN)/pacer run

## Same as run, then load the demo year once everything is ready (or, with the stack running: pacer demo).
demo: $(STAMP)
	$(BIN)/pacer run --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

## Debian's Chromium for the dashboard's browser test; idempotent. When it cannot be installed
## (not root, no apt, no network) the browser test is skipped with its reason, never failed.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "chromium could not be installed: the dashboard's browser test will be skipped"; \
	  else \
	    echo "chromium is not installed (apt-get install chromium as root): the browser test will be skipped"; \
	  fi; }

## Lint, type-check and run the whole suite against a real PostgreSQL (embedded unless DATABASE_URL is set).
test: lint typecheck browser pytest

## Regenerate the committed GraphQL SDL after a schema change.
schema: $(STAMP)
	$(BIN)/python -m services.gateway.export_schema > services/gateway/schema.graphql

## The benchmarks of docs/benchmarks.md (each starts its own database and processes; minutes each).
bench: $(STAMP)
	$(BIN)/python bench/ingest.py --runs 5
	$(BIN)/python bench/query.py
	$(BIN)/python bench/dashboard.py

## The long proofs: kill-and-retry with 200,000 events and 12 kills, a fuzz of 150 examples per
## operation, bigger races, then a 60 s mixed soak against a stack of its own (figures printed).
stress: $(STAMP)
	PACER_STRESS=1 $(BIN)/pytest -q tests/proof
	$(BIN)/python bench/soak.py --seconds 60 --clients 8

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
