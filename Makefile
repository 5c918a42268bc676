# csrisk — the two commands that are always true: `make demo` and `make test`.
# Everything runs from a local virtualenv (.venv) that the first target creates.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# With no services the suite runs on every core (pytest-xdist). With DATABASE_URL or
# REDIS_URL it runs in one process for now; PYTEST_WORKERS=auto runs it in parallel there
# too (each worker has a test database and cache keys of its own, and the real-worker
# tests, which share one broker, run on one worker: tests/conftest.py), not yet proven
# over a whole run.
PYTEST_WORKERS ?= $(if $(DATABASE_URL)$(REDIS_URL),0,auto)
BENCH ?=

.PHONY: demo test bench load install lint format migrate run check-deploy clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "csrisk needs Python 3.11, found " + sys.version.split()[0]'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

# The demo and the local server are a developer's machine: DEBUG on (settings default it
# off), unless the environment says otherwise. Prerequisites (migrate) inherit it.
demo run: export DEBUG ?= 1

## demo: install, migrate, load the demo book (once) and serve it on http://127.0.0.1:8000
demo: migrate
	$(PY) manage.py seed_demo --if-empty
	@echo ""
	@echo "  csrisk is running at http://$(HOST):$(PORT)/"
	@echo "  Log in as csm1, lead1, vp, ceo, exec1, support1 or admin — password: demo"
	@echo "  API docs: http://$(HOST):$(PORT)/api/docs/   (Ctrl-C stops the server)"
	@echo ""
	$(PY) manage.py demo_server $(HOST):$(PORT)

# Tests run the development settings (DEBUG=1) whatever database they point at; the
# production settings have tests of their own (tests/csrisk/test_settings.py).
test: export DEBUG = 1

## test: the whole suite; with DATABASE_URL / REDIS_URL set it also runs on PostgreSQL and Redis
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

## bench: every benchmark in benchmarks/, a table, and benchmarks/results/latest.json
## (BENCH="summary velocity" runs only those; their figures replace the same ones)
bench: $(STAMP)
	$(PY) benchmarks/run.py $(BENCH)

## load: locust on the cockpit, the account list and signal batches (gunicorn, 2 workers)
## for LOAD_SECONDS (60); DATABASE_URL must name a scratch PostgreSQL database (flushed)
load: $(STAMP)
	$(PY) benchmarks/load.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

run: migrate
	$(PY) manage.py demo_server $(HOST):$(PORT)

## check-deploy: Django's deployment checklist against production settings
check-deploy: $(STAMP)
	DEBUG=0 SECRET_KEY=check-deploy-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
		ALLOWED_HOSTS=csrisk.example.com $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
