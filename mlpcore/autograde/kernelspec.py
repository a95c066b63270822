"""The grading kernel as Jupyter starts it: its folders and its kernel spec.

Every grading door starts the same kernel: ``python -P -s -m mlpcore.autograde.kernel`` with the
limits of :class:`~mlpcore.schema.GradingSettings`, inside bubblewrap where the sandbox works (see
:mod:`mlpcore.autograde.sandbox`), with the learner's functions judged from outside
(:data:`~mlpcore.grading.channel.TRUSTED_ENV`).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .. import threads
from ..grading.channel import TRUSTED_ENV
from . import sandbox as os_sandbox
from .kernel import CPU_ENV, FILE_SIZE_ENV, MEMORY_ENV, NO_PROCESSES_ENV, PYTHON_FLAGS, SANDBOX_ENV, SEED_ENV, VIOLATIONS_ENV

KERNEL_NAME = "mlpcore-grading"
# Fewer malloc arenas: many short-lived kernels at once, each with a few threads.
MALLOC_ARENAS = {"MALLOC_ARENA_MAX": "2"}


def process_environment() -> dict:
    """Extra variables for the grading processes and their kernels: the course's BLAS threads per
    kernel (one unless MLPCORE_BLAS_THREADS says otherwise: the workers are the parallelism, and
    threads on top of them would oversubscribe the cores)."""
    return {**threads.kernel_environment(), **MALLOC_ARENAS}


class KernelFolders:
    """The folders of one notebook's kernels, none of them a folder the grader writes its results to.

    ``work`` is where the kernels run (in bubblewrap: a tmpfs of their own at that path), ``seed``
    the submission's other files they start from (read-only to them), ``home`` their home (a tmpfs
    in bubblewrap), ``violations`` the one file their fence reports refused writes to, and
    ``runtime`` the folder of their connection files and sockets (sandboxed)."""

    def __init__(self, folder: Path):
        self.work = folder / "kernel-work"
        self.seed = folder / "kernel-seed"
        self.home = folder / "kernel-home"
        self.report = folder / "kernel-report"
        self.violations = self.report / "violations.jsonl"
        self.runtime = folder / "kernel-runtime"
        for path in (self.work, self.seed, self.home / "tmp", self.report, self.runtime):
            path.mkdir(parents=True, exist_ok=True)
        self.violations.touch()


def kernel_spec(folder: Path, kernels: KernelFolders, settings: dict, resolved: str) -> Path:
    """Write the grading kernel's spec under ``folder``: the fenced kernel, in bubblewrap and unable to
    start processes as ``resolved`` says (see :func:`mlpcore.autograde.sandbox.label`). Returns the
    folder of kernel specs to search (``KernelSpecManager(kernel_dirs=[...])``)."""
    specs = folder / "jupyter" / "kernels"
    (specs / KERNEL_NAME).mkdir(parents=True)
    kernel = [sys.executable, *PYTHON_FLAGS, "-m", "mlpcore.autograde.kernel", "-f", "{connection_file}"]
    writable = [kernels.work, kernels.home]
    environment = {"IPYTHONDIR": str(kernels.home / "ipython"), "TMPDIR": str(kernels.home / "tmp")}
    environment.update(os_sandbox.environment_home(kernels.home))
    contained = os_sandbox.contained(resolved)
    if contained:
        # Home and working folder are new tmpfs inside: the host's copies stay empty, and the matplotlib
        # font cache is bound in read-only (building it takes seconds per kernel).
        fonts = os_sandbox.seed_matplotlib_cache(folder / "kernel-fonts")
        seeds = [(cached, kernels.home / "matplotlib" / cached.name) for cached in sorted(fonts.glob("*.json"))]
        kernel = (
            os_sandbox.bwrap_options(
                os_sandbox.python_paths() + [kernels.seed],
                [kernels.violations, kernels.runtime],
                settings["tmp_mb"],
                private=[kernels.home, kernels.work],
                seeds=seeds,
                chdir=kernels.work,
            )
            + kernel
        )
        writable.append(Path(os_sandbox.PRIVATE_TMP))  # in the sandbox's own /tmp, limited in size
        environment.update(MPLCONFIGDIR=str(kernels.home / "matplotlib"), TMPDIR=os_sandbox.PRIVATE_TMP)
    spec = {
        "argv": kernel,
        "display_name": "mlpcore grading",
        "language": "python",
        # bwrap does not pass signals on: an interrupt goes to the kernel as a message.
        "interrupt_mode": "message" if contained else "signal",
        "env": {
            MEMORY_ENV: str(settings["memory_mb"]),
            FILE_SIZE_ENV: str(settings["max_file_mb"]),
            CPU_ENV: str(os_sandbox.cpu_seconds(settings)),
            NO_PROCESSES_ENV: "1" if os_sandbox.blocks_processes(resolved) else "0",
            SEED_ENV: str(kernels.seed),
            SANDBOX_ENV: os.pathsep.join(str(path) for path in writable),
            VIOLATIONS_ENV: str(kernels.violations),
            TRUSTED_ENV: "1",  # check() hands the learner's functions to the grader (see trusted.py)
            **environment,
            **process_environment(),
        },
    }
    (specs / KERNEL_NAME / "kernel.json").write_text(json.dumps(spec))
    return specs
