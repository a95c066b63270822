# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Each creates the virtual environment .venv (and installs mlpcore into it) when it is missing
# or when pyproject.toml has changed since.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help demo test test-gpu bench clean

help:
	@echo "make demo      train the reference model on the embedded digits and print its accuracy"
	@echo "make test      run the whole test suite (NumPy and array-api-strict; GPU cases skip without a GPU)"
	@echo "make test-gpu  run only the GPU cases (needs CuPy and a CUDA device: pip install -e '.[gpu]')"
	@echo "make bench     speed and memory benchmarks (a few minutes); tables on screen, JSON and a plot in benchmarks/out/"
	@echo "make clean     remove .venv and caches"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

demo: $(STAMP)
	$(BIN)/mlpcore demo $(MLPCORE_DEMO_FLAGS)

test: $(STAMP)
	$(BIN)/python -m pytest

test-gpu: $(STAMP)
	$(BIN)/python -m pytest -m gpu

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_FLAGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
