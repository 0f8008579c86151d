# Run `make` to list the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SDK := bizproc_app/static/vendor/b24jssdk.min.js
FRONTEND := bizproc_app/static/dist/.vite/manifest.json
FRONTEND_SRC := $(shell find frontend -type f -not -path '*/node_modules/*' 2>/dev/null)

.DEFAULT_GOAL := help
.PHONY: help venv assets frontend demo test fuzz chaos bench lint fmt clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP) ## Create the virtualenv and install the dependencies

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(SDK): node_modules/.package-lock.json
	mkdir -p $(dir $(SDK))
	cp node_modules/@bitrix24/b24jssdk/dist/umd/index.min.js $(SDK)

# The Vue pages (payment screen, settings) built by Vite into bizproc_app/static/dist; Flask finds
# the entries in dist/.vite/manifest.json under "frontend/src/payment.ts" and "frontend/src/settings.ts".
$(FRONTEND): node_modules/.package-lock.json $(FRONTEND_SRC)
	npm run build --silent

frontend: $(FRONTEND) ## Build the Vue pages into bizproc_app/static/dist

assets: $(SDK) $(FRONTEND) ## Install the front-end packages from npm, copy the SDK and build the pages

demo: $(STAMP) $(SDK) $(FRONTEND) ## Run the product: Redis, SQLite, web, worker and the simulators
	@scripts/ensure-redis.sh
	@$(BIN)/python -m scripts.demo

test: $(STAMP) $(SDK) $(FRONTEND) lint ## Run the linters, the type checker and the whole test suite
	@scripts/ensure-redis.sh
	@scripts/ensure-chromium.sh
	$(BIN)/pytest

fuzz: $(STAMP) $(SDK) ## Run the bad-input campaign: FUZZ_EXAMPLES (default 3000) cases per endpoint
	@scripts/ensure-redis.sh
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-3000} $(BIN)/pytest -q tests/fuzz --hypothesis-show-statistics

chaos: $(STAMP) ## Run the fault campaign (480 purchases + refunds) and write docs/reliability.md (CHAOS_ARGS)
	@scripts/ensure-redis.sh
	$(BIN)/python -m bench.chaos $(CHAOS_ARGS)

bench: $(STAMP) ## Benchmark the real stack and write docs/performance.md (BENCH_ARGS=--quick: < 2 min)
	@scripts/ensure-redis.sh
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: $(STAMP) ## Run the linters and the type checker (mypy, strict on the product)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(STAMP) ## Format the code and apply safe lint fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean: ## Remove the virtualenv and the demo's state
	rm -rf $(VENV) instance/demo node_modules bizproc_app/static/vendor bizproc_app/static/dist
