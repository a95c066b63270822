"""The course's kernels get a bounded number of BLAS threads (mlpcore/threads.py), one unless the
user asks for more, so that many kernels on a few cores do not spin against each other."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import threadpoolctl

from mlpcore import threads
from mlpcore.autograde.selfcheck import _run

REPORT_THREADS = ("import os, numpy, threadpoolctl\n"
                  "print(os.environ.get('OPENBLAS_NUM_THREADS'), "
                  "max(i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'))")


@pytest.mark.parametrize("value, expected", [(None, 1), ("", 1), ("4", 4), (" 2 ", 2), ("all", None), ("ALL", None)])
def test_the_course_thread_count_is_read_from_one_variable(value, expected):
    environ = {} if value is None else {threads.THREADS_ENV: value}
    assert threads.course_threads(environ) == expected
    variables = threads.kernel_environment(environ)
    if expected is None:
        assert variables == {}, "'all' leaves the libraries their own default"
    else:
        assert variables == {name: str(expected) for name in threads.LIBRARY_VARIABLES}
        assert {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"} <= set(variables)


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_bad_thread_count_is_refused_with_what_was_expected(value):
    with pytest.raises(ValueError, match=rf"MLPCORE_BLAS_THREADS must be a number of BLAS threads .* it is '{value}'"):
        threads.course_threads({threads.THREADS_ENV: value})


def test_the_test_suite_itself_runs_with_one_blas_thread():
    blas = [info for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]
    assert blas and all(info["num_threads"] == 1 for info in blas), blas
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"


def _launch(*command, **extra):
    environ = {key: value for key, value in os.environ.items() if key not in threads.LIBRARY_VARIABLES}
    return subprocess.run([sys.executable, "-m", "mlpcore.threads", *command], capture_output=True, text=True,
                          env={**environ, **extra}, timeout=120)


def test_the_launcher_runs_a_command_with_the_course_threads():
    report = [sys.executable, "-c", REPORT_THREADS]
    assert _launch(*report).stdout.split() == ["1", "1"]
    assert _launch(*report, MLPCORE_BLAS_THREADS="2").stdout.split()[0] == "2"
    refused = _launch(*report, MLPCORE_BLAS_THREADS="many")
    assert refused.returncode == 2 and "MLPCORE_BLAS_THREADS must be" in refused.stderr
    missing = _launch("no-such-program-here")
    assert missing.returncode == 127 and "could not run no-such-program-here" in missing.stderr


def test_a_kernel_of_mlpcore_check_gets_the_course_threads(tmp_path, monkeypatch):
    # Whatever this process has, the kernel gets what MLPCORE_BLAS_THREADS says.
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "7")
    monkeypatch.delenv(threads.THREADS_ENV, raising=False)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(REPORT_THREADS)])
    _run(notebook, tmp_path, timeout=60, notebook_timeout=120, hook=None)
    assert notebook.cells[0].outputs[0]["text"].split() == ["1", "1"]


@pytest.mark.parametrize("instructor", [False, True])
def test_make_lab_and_make_formgrader_give_their_kernels_the_course_threads(instructor, monkeypatch):
    from mlpcore.autograde.lab import lab_command

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "7")
    monkeypatch.setenv(threads.THREADS_ENV, "3")
    _, environment = lab_command(Path(__file__).resolve().parent.parent, instructor=instructor)
    assert all(environment[name] == "3" for name in threads.LIBRARY_VARIABLES)
    monkeypatch.delenv(threads.THREADS_ENV)
    _, environment = lab_command(Path(__file__).resolve().parent.parent, instructor=instructor)
    assert environment["OPENBLAS_NUM_THREADS"] == "1"


# Run with BLAS at the library default, as in plain Jupyter or a script nobody configured (issue 23).
INSIDE_THE_CHECKS = """
import numpy as np
from mlpcore import threads
from mlpcore.grading import check, check_classifier
inside = []
def relu(Z):
    inside.append(threads.blas_threads())
    return np.maximum(Z, 0)
def train(X, y, seed):
    inside.append(threads.blas_threads())
    return {}
check("relu", relu)
try:
    check_classifier(train, lambda params, X: np.zeros(len(X), dtype=int))
except AssertionError:
    pass
print("threads", threads.blas_threads(), *sorted(set(inside)), threads.blas_threads())
threads.course_kernel()
print("threads", threads.blas_threads())
"""


def _unconfigured(code: str, **chosen) -> list[str]:
    """The numbers ``code`` printed on its lines that start with "threads", run where nobody set the threads
    (``chosen``: the variables a user set)."""
    environ = {key: value for key, value in os.environ.items()
               if key not in (*threads.LIBRARY_VARIABLES, threads.THREADS_ENV)}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**environ, **chosen},
                         timeout=300)
    assert run.returncode == 0, run.stderr
    return [word for line in run.stdout.splitlines() if line.startswith("threads ") for word in line.split()[1:]]


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the library default is one thread on one core")
def test_the_checks_and_a_notebooks_first_cell_bound_the_blas_threads_nobody_set():
    before, inside, after, in_the_kernel = _unconfigured(INSIDE_THE_CHECKS)
    assert inside == "1", "the learner's code runs with one BLAS thread inside a check"
    assert before == after != "1", "the kernel's own setting is back after the check"
    assert in_the_kernel == "1", "the notebook's set-up call bounds the rest of the kernel"


def test_a_thread_count_the_user_chose_is_left_as_it_is():
    assert _unconfigured(INSIDE_THE_CHECKS, OPENBLAS_NUM_THREADS="2") == ["2", "2", "2", "2"]
