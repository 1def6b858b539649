# csirt — the two commands are `make run` and `make test`; see README.md.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PORT ?= 5000
PYTHON ?= python3
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test install lock audit-deps catalogs translations lint typecheck pytest pytest-pg checks-then-pytest-pg pytest-quick check-apt bench bench-quick bench-guard smoke clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Dependencies come only from requirements.lock, every file checked against its pinned hash;
# csirt itself is then installed without resolving anything (`make lock` after changing setup.cfg).
$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml requirements.lock
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	@touch $@

# Re-resolve the pinned set (with hashes) from setup.cfg and requirements-tools.in.
lock: $(BIN)/python
	$(BIN)/pip install -q pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --no-emit-index-url \
	  --no-emit-find-links --strip-extras --extra test -o requirements.lock setup.cfg requirements-tools.in

# Known vulnerabilities in the locked set. pip-audit asks PyPI's JSON API (or OSV); where neither
# is reachable it cannot audit, says so loudly, and passes unless CSIRT_REQUIRE_AUDIT=1.
audit-deps: install
	$(BIN)/pip check
	@out=$$($(BIN)/pip-audit --strict --progress-spinner off --disable-pip --require-hashes \
	  -r requirements.lock 2>&1); rc=$$?; echo "$$out" | grep -v "could not be audited" | tail -n 20; \
	if [ $$rc -eq 0 ]; then exit 0; fi; \
	if echo "$$out" | grep -q "known vulnerabilit"; then exit 1; fi; \
	if echo "$$out" | grep -q "could not be audited"; then \
	  echo "WARNING: the vulnerability service is unreachable: dependencies were NOT audited"; \
	  [ "$${CSIRT_REQUIRE_AUDIT:-0}" != 1 ]; exit $$?; fi; \
	exit $$rc

install: $(VENV)/.installed catalogs

# Compiled catalogs are build output (never in git): rebuilt on every install.
catalogs: $(VENV)/.installed
	@$(BIN)/pybabel compile -q -d csirt/translations -f 2>/dev/null || $(BIN)/pybabel compile -d csirt/translations -f >/dev/null

# After changing UI strings: extract, merge, then translate the new entries in ja/messages.po.
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 --no-location --omit-header --sort-output -o csirt/translations/messages.pot . >/dev/null 2>&1
	$(BIN)/pybabel update -i csirt/translations/messages.pot -d csirt/translations --omit-header --no-fuzzy-matching >/dev/null 2>&1

run: install
	@mkdir -p instance
	CSIRT_COOKIE_SECURE=$${CSIRT_COOKIE_SECURE:-false} CSIRT_BASE_URL=http://127.0.0.1:$(PORT) $(BIN)/csirt db upgrade
	@CSIRT_BASE_URL=http://127.0.0.1:$(PORT) $(BIN)/csirt demo seed
	@echo "Serving on http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	CSIRT_COOKIE_SECURE=$${CSIRT_COOKIE_SECURE:-false} CSIRT_BASE_URL=http://127.0.0.1:$(PORT) \
	  $(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers 2 --worker-class sync \
	  --no-control-socket \
	  wsgi:app

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy csirt

# Pass 1: SQLite with branch coverage (browser tests included when Chromium is present).
PYTEST_SQLITE := $(BIN)/pytest -q -p no:cacheprovider --cov=csirt --cov-branch --cov-report=term --cov-fail-under=90
pytest: install
	$(PYTEST_SQLITE)

# Pass 2: every test that touches the database again, on a throwaway PostgreSQL (started and
# stopped by the test fixtures); the story suite (tests/story, marker `story`) runs here too,
# its browser steps included. Tests that touch no database are left out (tests/conftest.py).
PYTEST_PG := CSIRT_TEST_BACKEND=postgres $(BIN)/pytest -q -p no:cacheprovider -m "not browser or story"
pytest-pg: install
	$(PYTEST_PG)

# `make test` runs two lanes at once on the machine's cores: the SQLite pass (the longest), and
# lint, typecheck, audit-deps then the PostgreSQL pass. Much of each pass waits on Chromium,
# servers and sockets, and the passes share nothing (each has its own temporary folder,
# database, ports and test-output/story/<backend>). Each step's output is printed whole when it
# ends; any step failing fails `make test`.
test: install
	@$(MAKE) --no-print-directory -j2 --output-sync=target pytest checks-then-pytest-pg

checks-then-pytest-pg: lint typecheck audit-deps
	$(PYTEST_PG)

# While working: everything but the tests marked `slow` (fuzzing, crash, smoke load, every
# browser and story test), no coverage. `make test` (and CI) runs them all.
pytest-quick: install
	$(BIN)/pytest -q -p no:cacheprovider -m "not slow"

bench: install
	$(PY) -m bench.run

bench-quick: install
	$(PY) -m bench.run --quick

# Regression guard (CI, about a minute): the SQLite pages' ratios to the bare 50-row page of the
# same run must stay within 20% of those stored in bench/BASELINE.md.
bench-guard: install
	$(PY) -m bench.run --guard bench/BASELINE.md

# The production recipe (deploy/gunicorn.conf.py) under a short smoke load on 127.0.0.1.
smoke: install
	$(BIN)/pytest -q -p no:cacheprovider tests/test_deploy.py

clean:
	rm -rf $(VENV) .coverage .mypy_cache .ruff_cache test-output build *.egg-info
	find csirt/translations -name '*.mo' -delete
