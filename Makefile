# Dialstream — everyday commands. `make run` starts the embedded default; `make test` runs
# every test, the integration ones against a real PostgreSQL started by compose/postgres.sh.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PACKAGES := dialstream domain schemas processors projections gateway

# `make run` passes these through when set on the make command line or in the environment.
RUN_VARS := DIALSTREAM_HOST DIALSTREAM_PORT DIALSTREAM_DATA_DIR DIALSTREAM_BOOTSTRAP_KEY
$(foreach v,$(RUN_VARS),$(if $(filter environment% command%,$(origin $(v))),$(eval export $(v))))

# `make bench ONLY=store` runs one benchmark group.
ONLY ?=
# `make test PYTEST_ARGS="-k store -x"` narrows a test run.
PYTEST_ARGS ?=
# The suite runs on one pytest-xdist worker per core (at most four), an idle one taking tests
# queued on a busy one; each starts its own PostgreSQL, Kafka and Redis. WORKERS=0: one process.
WORKERS ?= auto

.PHONY: help install deps run test bench lint clean

help:
	@echo "make install   create $(VENV) with uv (uv sync --frozen)"
	@echo "make deps      apt-get install the Debian packages the tests need (compose/install-deps.sh)"
	@echo "make run       start Dialstream, embedded (DIALSTREAM_HOST/PORT/DATA_DIR/BOOTSTRAP_KEY)"
	@echo "make test      run all tests, PostgreSQL included (PYTEST_ARGS=..., WORKERS=N|0)"
	@echo "make bench     run the benchmarks (ONLY=store for one group)"
	@echo "make kafka-up  start a local Kafka broker in var/kafka (compose/kafka.sh); prints its address"
	@echo "make kafka-down  stop the broker of var/kafka (its data stays)"
	@echo "make lint      ruff check, mypy and the import layers (lint-imports)"
	@echo "make clean     remove caches and build output"

install:
	@command -v uv >/dev/null || python3 -m pip install --quiet uv
	$$(command -v uv || echo python3 -m uv) sync --frozen

deps:
	compose/install-deps.sh

run: install
	$(VENV)/bin/dialstream up

test: install deps
	$(VENV)/bin/pytest $(if $(filter 0,$(WORKERS)),,-n $(WORKERS) --maxprocesses 4 --dist worksteal) $(PYTEST_ARGS)

bench: install deps
	$(VENV)/bin/python -m tests.bench $(if $(ONLY),--only $(ONLY))

.PHONY: kafka-up kafka-down

kafka-up:
	@address=$$(compose/kafka.sh start var/kafka); \
	echo "$$address"; \
	echo "export DIALSTREAM_BUS=kafka://$$address"

kafka-down:
	compose/kafka.sh stop var/kafka

# lint-imports checks the layer and no-cycle contracts of pyproject.toml ([tool.importlinter]).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy $(PACKAGES)
	$(VENV)/bin/lint-imports --no-cache

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
