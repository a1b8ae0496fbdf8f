# VTM — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CATALOG ?= examples/training_catalog.yaml
export VTM_HOME ?= $(CURDIR)/.vtm

.PHONY: run test lint format typecheck unit bench services clean web web-test chromium

WEB_DEPS := web/node_modules/.package-lock.json
WEB_BUILD := src/vtm/web/index.html
WEB_SOURCES := $(shell find web/src web/index.html web/vite.config.ts web/package.json web/tsconfig*.json -type f 2>/dev/null)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[examples,dev]'
	@touch $(STAMP)

$(WEB_DEPS): web/package-lock.json
	npm ci --prefix web --no-audit --no-fund
	@touch $(WEB_DEPS)

# The UI is built into the Python package (src/vtm/web/), rebuilt when a source is newer.
$(WEB_BUILD): $(WEB_DEPS) $(WEB_SOURCES)
	npm --prefix web run build

web: $(WEB_BUILD)

## run: create the environment, build the UI if needed, serve the sample catalog on :8000
##      with MLflow on :5000 and TensorBoard on :6006 beside it
run: $(STAMP) $(WEB_BUILD)
	$(BIN)/vtm serve --catalog $(CATALOG) --mlflow-server --tensorboard

web-test: $(WEB_DEPS)
	npm --prefix web run lint
	npm --prefix web run check:api
	npm --prefix web test

## chromium: Debian's Chromium for the end-to-end tests (never a downloaded browser)
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

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

unit: $(STAMP) $(WEB_BUILD) services chromium
	$(BIN)/pytest

## test: lint, type-check, the UI's tests and the whole test suite (SQLite and PostgreSQL)
test: lint typecheck web-test unit

## bench: the benchmarks of docs/benchmarks.md, printed as a table
bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
