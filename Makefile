# Diary's two everyday commands (see README):
#   make run    install into .venv, migrate the SQLite database, seed the demo
#               accounts and start the app on http://localhost:5000
#               (make run PORT=5088: on http://localhost:5088)
#   make test   install the test dependencies into .venv and run the test suite
# Settings come from DIARY_* environment variables (see README, src/diary/config.py).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= localhost
PORT ?= 5000
# The address to open, and the one mailed links and passkeys (WebAuthn's origin)
# use: it follows HOST and PORT unless DIARY_BASE_URL is set. Passkeys need a host
# name, so a bare loopback or all-addresses HOST is opened as localhost.
DIARY_BASE_URL ?= http://$(if $(filter 127.0.0.1 0.0.0.0 ::1 ::,$(HOST)),localhost,$(HOST)):$(PORT)
PYTEST_ARGS ?=

.PHONY: run test install install-test install-bench migrate demo-data bench bench-oracle bench-search bench-speed bench-servers bench-load clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"

install-bench: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test,bench]"

migrate: install
	$(BIN)/flask --app diary db upgrade

demo-data: migrate
	$(BIN)/flask --app diary demo-data

run: demo-data
	@echo " * Diary: open $(DIARY_BASE_URL)"
	DIARY_BASE_URL='$(DIARY_BASE_URL)' $(BIN)/flask --app diary run --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install-test
	$(BIN)/python bench/dashboard

bench-oracle: install-test
	$(BIN)/python bench/oracle

# Full-text search on 1.1 million entries (PostgreSQL; DIARY_BENCH_DATABASE_URL).
bench-search: install-test
	$(BIN)/python bench/search

# Diary's pages beside hello-world, the tutorial and Flask-Security alone, on SQLite
# and on PostgreSQL + Redis (DIARY_BENCH_DATABASE_URL, DIARY_BENCH_REDIS_URL); issue 13.
# BENCH_ARGS: bench/speed's options, e.g. BENCH_ARGS='--rounds 1 --duration 3s'.
bench-speed: install-test
	$(BIN)/python bench/speed $(BENCH_ARGS)

# Diary served by gunicorn sync, gunicorn gthread and granian, the same number of
# processes each (PostgreSQL + Redis: DIARY_BENCH_DATABASE_URL, DIARY_BENCH_REDIS_URL);
# issue 13. BENCH_ARGS: bench/servers' options, e.g. BENCH_ARGS='--backends sqlite,postgresql'.
bench-servers: install-bench
	$(BIN)/python bench/servers $(BENCH_ARGS)

# Two instances behind nginx under 32 virtual users, steady, with an instance killed
# and with PostgreSQL restarted (throwaway servers; nginx, PostgreSQL, Redis needed).
# BENCH_ARGS: bench/load's options, e.g. BENCH_ARGS='--duration 30'.
bench-load: install-bench
	$(BIN)/python bench/load $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
