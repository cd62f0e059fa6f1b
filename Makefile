# The two commands a newcomer needs: `make run` (serve on SQLite) and `make test` (everything).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
RUN_STAMP := $(VENV)/.installed-run
DEMO_STAMP := $(VENV)/.installed-demo

.PHONY: run test lint typecheck format openapi migrate bench-quick demo clean postgres console-assets

# `make run` installs only what the service needs (the `server` extra), `make demo` adds the
# demo's model (`demo`), and `make test` the test and bench tools (`dev` includes both).
$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[server]"
	touch $(RUN_STAMP)

$(DEMO_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[demo]"
	touch $(DEMO_STAMP) $(RUN_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	touch $(STAMP) $(RUN_STAMP) $(DEMO_STAMP)

run: $(RUN_STAMP)
	$(BIN)/amtune serve

migrate: $(RUN_STAMP)
	$(BIN)/amtune migrate

# PostgreSQL tests are part of `make test`: start the local cluster when it is down.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true
	@for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done; \
		echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1

# Three test processes: most tests wait on servers, subprocesses and databases, not the CPU,
# so on 2 cores this takes about a third of the serial time.
# The console front end's npm parts, from its lock file: axe-core for the browser tests, and
# what `make console-assets` rebuilds the committed ECharts bundle with.
FRONTEND := service/amtune/api/console/frontend
$(FRONTEND)/node_modules/.package-lock.json: $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && npm ci --no-audit --no-fund

console-assets: $(FRONTEND)/node_modules/.package-lock.json
	cd $(FRONTEND) && npm run build

test: $(STAMP) postgres lint typecheck $(FRONTEND)/node_modules/.package-lock.json
	$(BIN)/pytest -q -p no:cacheprovider -n 3 --durations=15

lint: $(STAMP)
	$(BIN)/ruff check service tests bench migrations
	$(BIN)/ruff format --check service tests bench migrations

typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format service tests bench migrations
	$(BIN)/ruff check --fix service tests bench migrations

openapi: $(STAMP)
	$(BIN)/amtune openapi --output openapi/openapi.json

bench-quick: $(STAMP)
	$(BIN)/pip install --quiet -e ".[bench,bench-peers]"
	$(BIN)/python -m bench.bayes --profile quick

demo: $(DEMO_STAMP)
	$(BIN)/amtune demo

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
