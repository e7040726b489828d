# One command each on a fresh machine: `make demo`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The pinned, hashed dependency sets (`make lock` writes them; the Dockerfile and CI read them).
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
COMPILE := $(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links

.PHONY: install lock demo test lint bench bench-full torture clean

install: $(STAMP)

# The dev lock pins every dependency, the build backend included, with its hashes; the project
# itself goes in without dependencies and built by that backend, so nothing unpinned slips in.
$(STAMP): pyproject.toml $(DEV_LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Re-resolve both lock files from pyproject.toml (newest versions within its ranges).
lock: install
	$(COMPILE) --upgrade --build-deps-for wheel --output-file $(LOCK) pyproject.toml
	$(COMPILE) --upgrade --build-deps-for editable --extra dev --output-file $(DEV_LOCK) \
		pyproject.toml

demo: install
	$(BIN)/webex-bulk demo

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check webex_bulk tests scripts
	$(BIN)/ruff format --check webex_bulk tests scripts
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

bench: install
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python scripts/bench.py --quick
	$(BIN)/python scripts/bench_xlsx.py
	$(BIN)/python scripts/bench_first_write.py

bench-full: install
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python scripts/bench.py --full

torture: install
	$(BIN)/python scripts/torture.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
