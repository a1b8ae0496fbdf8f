# VTM — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CATALOG ?= examples/training_catalog.yaml
export VTM_HOME ?= $(CURDIR)/.vtm

# Where PYTHONDONTWRITEBYTECODE is set (some sandboxes and CI images set it), Python keeps no
# bytecode cache, so every process compiles every module it imports again: a `vtm serve` then
# spends about 5 s of CPU instead of 1.3 s on its imports, a trainer importing torch or Airflow
# far more, and the test suite starts hundreds of them. What gets cached lies in the
# environments and __pycache__ folders, all git-ignored.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test test-fast fast-unit lint format typecheck unit bench services clean web \
	web-test chromium airflow airflow-env ray ray-env

WEB_DEPS := web/node_modules/.package-lock.json
WEB_BUILD := src/vtm/web/index.html
WEB_SOURCES := $(shell find web/src web/index.html web/vite.config.ts web/package.json web/tsconfig*.json -type f 2>/dev/null)

# VTM's API client (clients/python, httpx only), installed from here with VTM, which lists it.
CLIENT := clients/python
# What trainers import to report their progress (clients/reporting, no dependencies), likewise.
REPORTING := clients/reporting

# Every environment is installed by uv (into .venv first, by pip): it resolves and installs the
# three environments in well under a minute where pip took minutes. uv does not read pip's
# configuration, so the wheel folders pip is told to look in (a machine's CPU build of torch, say)
# are passed on; without them a pinned torch would come from PyPI as a CUDA build of gigabytes.
UV := $(BIN)/uv
FIND_LINKS ?= $(shell $(PYTHON) -m pip config get global.find-links 2>/dev/null)
INSTALL = $(UV) pip install --quiet $(addprefix --find-links ,$(FIND_LINKS)) --python

$(UV):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet 'uv>=0.9,<1'

# VTM, and the test kit the tests and benchmarks share (testkit/: httpx and psutil only).
$(STAMP): $(UV) pyproject.toml testkit/pyproject.toml $(CLIENT)/pyproject.toml $(REPORTING)/pyproject.toml
	$(INSTALL) $(BIN)/python -e $(CLIENT) -e $(REPORTING) -e '.[examples,dev]' -e testkit
	@touch $(STAMP)

$(WEB_DEPS): web/package-lock.json
	npm ci --prefix web --no-audit --no-fund
	@touch $(WEB_DEPS)

# The UI is built into the Python package (src/vtm/web/), rebuilt when a source is newer.
$(WEB_BUILD): $(WEB_DEPS) $(WEB_SOURCES)
	npm --prefix web run build

web: $(WEB_BUILD)

# Ray in an environment of its own (it pins protobuf, grpcio and pydantic); VTM talks to its
# dashboard over HTTP only. Ray finds the machine's GPUs itself; RAY_GPUS=N declares N instead
# (on a machine without any, declared ones show how runs are placed).
RAY_VENV := .venv-ray
RAY_STAMP := $(RAY_VENV)/.installed
RAY_VERSION := 2.60.0
RAY_DASHBOARD_PORT ?= 8265
# Ray's own default for its GCS is 6379, Redis's port: a machine with Redis running (the tests'
# machine, a team's) would refuse the head.
RAY_GCS_PORT ?= 6385
RAY_GPUS ?=
RAY_ADDRESS_URL := http://127.0.0.1:$(RAY_DASHBOARD_PORT)
$(RAY_STAMP): $(UV)
	@test -x $(RAY_VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON) $(RAY_VENV)
	$(INSTALL) $(RAY_VENV)/bin/python 'ray[default]==$(RAY_VERSION)'
	@touch $(RAY_STAMP)

## ray-env: Ray in .venv-ray
ray-env: $(RAY_STAMP)

