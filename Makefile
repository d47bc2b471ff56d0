# corpflow — make run (embedded: SQLite + in-process jobs), make test, make lint, make bench.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install migrate run seed test lint check bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

migrate: install
	$(BIN)/alembic upgrade head

seed: migrate
	CORPFLOW_DEPLOY_ON_STARTUP=false $(BIN)/flask --app wsgi seed-demo

run: seed
	CORPFLOW_DEPLOY_ON_STARTUP=false $(BIN)/flask --app wsgi deploy
	@echo "corpflow on http://$(HOST):$(PORT)  (OpenAPI: /openapi.json, Swagger UI: /docs)"
	$(BIN)/gunicorn --workers 1 --threads 8 --bind $(HOST):$(PORT) --access-logfile - wsgi:app

test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

check: lint test

bench: install
	$(BIN)/python bench/credit_throughput.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
