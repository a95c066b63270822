"""What the notebooks say and store agrees with the tools they run in."""

from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import start_new_kernel

from mlpcore import course
from mlpcore.autograde import worker
from mlpcore.cli import build_parser
from mlpcore.grading import project

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = course.assignments(ROOT)


def _notebook(assignment: str, directory: str = course.SOURCE_DIRECTORY):
    return nbformat.read(course.notebooks(ROOT, assignment, directory)[0], as_version=4)


def test_the_project_states_the_cell_time_limit_of_graded_runs():
    """10-project asks for a classifier that trains in a few seconds and names the limit it must stay inside."""
    limit = worker.DEFAULT_SETTINGS["cell_timeout"]
    for command in (["grade", "10-project"], ["check", "project.ipynb"]):
        assert build_parser().parse_args(command).cell_timeout == limit, command
    markdown = "\n".join(cell.source for cell in _notebook("10-project").cells if cell.cell_type == "markdown")
    text = " ".join(markdown.split())
    assert f"time limit, {limit} seconds" in text and "--cell-timeout" in text


def test_the_project_states_the_accuracy_and_the_perturbation_of_its_check():
    """10-project's text gives the accuracy the classifier's check needs and how it perturbs the test digits."""
    markdown = "\n".join(cell.source for cell in _notebook("10-project").cells if cell.cell_type == "markdown")
    text = " ".join(markdown.split())
    assert f"at least {project.MIN_ACCURACY * 100:.0f} %" in text and "95 %" not in text
    assert f"between {1 - project.INK_SCALE:g} and {1 + project.INK_SCALE:g}" in text
    assert f"standard deviation {project.INK_NOISE:g}" in text
    assert project.FAINT_LOST == 0.5 and "faintest ink, 1/16, lost half the time" in text


def test_released_notebooks_store_what_jupyterlab_writes_when_the_kernel_connects():
    """JupyterLab writes the kernel's kernelspec and language_info into a notebook when the kernel
    connects; if they differ from what is stored, an untouched notebook shows as modified at once.
    ``version`` is the Python version of the kernel that ran the solutions: it must be there (without it
    the notebook always changes), and it can only match where the learner's Python is the same."""
    spec = KernelSpecManager().get_kernel_spec("python3")
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        client.kernel_info()
        language_info = client.get_shell_msg(timeout=60)["content"]["language_info"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    expected_kernelspec = {"display_name": spec.display_name, "language": spec.language, "name": "python3"}
    for assignment in ASSIGNMENTS:
        for directory in (course.SOURCE_DIRECTORY, course.RELEASE_DIRECTORY):
            metadata = _notebook(assignment, directory).metadata
            where = f"{directory}/{assignment}"
            assert metadata.kernelspec == expected_kernelspec, where
            stored = dict(metadata.language_info)
            assert set(stored) == set(language_info), (where, sorted(stored), sorted(language_info))
            assert {**stored, "version": None} == {**language_info, "version": None}, where
