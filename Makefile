# Pacer — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run demo test lint typecheck pytest bench stress clean schema

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Start the embedded (or DATABASE_URL) database, migrate, run the three services and the gateway.
run: $(STAMP)
	$(BIN)/pacer run

## Same as run, then load the demo year once everything is ready.
demo: $(STAMP)
	$(BIN)/pacer run --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

## Lint, type-check and run the whole suite against a real PostgreSQL (embedded unless DATABASE_URL is set).
test: lint typecheck pytest

## Regenerate the committed GraphQL SDL after a schema change.
schema: $(STAMP)
	$(BIN)/python -m services.gateway.export_schema > services/gateway/schema.graphql

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/query.py

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
