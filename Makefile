# The two commands a new machine needs: `make dev` runs the product locally, `make test` runs every check.
# `make build` makes the deployment artefact (sam build) and proves every handler imports from it alone.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := functions/requirements.txt
# The SAM CLI lives in its own virtualenv: its pins are its own business, not the project's.
SAM_CLI_VERSION := 1.170.0
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam

.PHONY: dev demo test lint typecheck pytest install lock build clean web

# The web dashboard (web/): npm packages from its lock, then esbuild writes index.html and content-hashed files
# where the dashboard function serves them (and `sam build` packs them); rebuilt when a source changes.
WEB_OUT := functions/dashboard_api/static
WEB_BUILT := $(WEB_OUT)/index.html
WEB_MODULES := web/node_modules/.package-lock.json
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/build.mjs web/tsconfig.json

$(WEB_MODULES): web/package.json web/package-lock.json
	npm ci --prefix web --no-audit --no-fund --loglevel=error
	touch $(WEB_MODULES)

$(WEB_BUILT): $(WEB_MODULES) $(WEB_SOURCES)
	cd web && node build.mjs

web: $(WEB_BUILT)

# Runtime dependencies from the lock (hashes checked), then the developer tools constrained to the same versions,
# so the tests run exactly what `sam build` packages.
$(STAMP): pyproject.toml package.json $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	sed -e '/--hash=/d' -e 's/ \\$$//' $(LOCK) > $(VENV)/constraints.txt
	$(BIN)/python -m pip install --quiet -e '.[dev]' -c $(VENV)/constraints.txt
	npm install --no-audit --no-fund --loglevel=error
	touch $(STAMP)

install: $(STAMP) $(WEB_BUILT)

# `make dev DEV_ARGS="--port 8080"`; `make demo` also loads the demo campaign with 30 days of history.
DEV_ARGS ?=

dev: $(STAMP) $(WEB_BUILT)
	$(BIN)/vidstats dev $(DEV_ARGS)

demo: $(STAMP) $(WEB_BUILT)
	$(BIN)/vidstats dev --demo $(DEV_ARGS)

lint: $(STAMP) $(WEB_MODULES)
	$(BIN)/ruff check functions tests bench deploy
	$(BIN)/mypy
	cd web && npx --no-install tsc --noEmit -p .

pytest: $(STAMP) $(WEB_BUILT)
	$(BIN)/python -m pytest -q -n 2  # both cores: a database per worker

test: lint pytest

# After changing [project].dependencies in pyproject.toml: re-resolve the lock (versions already locked are kept
# where they still fit; `make lock LOCK_ARGS=--upgrade` takes the newest of everything).
LOCK_ARGS ?=
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet \
		--custom-compile-command "make lock" --output-file $(LOCK) $(LOCK_ARGS)

$(SAM):
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet aws-sam-cli==$(SAM_CLI_VERSION)

# The artefact in .aws-sam/build (what `sam deploy` uploads), then every handler imported from it alone with the
# runtime's Python (deploy/build.py finds it, or says how to get it; RUNTIME_PYTHON=/path overrides).
build: $(STAMP) $(SAM) $(WEB_BUILT)
	LAMBDA_PIP="$(abspath $(BIN)/python) -m pip" $(BIN)/python -m deploy.build --sam $(SAM)

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam node_modules web/node_modules $(WEB_OUT) .pytest_cache .mypy_cache .ruff_cache
