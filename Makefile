# nianbao — make help lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
PACKAGES := report extract crawler warehouse nianbao sandbox stack benchmarks dags
UV_BIN = $(shell command -v uv || echo $(BIN)/uv)

.DEFAULT_GOAL := help
.PHONY: help setup lock demo serve test lint bench corpus stack clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

setup: $(STAMP) ## create .venv from requirements.lock and install nianbao (editable)

$(STAMP): requirements-dev.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@if command -v uv >/dev/null 2>&1 || $(BIN)/pip install -q uv >/dev/null 2>&1; then \
	    UV=$$(command -v uv || echo $(BIN)/uv); \
	    VIRTUAL_ENV=$(VENV) $$UV pip sync -q --compile-bytecode requirements-dev.lock && \
	    VIRTUAL_ENV=$(VENV) $$UV pip install -q --no-deps -e . ; \
	else \
	    $(BIN)/pip install -q -r requirements-dev.lock && $(BIN)/pip install -q --no-deps -e . ; \
	fi
	@# bytecode now, once: where PYTHONDONTWRITEBYTECODE is set no process writes it, and every
	@# process the tests start would compile ~800 modules from source again (≈ 2.5 s of CPU each)
	@$(BIN)/python -m compileall -q -j 0 $(PACKAGES) >/dev/null
	@touch $@

lock: ## re-resolve the locks from pyproject.toml: requirements.lock (the image), requirements-dev.lock (.venv)
	$(UV_BIN) pip compile pyproject.toml --extra dev --python-version 3.11 -q -o requirements-dev.lock
	$(UV_BIN) pip compile pyproject.toml --python-version 3.11 -q -c requirements-dev.lock -o requirements.lock

demo: setup ## start the sandbox portal, harvest it into var/warehouse.db, show the results
	NIANBAO_HOME=$(CURDIR)/var $(BIN)/python -m nianbao.demo

serve: setup ## serve the warehouse on the web (read-only) at http://127.0.0.1:8000/
	$(BIN)/nianbao serve $(SERVE_ARGS)

test: setup ## run the whole test suite (PostgreSQL tests included), one worker per core
	$(BIN)/pytest -n auto --dist loadgroup $(PYTEST_ARGS)

lint: setup ## ruff and mypy over the packages
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: setup ## benchmarks: figures to var/bench/*.json, a table, and docs/benchmarks.md
	$(BIN)/python -m benchmarks $(BENCH)
	$(BIN)/python -m benchmarks report

stack: setup ## the compose stack as processes on 127.0.0.1: harvest the sandbox on 2 workers, kill one, compare
	$(BIN)/python -m stack check $(STACK_ARGS)

corpus: setup ## regenerate the sandbox corpus (the Word-made forms need LibreOffice and CJK fonts)
	$(BIN)/python -m sandbox generate

clean: ## remove var/ (warehouse, raw store, benchmarks); keeps .venv
	rm -rf var
