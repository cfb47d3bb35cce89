# One entry point for setting up and running sb3-inril on a machine that has only Python.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pytest-xdist workers of `make test` (each imports torch: about 0.5 GB).
TEST_WORKERS ?= $(shell $(PYTHON) -c "import os; print(min(4, os.cpu_count() or 1))")

.PHONY: setup quickstart test test-fast lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

$(STAMP): $(BIN)/python requirements.txt setup.py
	# torch first, pinned: the CPU wheel lies on this disk; an unpinned torch pulls CUDA.
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -r requirements.txt
	# imitation 1.0.1 pins an old gymnasium/SB3; its pieces we use work on our stack.
	$(BIN)/pip install --no-deps imitation==1.0.1
	# robosuite 1.5.2's own requirements pull mink 0.0.5, which pins numpy<2 (minari and pandas
	# need numpy 2) and serves only its GR1 whole-body IK: install it without them.
	$(BIN)/pip install --no-deps robosuite==1.5.2
	$(BIN)/pip install --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

quickstart: setup
	$(BIN)/python -m sb3_inril quickstart

test: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/mypy sb3_inril scripts tests
	# The docs site, strict: a broken link or anchor, a missing image or a page outside the nav fails
	# (not --quiet: it hides the warnings from the strict count, and the build passes).
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir $(VENV)/site
	# Test files in parallel processes (pytest-xdist), one torch thread each (tests/conftest.py; the
	# programs' subprocesses get OMP_NUM_THREADS=1): at most 4, fewer on smaller machines.
	$(BIN)/python -m pytest tests -q --timeout=900 -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

# Everything but the subprocess runs of whole programs (tests marked slow): the inner loop.
test-fast: setup
	$(BIN)/python -m pytest tests -q --timeout=900 -p no:cacheprovider -m "not slow"

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/mypy sb3_inril scripts tests

format: setup
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

clean:
	rm -rf $(VENV) build *.egg-info