## ray: a local Ray head (dashboard and Jobs API on :8265; RAY_GPUS=N declares N GPUs) in the
##      foreground; Ctrl-C (or SIGTERM) stops it. Then `make run RAY=1` sends runs to it
##      (docs/scaling.md).
ray: $(RAY_STAMP) $(STAMP)
	@# Its job drivers run VTM's `vtm exec`, with run folders under .vtm-ray/, handed to a
	@# spare `vtm exec` beside the head (docs/scaling.md). Ray stays in the foreground, where
	@# Ctrl-C reaches it and its children; the spare hears it too, and the trap is for the rest.
	@mkdir -p .vtm-ray
	export RAY_USAGE_STATS_ENABLED=0 VTM_HOME=$(CURDIR)/.vtm-ray \
		VTM_EXEC_SPARE=$(CURDIR)/.vtm-ray/exec-spare.sock PATH=$(CURDIR)/$(RAY_VENV)/bin:$$PATH; \
	$(BIN)/vtm exec-spare & trap "kill $$! 2>/dev/null" EXIT; \
	$(RAY_VENV)/bin/ray start --head --block --port=$(RAY_GCS_PORT) \
		$(if $(RAY_GPUS),--num-gpus=$(RAY_GPUS)) \
		--include-dashboard=true --dashboard-host=127.0.0.1 \
		--dashboard-port=$(RAY_DASHBOARD_PORT) --disable-usage-stats

# RAY=1: runs may go to the Ray head of `make ray` (the launch form then offers the choice).
RUN_RAY = $(if $(RAY),VTM_RAY_ADDRESS=$(RAY_ADDRESS_URL) VTM_RAY_VTM=$(CURDIR)/$(BIN)/vtm)

## run: create the environment, build the UI if needed, serve the sample catalog on :8000
##      with MLflow on :5000 and TensorBoard on :6006 beside it; RAY=1: with `make ray`'s Ray
run: $(STAMP) $(WEB_BUILD)
	$(RUN_RAY) $(BIN)/vtm serve --catalog $(CATALOG) --mlflow-server --tensorboard

# Airflow in an environment of its own: it pins an older FastAPI than VTM's server.
AIRFLOW_VENV := .venv-airflow
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed
AIRFLOW_VERSION := 3.3.2
# CeleryExecutor (`make airflow CELERY=1`, and its tests): Celery, and Redis's client for the
# broker. Celery 5.7 dropped `celery.backends.database.retry`, which the provider imports.
AIRFLOW_CELERY := apache-airflow-providers-celery==3.26.0 celery==5.6.3
VTM_URL ?= http://127.0.0.1:8000
# What the DAG file builds DAGs from: a catalog file, or VTM's URL (its validated pipelines).
AIRFLOW_CATALOG ?= $(abspath $(CATALOG))

# The API client from here too: the provider depends on it.
$(AIRFLOW_STAMP): $(UV) providers/airflow/pyproject.toml $(CLIENT)/pyproject.toml
	@test -x $(AIRFLOW_VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON) $(AIRFLOW_VENV)
	$(INSTALL) $(AIRFLOW_VENV)/bin/python -e $(CLIENT) apache-airflow==$(AIRFLOW_VERSION) \
		$(AIRFLOW_CELERY) -e providers/airflow
	@touch $(AIRFLOW_STAMP)

## airflow-env: Airflow and the vtm-airflow provider in .venv-airflow
airflow-env: $(AIRFLOW_STAMP)

# The framework trainers the tests run (tests/frameworks/: Lightning, Hugging Face, Hydra,
# torchrun…) in an environment of their own, as a team's trainers would be; with vtm-reporting.
TRAINERS_VENV := .venv-trainers
TRAINERS_STAMP := $(TRAINERS_VENV)/.installed
$(TRAINERS_STAMP): $(UV) tests/frameworks/requirements.txt $(REPORTING)/pyproject.toml
	@test -x $(TRAINERS_VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON) $(TRAINERS_VENV)
	$(INSTALL) $(TRAINERS_VENV)/bin/python -r tests/frameworks/requirements.txt -e $(REPORTING)
	@touch $(TRAINERS_STAMP)

.PHONY: trainers-env
## trainers-env: the framework trainers' environment, .venv-trainers
trainers-env: $(TRAINERS_STAMP)

