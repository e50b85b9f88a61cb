# partnerscope developer tasks. `make help` lists them; the README's quick start needs only
# `make demo` and `make test` on a machine with Python 3.11, make and git.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install: the install runs again only when pyproject.toml is newer.
STAMP := $(VENV)/.partnerscope-installed
# Source folders that ruff formats and lints; mypy also checks scripts/ and bench/.
CODE := src tests scripts bench
DEMO_DIR ?= partnerscope-demo
DEMO_ARGS ?=
BENCH_SCALE ?= 0.2
METRICS_SCALE ?= 1
ENGINES_SCALE ?= 0.1

.PHONY: help venv demo test system lint format typecheck docs docs-check pytest bench bench-metrics bench-evaluation bench-reports bench-scenarios bench-web bench-engines bench-routing bench-predict bench-notify serve screenshots clean distclean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# The virtual environment: created once, the package and its dev tools (re)installed when
# pyproject.toml changes.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP) ## Create .venv and install partnerscope with its dev tools

demo: $(STAMP) ## Build a demo workspace in ./partnerscope-demo, ingest it and run the metrics
	$(BIN)/partnerscope demo $(DEMO_DIR) $(DEMO_ARGS)

test: $(STAMP) system lint typecheck docs-check pytest ## Everything CI runs: lint, types, docs drift, tests

system: ## Install the Debian packages the tests need (root only; a no-op when present)
	bash scripts/setup-system

lint: $(STAMP) ## ruff lint and format check, and the import layers (changes nothing)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/lint-imports

format: $(STAMP) ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix $(CODE)
	$(BIN)/ruff format $(CODE)

typecheck: $(STAMP) ## mypy --strict on the package, scripts/ and bench/
	$(BIN)/mypy src/partnerscope scripts bench

docs: $(STAMP) ## Regenerate the generated pages: data model, metric definitions, CLI reference
	$(BIN)/python scripts/gen_docs.py

docs-check: $(STAMP) ## Fail if a generated docs page differs from the code
	$(BIN)/python scripts/gen_docs.py --check

pytest: $(STAMP) ## The test suite on all cores
	$(BIN)/python -m pytest -n auto --dist loadgroup --durations=25

bench: $(STAMP) ## Ingest throughput against DuckDB's read_csv (BENCH_SCALE=0.2)
	$(BIN)/python bench/ingest.py --scale $(BENCH_SCALE)

bench-metrics: $(STAMP) ## Metric engine against hand-written DuckDB SQL and pandas (METRICS_SCALE=1: 10M deals, 20M leads)
	$(BIN)/python bench/metrics.py --scale $(METRICS_SCALE) --repeat 4

bench-evaluation: $(STAMP) ## Scorecards, tiers, flags and alerts against the metric computation of the same run (METRICS_SCALE=1)
	$(BIN)/python bench/evaluation.py --scale $(METRICS_SCALE)

bench-reports: $(STAMP) ## Scorecard pages step by step, sparklines against Vega-Lite, the Excel workbook against pandas (METRICS_SCALE=1)
	$(BIN)/python bench/reports.py --scale $(METRICS_SCALE)

bench-web: $(STAMP) ## Partner page and its JSON twin under 20 and 100 concurrent clients (server and load generator in their own processes)
	$(BIN)/python bench/web.py

serve: $(STAMP) ## Serve the demo workspace's web app on http://127.0.0.1:8000/ (add a user first: see docs/web.md)
	$(BIN)/partnerscope -w $(DEMO_DIR) serve

screenshots: $(STAMP) ## Photograph the web app's main pages (laptop and phone) into docs/screenshots/ (needs chromium)
	$(BIN)/python scripts/screenshots.py

bench-scenarios: $(STAMP) ## Scenario Monte Carlo (100,000 trials × 36 months × 3 options) against a plain-Python loop
	$(BIN)/python bench/scenarios.py

bench-engines: $(STAMP) ## The metric catalog on DuckDB, PostgreSQL and Spark local (ENGINES_SCALE=0.1: 1M deals; 1: 10M)
	$(BIN)/python bench/engines.py --scale $(ENGINES_SCALE)

bench-routing: $(STAMP) ## Lead routing: 1M leads over 20,000 partners against per-lead pandas masks, and route_leads end to end
	$(BIN)/python bench/routing.py

bench-predict: $(STAMP) ## Forecasts, partner risk and 1M deal scores against the metric run of the same benchmark (METRICS_SCALE=1)
	$(BIN)/python bench/predict.py --scale $(METRICS_SCALE)

bench-notify: $(STAMP) ## Monthly scorecards to 20,000 partners through the outbox (100 PDFs sent, the rest projected) against a render-and-smtplib loop; the weekly digest of 200 managers
	$(BIN)/python bench/notify.py --partners 20000 --managers 200 --deliver-limit 100 --baseline-partners 20

clean: ## Remove caches, build output, the demo and benchmark folders and example state
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist
	rm -rf $(DEMO_DIR) bench/out examples/*/state
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean ## clean, and remove .venv too
	rm -rf $(VENV)
