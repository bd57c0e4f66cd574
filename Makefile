# Two commands on a fresh machine with Python >= 3.11:
#   make run    set up .venv and run the default scenario (results, plots, report.html in results/)
#   make test   set up .venv and run the test suite (lint, types, tests incl. slow ones)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SCENARIO ?= scenarios/torkham_2025_acc.yaml

.PHONY: setup run test test-fast lint bench clean browser notebook

# setup.py and the .pyx build the compiled engine: editing them rebuilds it
$(BIN)/repatsim: pyproject.toml setup.py simulation/engine/stages/_cloop.pyx
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

setup: $(BIN)/repatsim

run: setup
	$(BIN)/repatsim run $(SCENARIO) --report

# open the notebooks in JupyterLab (installed into .venv on first use)
notebook: setup
	$(BIN)/python -c "import jupyterlab" 2>/dev/null || $(BIN)/python -m pip install --quiet jupyterlab
	$(BIN)/jupyter lab notebooks/

lint: setup
	$(BIN)/ruff check simulation tests benchmarks tools
	$(BIN)/ruff format --check simulation tests benchmarks tools
	$(BIN)/mypy simulation

test: lint
	$(BIN)/python -m pytest -n 2 -q

test-fast: setup
	$(BIN)/python -m pytest -n 2 -q -m "not slow"

# headless Chromium for tests/test_report_browser.py (Debian's package; needs root to install)
browser:
	command -v chromium >/dev/null || (apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

bench: setup
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) results .pytest_cache .mypy_cache .ruff_cache
