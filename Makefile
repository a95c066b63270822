# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Each creates the virtual environment .venv (and installs mlpcore into it) when it is missing
# or when pyproject.toml has changed since.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help demo lab formgrader hub lint test test-browser test-gpu bench bench-grading bench-notebooks bench-similarity bench-hub release clean

help:
	@echo "make demo      the grading loop on an embedded class of 11: release, grade in parallel, feedback, report"
	@echo "make lab       open the course in JupyterLab (start with 01-matrices; the Validate button checks a notebook)"
	@echo "make formgrader  the instructor's JupyterLab on the course root: formgrader shows the class mlpcore grade graded"
	@echo "make hub       the course on a local JupyterHub at http://127.0.0.1:8765 (as root): an instructor, two students, formgrader"
	@echo "make release   regenerate the learners' notebooks in course/ from solutions/ (nbgrader generate_assignment)"
	@echo "make lint      ruff on the code and the tests; the typed contracts (TYPED) formatted by ruff and checked by mypy"
	@echo "make test      run the whole test suite (NumPy and array-api-strict, the course round trip; GPU cases skip without a GPU)"
	@echo "make test-browser  the course in headless Chromium: JupyterLab, formgrader, feedback and report pages"
	@echo "make test-gpu  run only the GPU cases (needs CuPy and a CUDA device: pip install -e '.[gpu]')"
	@echo "make bench     speed and memory benchmarks (a few minutes); tables on screen, JSON and a plot in benchmarks/out/"
	@echo "make bench-grading  notebooks graded per minute: sequential nbgrader against mlpcore grade --workers 2"
	@echo "make bench-similarity  mlpcore similarity on a synthetic class of 1,000 (04-backprop), one and two workers"
	@echo "make bench-notebooks  each solution notebook's run time, idle and busy, one BLAS thread per core or per kernel"
	@echo "make bench-hub  20 students on the course's JupyterHub at once (as root): Validate in each server, page loads, BLAS threads"
	@echo "make clean     remove .venv and caches"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m mlpcore.autograde.exchange --install
	@touch $@

demo: $(STAMP)
	$(BIN)/mlpcore demo $(MLPCORE_DEMO_FLAGS)

# Students: course/ with the Validate button and the assignment list, without formgrader.
# Kernels get one BLAS thread each (make lab MLPCORE_BLAS_THREADS=4 for more; see mlpcore/threads.py).
# LAB_FLAGS go to jupyter lab: make lab LAB_FLAGS="--no-browser --port 8890".
lab: $(STAMP)
	$(BIN)/mlpcore lab$(if $(LAB_FLAGS), -- $(LAB_FLAGS))

# The instructor: the course root with formgrader (GRADING=grading/demo shows make demo's class).
formgrader: $(STAMP)
	$(BIN)/mlpcore lab --instructor$(if $(GRADING), --grading $(GRADING))$(if $(LAB_FLAGS), -- $(LAB_FLAGS))

# The hub's own environment, .hub/venv: every account (students, instructor, grader) runs it, so it is
# built from a Python they can all reach (HUB_PYTHON; a pyenv Python under /root is not), with JupyterHub
# from PyPI; configurable-http-proxy comes from npm into .hub/ (without npm the hub tests skip, saying so).
HUB_PYTHON ?= $(firstword $(wildcard /usr/bin/python3) $(PYTHON))
HUB_BIN := .hub/venv/bin
HUB_STAMP := .hub/.installed
$(HUB_STAMP): pyproject.toml
	@test -x $(HUB_BIN)/python || $(HUB_PYTHON) -m venv .hub/venv
	$(HUB_BIN)/python -m pip install --quiet --upgrade pip
	$(HUB_BIN)/python -m pip install --quiet -e '.[course,hub]'
	$(HUB_BIN)/python -m mlpcore.autograde.exchange --install
	@if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --prefix .hub configurable-http-proxy; \
	 else echo "npm is missing: make hub needs it for configurable-http-proxy (apt-get install npm)"; fi
	@touch $@

# The course on a local JupyterHub at http://127.0.0.1:8765 (run as root: it makes the accounts); it
# prints how to log in. MLPCORE_HUB_PORT moves it; the hub also takes the next three ports (its API,
# the proxy's API, formgrader).
hub: $(HUB_STAMP)
	$(HUB_BIN)/python -m mlpcore.autograde.hub run$(if $(MLPCORE_HUB_PORT), --port $(MLPCORE_HUB_PORT))

# Regenerate the released notebooks in course/ from solutions/ (after editing a solution notebook).
release: $(STAMP)
	$(BIN)/mlpcore release

# The typed contracts between the layers: formatted by ruff and checked by mypy (new modules join the list).
TYPED := mlpcore/schema.py mlpcore/grading/testcells.py mlpcore/grading/functions.py mlpcore/grading/protocol.py \
	mlpcore/grading/registry.py mlpcore/autograde/tables.py mlpcore/autograde/kernelspec.py
lint: $(STAMP)
	$(BIN)/ruff check mlpcore tests benchmarks browser_tests
	$(BIN)/ruff format --check $(TYPED)
	$(BIN)/mypy $(TYPED)

# In parallel (one worker per core): the course tests run every notebook several times.
# loadgroup keeps the tests that share one graded class (tests/test_autograde.py) on one worker.
test: $(STAMP) $(HUB_STAMP)
	$(BIN)/python -m pytest -n auto --dist loadgroup

# Real-browser tests (Playwright driving /usr/bin/chromium; skipped with the reason without them).
# Screenshots of failures land in browser_tests/screenshots/.
test-browser: $(STAMP) $(HUB_STAMP)
	$(BIN)/python -m pytest browser_tests -p no:xdist

test-gpu: $(STAMP)
	$(BIN)/python -m pytest -m gpu

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_FLAGS)

bench-grading: $(STAMP)
	$(BIN)/python -m benchmarks.grading

bench-similarity: $(STAMP)
	$(BIN)/python -m benchmarks.similarity --workers 1 2 $(BENCH_FLAGS)

bench-notebooks: $(STAMP)
	$(BIN)/python -m benchmarks.notebooks $(BENCH_FLAGS)

# As root (it makes 20 accounts for the run and deletes them after); BENCH_FLAGS="--students 5" for fewer.
bench-hub: $(STAMP) $(HUB_STAMP)
	$(BIN)/python -m benchmarks.hub_load $(BENCH_FLAGS)

clean:
	rm -rf $(VENV) .hub .pytest_cache .hypothesis *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
