# Two commands: `make run` (set up and start everything) and `make test` (set up and run the suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-busy reliability setup lint clean bench scaleout

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

run: setup
	$(BIN)/python manage.py rundemo

# Two workers (pytest-xdist), each with its own test database and Redis database. `--dist load` keeps
# pytest-django's order on each worker (database tests before transactional ones, which empty the tables).
test: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest --numprocesses 2 --dist load $(PYTEST_ARGS)

# The same suite with four CPU-bound processes beside it: it must pass on a busy machine too.
test-busy: setup
	@pids=""; for i in 1 2 3 4; do $(BIN)/python -c 'while True: pass' & pids="$$pids $$!"; done; \
	trap 'kill $$pids 2>/dev/null' EXIT INT TERM; \
	echo "Four CPU-bound processes run beside the suite (pids$$pids)"; \
	$(MAKE) --no-print-directory test

# Every benchmark, each side by side (order alternated, median of 3 rounds), into bench/results.md.
bench: setup
	@printf '# Benchmarks\n\n`make bench` on %s, %s cores, %s.\n\n' "$$(date -u +%Y-%m-%d)" "$$(nproc)" "$$(uname -sr)" > bench/results.md
	$(BIN)/python bench/audit_bench.py
	$(BIN)/python bench/list_bench.py
	$(BIN)/python bench/sync_bench.py
	$(BIN)/python bench/rescue_bench.py
	@echo "Written to bench/results.md"

reliability: setup
	$(BIN)/python -m pytest -m reliability $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) var

# The multi-host topology on this machine (2 web, 3 workers, cron, PostgreSQL, Redis server) under
# 500 rescues, with a worker and a web server SIGKILLed midway: see bench/scaleout.py.
scaleout: setup
	$(BIN)/python bench/scaleout.py
