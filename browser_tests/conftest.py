"""Real-browser tests (``make test-browser``): Playwright for Python driving Debian's Chromium.

Skipped, with the reason, where Playwright or ``/usr/bin/chromium`` is missing: Playwright is never
allowed to download a browser of its own. A failing test leaves a screenshot of the page in
``browser_tests/screenshots/`` (ignored by git); ``MLPCORE_SCREENSHOTS=always`` keeps one of every test.
"""

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("MLPCORE_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
# Headless, and nothing that reaches the network on its own.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

sys.path.insert(0, str(ROOT / "tests"))  # the Jupyter-server helpers of tests/test_lab.py


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed: pip install -e '.[dev]'")
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (or set MLPCORE_CHROMIUM)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page(browser, request):
    """A fresh tab, the size of a laptop screen; a screenshot of it when the test fails."""
    tab = browser.new_page(viewport={"width": 1280, "height": 900})
    tab.set_default_timeout(60_000)
    yield tab
    report = getattr(request.node, "report_call", None)
    if (report is not None and report.failed) or os.environ.get("MLPCORE_SCREENSHOTS") == "always":
        SCREENSHOTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=False)
    tab.close()


@pytest.fixture(scope="session")
def course_copy(tmp_path_factory):
    """A course root with 01-matrices (as a fresh clone has it) and a class of three graded by mlpcore grade:
    ada submitted the solution, bea the solution with count_parameters forgetting the biases, fay a file
    that is not a notebook."""
    import subprocess

    root = tmp_path_factory.mktemp("browser") / "course-root"
    root.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", root)
    for folder in ("solutions", "course"):
        shutil.copytree(ROOT / folder / "01-matrices", root / folder / "01-matrices")
    import nbformat

    from mlpcore.autograde.sample_class import fill, solution_answers

    submitted = root / "grading" / "submitted"
    (submitted / "ada" / "01-matrices").mkdir(parents=True)
    release = nbformat.read(root / "course" / "01-matrices" / "matrices.ipynb", as_version=4)
    answered = fill(release, solution_answers(root, "01-matrices", "matrices"))  # every answer, as a student writes it
    nbformat.write(answered, submitted / "ada" / "01-matrices" / "matrices.ipynb")
    (submitted / "bea" / "01-matrices").mkdir(parents=True)
    forgot_biases = ("def count_parameters(layer_sizes):\n"
                     "    return sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))\n")
    nbformat.write(fill(answered, {"count_parameters": forgot_biases}),
                   submitted / "bea" / "01-matrices" / "matrices.ipynb")
    (submitted / "fay" / "01-matrices").mkdir(parents=True)
    (submitted / "fay" / "01-matrices" / "matrices.ipynb").write_text('{"cells": [')
    graded = subprocess.run([sys.executable, "-m", "mlpcore", "grade", "01-matrices", "--no-progress",
                             "--course-root", str(root)], capture_output=True, text=True, timeout=900)
    assert graded.returncode == 0, graded.stderr
    # JupyterLab 4 draws only the cells in view; the tests look cells up by their text, so draw them all.
    settings = root.parent / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    return root
