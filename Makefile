# csirt — the two commands are `make run` and `make test`; see README.md.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PORT ?= 5000
PYTHON ?= python3
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test install catalogs translations lint typecheck pytest pytest-pg check-apt bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

install: $(VENV)/.installed catalogs

# Compiled catalogs are build output (never in git): rebuilt on every install.
catalogs: $(VENV)/.installed
	@$(BIN)/pybabel compile -q -d csirt/translations -f 2>/dev/null || $(BIN)/pybabel compile -d csirt/translations -f >/dev/null

# After changing UI strings: extract, merge, then translate the new entries in ja/messages.po.
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --omit-header --sort-output -o csirt/translations/messages.pot . >/dev/null 2>&1
	$(BIN)/pybabel update -i csirt/translations/messages.pot -d csirt/translations --omit-header --no-fuzzy-matching >/dev/null 2>&1

run: install
	@mkdir -p instance
	CSIRT_COOKIE_SECURE=$${CSIRT_COOKIE_SECURE:-false} CSIRT_BASE_URL=http://127.0.0.1:$(PORT) $(BIN)/csirt db upgrade
	@CSIRT_BASE_URL=http://127.0.0.1:$(PORT) $(BIN)/csirt demo seed
	@echo "Serving on http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	CSIRT_COOKIE_SECURE=$${CSIRT_COOKIE_SECURE:-false} CSIRT_BASE_URL=http://127.0.0.1:$(PORT) \
	  $(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers 2 --threads 4 --worker-class gthread \
	  wsgi:app

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy csirt

# Pass 1: SQLite with branch coverage (browser tests included when Chromium is present).
pytest: install
	$(BIN)/pytest -q -p no:cacheprovider --cov=csirt --cov-branch --cov-report=term --cov-fail-under=90

# Pass 2: the same suite on a throwaway PostgreSQL (started and stopped by the test fixtures).
pytest-pg: install
	CSIRT_TEST_BACKEND=postgres $(BIN)/pytest -q -p no:cacheprovider -m "not browser"

test: lint typecheck pytest pytest-pg

bench: install
	$(PY) -m bench.run

bench-quick: install
	$(PY) -m bench.run --quick

clean:
	rm -rf $(VENV) .coverage .mypy_cache .ruff_cache test-output build *.egg-info
	find csirt/translations -name '*.mo' -delete
