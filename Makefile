# dentops: set-up, checks and demo. See docs/development.md.
#
#   make test    lint + types + import contracts, then pytest (SQLite and a throwaway PostgreSQL)
#   make demo    build a demo practice under data/demo
#
# Needs only python3 (3.11) and network access to PyPI on first run; everything else is installed
# into .tools/ (uv) and .venv/ (the locked project environment).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
# Version-named stamp: bumping UV_VERSION reinstalls uv into .tools.
UV_STAMP := .tools/.uv-$(UV_VERSION)
VENV := .venv
VENV_STAMP := $(VENV)/.dentops-synced

PYTEST_ARGS ?=
# mypy fails on a missing path, so check whichever of these exist.
MYPY_PATHS := $(wildcard core_app simulator pipelines models optimizer dashboards tests bench notebooks)

# uv: project environment in ./.venv, the system Python (never a downloaded one), copied files
# (the uv cache may be on another filesystem).
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
# Install compiled bytecode: every later process (tests, CLI, dbt's subprocess) then imports it
# instead of compiling each library's source again, which happens every time wherever
# PYTHONDONTWRITEBYTECODE is set (dbt's import: 6.3 s -> 2.7 s on the 2-core machine).
export UV_COMPILE_BYTECODE := 1

# Nothing phones home: with these only loopback connections remain (see shared STACK.md).
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 300
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false
export STREAMLIT_SERVER_HEADLESS := true

.PHONY: help venv test lint pytest demo clean chromium

help:
	@echo "make venv    create/refresh .venv from uv.lock (skipped when up to date)"
	@echo "make test    lint, then pytest against SQLite and a throwaway PostgreSQL"
	@echo "make lint    ruff check, ruff format --check, mypy, lint-imports"
	@echo "make pytest  pytest only (PYTEST_ARGS='-n 2 -k name' to pass options)"
	@echo "make demo    build data/demo, run the pipeline on it, serve the dashboard"
	@echo "make clean   remove .venv, .tools and caches (keeps data/ and artifacts/)"

venv: $(VENV_STAMP)

$(UV_STAMP):
	test -x .tools/bin/python || $(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	rm -f .tools/.uv-*
	touch $@

# Re-synced when the lock or pyproject.toml changes; core_app is installed editable, so code
# changes need no re-sync.
$(VENV_STAMP): pyproject.toml uv.lock $(UV_STAMP)
	$(UV) sync --frozen
	touch $@

# Runs every check and reports all failures before failing.
lint: $(VENV_STAMP)
	@status=0; \
	for check in "ruff check ." "ruff format --check ." "mypy $(MYPY_PATHS)" "lint-imports --no-logo"; do \
		echo "==> $$check"; \
		$(VENV)/bin/$$check || status=1; \
	done; \
	exit $$status

# Two shards at once (one per CPU), each seeing DENTOPS_TEST_POSTGRES_URL for its own fresh
# PostgreSQL cluster, removed afterwards (scripts/pytest-shards.sh; SHARDS=1 for one process).
PYTEST_CMD = scripts/pytest-shards.sh $(VENV)/bin/pytest -q $(PYTEST_ARGS)

pytest: $(VENV_STAMP) chromium
	$(PYTEST_CMD)

# Lint first (fails fast, before any test runs), then the tests.
test: lint chromium
	$(PYTEST_CMD)

# The dashboards' browser test drives Debian's Chromium (shared STACK.md, trap 9): installed here
# when missing, only as root and only through apt-get (as scripts/with-postgres.sh does for
# PostgreSQL). Not root: the test skips locally and fails under CI=true.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "==> apt-get install chromium"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else \
			echo "chromium is missing and this is not root: the browser test will be skipped"; \
		fi; \
	fi

# The demo practice, the whole pipeline on it (warehouse, no-show model and scores, demand
# forecast, suggestions, warehouse again so the model-health marts see the scores), then the
# dashboard in the foreground with the demo staff accounts printed (Ctrl-C stops it).
DEMO_DIR := data/demo
DEMO_PORT ?= 8501
demo: $(VENV_STAMP)
	$(VENV)/bin/dentops demo --data-dir $(DEMO_DIR) --models
	$(VENV)/bin/dentops dashboard --data-dir $(DEMO_DIR) --port $(DEMO_PORT)

clean:
	rm -rf $(VENV) .tools .prefect .pytest_cache .mypy_cache .ruff_cache .hypothesis \
		.import_linter_cache dbt_project/target dbt_project/logs
	find . \( -path ./.git -o -path ./data -o -path ./artifacts \) -prune \
		-o -name __pycache__ -type d -prune -exec rm -rf {} +
