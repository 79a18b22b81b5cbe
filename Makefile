# ReasonFlow Batch — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
LINT_PATHS := src tests $(wildcard bench)

.PHONY: help install run cluster test lint format services browser bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## create .venv and install the package with its dev tools

run: install ## migrate, seed the demo user and inbox, serve on 127.0.0.1:8000
	$(BIN)/reasonflow db upgrade
	$(BIN)/reasonflow demo
	$(BIN)/reasonflow serve --host $(HOST) --port $(PORT)

cluster: install ## cluster mode on this machine: Postgres, Redis, 2 API processes (8000, 8001), 2 workers
	bash scripts/cluster.sh

services: ## start PostgreSQL and Redis on 127.0.0.1 when they are down
	bash scripts/services.sh

browser: ## install Debian's Chromium for the browser tests when it is missing
	bash scripts/browser.sh

lint: install ## ruff, ruff format --check, mypy --strict
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

test: install services browser lint ## the whole suite (starts what it needs)
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install services ## every benchmark of docs/benchmarks.md, one after another (~40 min)
	@rc=0; for row in bench_llm_makespan bench_fairness bench_submit_latency bench_polling \
		bench_job_memory bench_provider_overhead bench_email_cpu bench_cluster \
		"bench_polling --store redis" bench_cluster_cost bench_signin_polling bench_cascade; do \
		echo "== $$row"; $(BIN)/python -m bench.$$row || rc=1; \
	done; exit $$rc

format: install ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix $(LINT_PATHS)
	$(BIN)/ruff format $(LINT_PATHS)

clean: ## remove the virtualenv, caches and local data
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .hypothesis
