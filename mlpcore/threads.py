"""How many BLAS threads the course's kernels use, decided in one place.

NumPy hands every matrix product to a BLAS library (OpenBLAS in NumPy's wheels), which by
default starts one thread per core. The course's matrices are small, so those threads gain
little, and where many processes share the cores (thirty kernels on a JupyterHub machine,
``mlpcore grade`` with a worker per core, the test suite in parallel) they spin against each
other: on a busy two-core machine a training cell took 56 s with one thread per core and 3 s
with one thread in all (notebook 09 shows how to see this).

So every kernel the course starts (``make lab``, ``mlpcore check``, the grading workers, the test
suite) gets ``MLPCORE_BLAS_THREADS`` BLAS threads: 1 unless the user sets it (a number, or ``all``
for the libraries' own default of one per core). Inside a kernel, ``threadpoolctl`` changes the
count at any time (``with threadpoolctl.threadpool_limits(4): ...``); :mod:`mlpcore` itself sets
nothing, so a model works with whatever the process has.

``python -m mlpcore.threads COMMAND [ARGS...]`` runs a command with the course's thread settings
in its environment (``make lab`` starts JupyterLab this way).
"""

from __future__ import annotations

import contextlib
import os
import sys

THREADS_ENV = "MLPCORE_BLAS_THREADS"
DEFAULT_THREADS = 1
ALL_CORES = "all"
# The start-up variables of the BLAS and OpenMP runtimes that NumPy may be built with.
LIBRARY_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                     "VECLIB_MAXIMUM_THREADS")


def course_threads(environ=None) -> int | None:
    """The BLAS threads per kernel that ``MLPCORE_BLAS_THREADS`` asks for; ``None`` for ``all``."""
    environ = os.environ if environ is None else environ
    value = environ.get(THREADS_ENV, "").strip()
    if not value:
        return DEFAULT_THREADS
    if value.lower() == ALL_CORES:
        return None
    if value.isdigit() and int(value) >= 1:
        return int(value)
    raise ValueError(f"{THREADS_ENV} must be a number of BLAS threads per kernel (1 or more) or "
                     f"{ALL_CORES!r} for one per core; it is {value!r}.")


def kernel_environment(environ=None) -> dict[str, str]:
    """The variables to add to a kernel's environment (empty for ``all``: the libraries decide)."""
    threads = course_threads(environ)
    return {} if threads is None else {variable: str(threads) for variable in LIBRARY_VARIABLES}


def limit_this_process(environ=None):
    """Give this process and the processes it starts the course's thread count.

    The variables only reach libraries that are not loaded yet (child processes), so the BLAS
    already loaded here is limited through threadpoolctl as well. Returns threadpoolctl's limiter,
    or ``None`` for ``all``."""
    extra = kernel_environment(environ)
    os.environ.update(extra)
    if not extra:
        return None
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=course_threads(environ), user_api="blas")


def chosen_by_the_user(environ=None) -> bool:
    """Whether the thread count was chosen before the course could: ``MLPCORE_BLAS_THREADS`` or a BLAS
    library's own variable in the environment (``make lab`` and ``mlpcore check`` set them too)."""
    environ = os.environ if environ is None else environ
    return any(environ.get(name, "").strip() for name in (THREADS_ENV, *LIBRARY_VARIABLES))


def blas_threads() -> int:
    """The largest number of threads any BLAS library loaded in this process may use now."""
    from threadpoolctl import threadpool_info

    return max((info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"), default=1)


def course_kernel():
    """A notebook's first cell calls this: the kernel gets the course's BLAS threads (one) when nobody
    chose a number, as in plain Jupyter or a hub whose administrator did not set the variables; then a
    training cell takes seconds, not a minute of threads spinning against each other. A number the user
    chose (the variables, or ``threadpoolctl.threadpool_limits`` afterwards) is left as it is.
    Returns None, so that a cell ending with the call shows nothing."""
    if chosen_by_the_user():
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=DEFAULT_THREADS, user_api="blas")  # for the rest of the kernel


@contextlib.contextmanager
def bounded():
    """``with bounded():`` (or ``@bounded()``) the course's BLAS threads while a check runs the learner's
    code, whatever the kernel was started with, unless the user chose a number (:func:`chosen_by_the_user`);
    the kernel's own setting is back afterwards."""
    if chosen_by_the_user() or blas_threads() <= DEFAULT_THREADS:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=DEFAULT_THREADS, user_api="blas"):
        yield


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print("usage: python -m mlpcore.threads COMMAND [ARGS...]  (runs COMMAND with "
              f"{THREADS_ENV}={os.environ.get(THREADS_ENV, DEFAULT_THREADS)} BLAS threads per kernel)", file=sys.stderr)
        return 2
    try:
        environment = {**os.environ, **kernel_environment()}
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        os.execvpe(argv[0], argv, environment)
    except OSError as exc:
        print(f"error: could not run {argv[0]}: {exc}", file=sys.stderr)
        return 127


if __name__ == "__main__":
    sys.exit(main())
