# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Each creates the virtual environment .venv (and installs mlpcore into it) when it is missing
# or when pyproject.toml has changed since.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help demo lab formgrader lint test test-browser test-gpu bench bench-grading bench-notebooks bench-similarity release clean

help:
	@echo "make demo      the grading loop on an embedded class of 11: release, grade in parallel, feedback, report"
	@echo "make lab       open the course in JupyterLab (start with 01-matrices; the Validate button checks a notebook)"
	@echo "make formgrader  the instructor's JupyterLab on the course root: formgrader shows the class mlpcore grade graded"
	@echo "make release   regenerate the learners' notebooks in course/ from solutions/ (nbgrader generate_assignment)"
	@echo "make lint      ruff on the code and the tests, mypy on the typed contracts (pyproject.toml says which)"
	@echo "make test      run the whole test suite (NumPy and array-api-strict, the course round trip; GPU cases skip without a GPU)"
	@echo "make test-browser  the course in headless Chromium: JupyterLab, formgrader, feedback and report pages"
	@echo "make test-gpu  run only the GPU cases (needs CuPy and a CUDA device: pip install -e '.[gpu]')"
	@echo "make bench     speed and memory benchmarks (a few minutes); tables on screen, JSON and a plot in benchmarks/out/"
	@echo "make bench-grading  notebooks graded per minute: sequential nbgrader against mlpcore grade --workers 2"
	@echo "make bench-similarity  mlpcore similarity on a synthetic class of 1,000 (04-backprop), one and two workers"
	@echo "make bench-notebooks  each solution notebook's run time, idle and busy, one BLAS thread per core or per kernel"
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

# Regenerate the released notebooks in course/ from solutions/ (after editing a solution notebook).
release: $(STAMP)
	$(BIN)/mlpcore release

lint: $(STAMP)
	$(BIN)/ruff check mlpcore tests benchmarks browser_tests
	$(BIN)/mypy

# In parallel (one worker per core): the course tests run every notebook several times.
# loadgroup keeps the tests that share one graded class (tests/test_autograde.py) on one worker.
test: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadgroup

# Real-browser tests (Playwright driving /usr/bin/chromium; skipped with the reason without them).
# Screenshots of failures land in browser_tests/screenshots/.
test-browser: $(STAMP)
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

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
