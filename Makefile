# VTM — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CATALOG ?= examples/training_catalog.yaml
export VTM_HOME ?= $(CURDIR)/.vtm

.PHONY: run test lint format typecheck unit bench services clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[examples,dev]'
	@touch $(STAMP)

## run: create the environment if needed and serve the sample catalog on http://127.0.0.1:8000
run: $(STAMP)
	$(BIN)/vtm serve --catalog $(CATALOG)

## services: make sure the local PostgreSQL the tests use is up
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
		echo "starting PostgreSQL"; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
		for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; \
		pg_isready -h 127.0.0.1 -p 5432; }

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

format: $(STAMP)
	$(BIN)/ruff format src tests bench examples
	$(BIN)/ruff check --fix src tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) services
	$(BIN)/pytest

## test: lint, type-check and the whole test suite (SQLite and PostgreSQL)
test: lint typecheck unit

## bench: the benchmarks of docs/benchmarks.md, printed as a table
bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
