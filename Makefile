# One command each on a fresh machine: `make demo`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench bench-full torture clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/webex-bulk demo

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check webex_bulk tests scripts
	$(BIN)/ruff format --check webex_bulk tests scripts
	$(BIN)/mypy

bench: install
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python scripts/bench.py --quick
	$(BIN)/python scripts/bench_xlsx.py

bench-full: install
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python scripts/bench.py --full

torture: install
	$(BIN)/python scripts/torture.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