# The provider's tests also need pytest, mypy and the test kit in that environment.
AIRFLOW_TEST_STAMP := $(AIRFLOW_VENV)/.test-installed
$(AIRFLOW_TEST_STAMP): $(AIRFLOW_STAMP) providers/airflow/pyproject.toml testkit/pyproject.toml
	$(INSTALL) $(AIRFLOW_VENV)/bin/python -e 'providers/airflow[test]' -e testkit
	@touch $(AIRFLOW_TEST_STAMP)

.PHONY: provider-test
## provider-test: the vtm-airflow provider's tests: real Airflow (dag.test) driving real
##                `vtm serve`s (the pilot pipelines train the sample models on the CPU)
PROVIDER_WORKERS ?= $(WORKERS)
provider-test: $(STAMP) $(AIRFLOW_TEST_STAMP)
	$(AIRFLOW_VENV)/bin/pytest $(call xdist,$(PROVIDER_WORKERS)) providers/airflow/tests

## airflow: `airflow standalone` on :8080 (home .airflow/) with the catalog's pipelines as DAGs
##          and a `vtm` connection to VTM at $(VTM_URL) (token: $$VTM_TOKEN); run `make run` too.
##          Ctrl-C or SIGTERM stops every Airflow process (SIGKILL after AIRFLOW_STOP_GRACE s).
##          CELERY=1: the CeleryExecutor instead, Redis at CELERY_BROKER as its broker, and one
##          Celery worker taking the queues AIRFLOW_QUEUES (comma-separated, default "default").
# AIRFLOW_HOME is make's own here (an exported one, maybe another Airflow's, is not used):
# `make airflow AIRFLOW_HOME=dir AIRFLOW_PORT=8081` for a second, separate Airflow.
airflow: AIRFLOW_HOME := $(CURDIR)/.airflow
AIRFLOW_PORT ?= 8080
AIRFLOW_STOP_GRACE ?= 10
AIRFLOW_QUEUES ?= default
CELERY_BROKER ?= redis://127.0.0.1:6379/0
CELERY_RESULTS ?= $(CELERY_BROKER)
ifeq ($(CELERY),1)
# standalone would force its LocalExecutor: standalone/celery.py starts the same components and
# the worker itself.
AIRFLOW_COMMAND = $(AIRFLOW_VENV)/bin/python providers/airflow/standalone/celery.py \
	$(CURDIR)/$(AIRFLOW_VENV)/bin/airflow
AIRFLOW_EXECUTOR = AIRFLOW__CORE__EXECUTOR=CeleryExecutor \
	AIRFLOW__CELERY__BROKER_URL=$(CELERY_BROKER) \
	AIRFLOW__CELERY__RESULT_BACKEND=$(CELERY_RESULTS) \
	AIRFLOW_QUEUES=$(AIRFLOW_QUEUES)
else
AIRFLOW_COMMAND = $(AIRFLOW_VENV)/bin/airflow standalone
AIRFLOW_EXECUTOR =
endif
airflow: $(AIRFLOW_STAMP) $(STAMP)
	@mkdir -p $(AIRFLOW_HOME)
	@# standalone starts its components as `airflow …` from PATH: this environment's. It runs
	@# under standalone/run.py (exec: make's child), which stops all it starts when stopped.
	PATH=$(CURDIR)/$(AIRFLOW_VENV)/bin:$$PATH \
	AIRFLOW_HOME=$(abspath $(AIRFLOW_HOME)) \
	AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/providers/airflow/standalone/dags \
	AIRFLOW__CORE__LOAD_EXAMPLES=False \
	AIRFLOW__CORE__PARALLELISM=4 \
	AIRFLOW__API__HOST=127.0.0.1 \
	AIRFLOW__API__PORT=$(AIRFLOW_PORT) \
	AIRFLOW__CORE__EXECUTION_API_SERVER_URL=http://127.0.0.1:$(AIRFLOW_PORT)/execution/ \
	$(AIRFLOW_EXECUTOR) \
	VTM_CATALOG=$(AIRFLOW_CATALOG) \
	VTM_EXEC_COMMAND=$(CURDIR)/$(BIN)/vtm \
	AIRFLOW_CONN_VTM_DEFAULT="$$(VTM_URL=$(VTM_URL) $(AIRFLOW_VENV)/bin/python \
		providers/airflow/standalone/connection.py)" \
	exec $(AIRFLOW_VENV)/bin/python providers/airflow/standalone/run.py \
		--grace $(AIRFLOW_STOP_GRACE) $(AIRFLOW_COMMAND)

