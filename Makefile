# Two commands: `make run` and `make test`. Everything else is set up on the way.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check openapi bench soak lint typecheck migrate clean browser-deps seed-national

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m ops.serve

# `make test` is what CI runs: lint and types first, then every test.
test: $(STAMP) browser-deps lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Debian's chromium for the browser tests (Playwright's own download is not reachable here).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || ( \
	  echo "installing Debian chromium for the browser tests"; \
	  (apt-get update -qq && apt-get install -y -qq chromium fonts-dejavu-core >/dev/null) \
	  || (sudo apt-get update -qq && sudo apt-get install -y -qq chromium fonts-dejavu-core >/dev/null) \
	  || echo "chromium could not be installed: browser tests will be skipped" )

bench: $(STAMP)
	$(BIN)/python -m bench

soak: $(STAMP)
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

migrate: $(STAMP)
	$(BIN)/python -m core.db migrate

# A synthetic national programme (every province and ward, 10,000 markets, 2,000,000 stalls, 90
# days of work) in the configured database: DATABASE_URL, or the embedded server under DATA_DIR as
# `make run` uses. Loaded once (a second run changes nothing). SEED_ARGS="--markets 500 --stalls
# 100000" for a smaller one; docs/benchmarks.md.
seed-national: $(STAMP)
	$(BIN)/python -m ops.national $(SEED_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy: strict for core/ and qr/, checked everywhere else (pyproject.toml [tool.mypy]).
typecheck: $(STAMP)
	$(BIN)/mypy

# The published OpenAPI document (docs/openapi.json), which tests/test_openapi.py compares.
openapi: $(STAMP)
	$(BIN)/python -m tools.openapi

# The same as `make test` (kept for habit).
check: test

clean:
	rm -rf $(VENV) var .pytest_cache
