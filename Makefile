# The two commands a new machine needs: `make dev` runs the product locally, `make test` runs every check.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev demo test lint typecheck pytest install clean

$(STAMP): pyproject.toml package.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	npm install --no-audit --no-fund --loglevel=error
	touch $(STAMP)

install: $(STAMP)

# `make dev DEV_ARGS="--port 8080"`; `make demo` also loads the demo campaign with 30 days of history.
DEV_ARGS ?=

dev: $(STAMP)
	$(BIN)/vidstats dev $(DEV_ARGS)

demo: $(STAMP)
	$(BIN)/vidstats dev --demo $(DEV_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check functions tests bench
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

test: lint pytest

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