web-test: $(WEB_DEPS)
	npm --prefix web run lint
	npm --prefix web run check:api
	npm --prefix web test

## chromium: Debian's Chromium for the end-to-end tests (never a downloaded browser)
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

## services: make sure the local PostgreSQL and Redis the tests use are up
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
		echo "starting PostgreSQL"; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
		for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; \
		pg_isready -h 127.0.0.1 -p 5432; }
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || { \
		echo "starting Redis"; redis-server --bind 127.0.0.1 --save '' --daemonize yes; \
		for i in $$(seq 1 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done; \
		redis-cli -h 127.0.0.1 ping; }

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples providers/airflow testkit $(CLIENT) $(REPORTING)
	$(BIN)/ruff format --check src tests bench examples providers/airflow testkit $(CLIENT) $(REPORTING)

format: $(STAMP)
	$(BIN)/ruff format src tests bench examples providers/airflow testkit $(CLIENT) $(REPORTING)
	$(BIN)/ruff check --fix src tests bench examples providers/airflow testkit $(CLIENT) $(REPORTING)

typecheck: $(STAMP) $(AIRFLOW_TEST_STAMP)
	$(BIN)/mypy
	@# The provider is checked against Airflow's own environment (its config: providers/airflow).
	cd providers/airflow && ../../$(AIRFLOW_VENV)/bin/mypy
	@# The test kit (its config: testkit).
	cd testkit && ../$(BIN)/mypy
	@# The API client, for the oldest Python it supports (its config: clients/python).
	cd $(CLIENT) && ../../$(BIN)/mypy
	@# The reporting package, without the frameworks its callbacks subclass (its config).
	cd $(REPORTING) && ../../$(BIN)/mypy

# WORKERS pytest-xdist processes, each taking whole test files (a module's shared server or
# Airflow is set up once), the longest first (tests/conftest.py): docs/development.md has the
# measurements. WORKERS=0 runs serially.
WORKERS ?= 3
xdist = $(if $(filter 0,$(1)),,-n $(1) --dist loadfile --no-loadscope-reorder)
XDIST = $(call xdist,$(WORKERS))

# The Airflow environment too: tests/test_exec.py and tests/test_airflow_standalone.py run
# real Airflow from it.
unit: $(STAMP) $(WEB_BUILD) services chromium $(AIRFLOW_STAMP) $(TRAINERS_STAMP) $(RAY_STAMP)
	$(BIN)/pytest $(XDIST)

## test-fast: the inner loop: lint, type checks and the tests that need neither Airflow,
##            Chromium, PostgreSQL, Ray nor the framework trainers (docs/development.md: markers)
# As in `test`, the checks run beside the tests.
test-fast:
	@$(MAKE) --no-print-directory -j3 lint typecheck fast-unit

fast-unit: $(STAMP) $(WEB_BUILD)
	$(BIN)/pytest $(XDIST) -m "not airflow and not chromium and not frameworks and not ray" \
		-k "not postgresql"

## test: lint, type-check, the UI's tests, the whole test suite (SQLite and PostgreSQL) and the
##       Airflow provider's tests (in .venv-airflow)
# The checks (one core each) and the provider's tests (one process) run beside the suite: side
# by side, the two cores stay busy (docs/development.md has the timings).
test:
	@$(MAKE) --no-print-directory -j5 lint typecheck web-test unit provider-test PROVIDER_WORKERS=0

## bench: the benchmarks of docs/benchmarks.md, printed as a table
bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(AIRFLOW_VENV) $(TRAINERS_VENV) $(RAY_VENV) .airflow .vtm-ray .mypy_cache \
		.ruff_cache .pytest_cache
