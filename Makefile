# `make demo` and `make test` work on a fresh machine with Python 3.11+ and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test lint openapi bench bench-serving bench-upsell bench-offers bench-swap bench-servers bench-kpis clean

$(BIN)/nextbest: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit("NextBest needs Python 3.11 or newer, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $@

install: $(BIN)/nextbest

demo: install  # options through ARGS, e.g. make demo ARGS="--customers 20000 --port 8001"
	$(BIN)/nextbest demo $(ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

openapi: install
	$(BIN)/nextbest openapi > openapi/openapi.json

bench: install
	$(BIN)/python bench/import_throughput.py
	$(BIN)/python bench/demo_data.py
	$(BIN)/python bench/cross_sell_route.py

bench-serving: install
	$(BIN)/python bench/serving.py

bench-upsell: install
	$(BIN)/python bench/upsell.py
	$(BIN)/python bench/upsell_features.py
	$(BIN)/python bench/upsell_quality.py

bench-servers: install
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[bench]'
	$(BIN)/python bench/servers.py

bench-offers: install
	$(BIN)/python bench/offers.py
	$(BIN)/python bench/offers_inprocess.py

bench-swap: install
	$(BIN)/python bench/hot_swap.py

bench-kpis: install
	$(BIN)/python bench/kpis.py

clean:
	rm -rf $(VENV) nextbest-demo .pytest_cache .mypy_cache .ruff_cache
