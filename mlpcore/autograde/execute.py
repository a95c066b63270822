"""nbgrader's Execute preprocessor, made to grade as much of a bad submission as it can.

nbgrader gives up on a whole submission when its kernel dies, waits out every
slow cell in full, and keeps all output in memory. :class:`SturdyExecute`
(a drop-in for nbgrader's ``Execute``):

- **a dead kernel** (``os._exit``, a segfault, memory exhaustion): the cell that
  killed it gets an error output (so its test scores 0), a fresh kernel replays
  the cells that ran before it, and grading goes on with the next cell;
- **a time limit per notebook** on top of nbgrader's per-cell one: each cell gets
  at most what is left of ``notebook_timeout``; a cell that runs over is
  interrupted, and cells left when the time is spent are marked as not run;
- **megabytes of output**: a cell keeps at most ``max_output_bytes`` of output,
  then one line saying how much was dropped;
- **a working folder of the kernel's own** (``kernel_cwd``, as ``mlpcore grade`` runs it): the
  kernel runs there, not in the folder nbgrader writes the graded notebook to, so nothing the kernel
  leaves (a link in place of the notebook, say) is ever written through by the grader; the
  notebook's other files are copied to ``kernel_seed`` for the kernel to start from;
- **test cells judged from outside** (``trusted_checks``, as ``mlpcore grade`` runs
  it): after a test cell, :func:`mlpcore.autograde.trusted.judge_cell` runs its
  checks here, calling the learner's functions in the kernel, and writes the verdict
  into the cell. A test cell's checks share the cell's time limit.

The error outputs it writes have the ``ename`` values below, which the grader
reads back to give the submission its status.
"""

from __future__ import annotations

import os
import shutil
import time

from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat.notebooknode import NotebookNode
from pathlib import Path

from traitlets import Bool, Dict, Float, Integer, List, Unicode

from nbgrader.preprocessors import Execute
from nbgrader.utils import is_grade

from ..grading.channel import CallFailed, CallTimeout
from ..grading.protocol import RESULT_MIME
from . import trusted

KERNEL_DIED = "KernelDied"
NOT_RUN = "NotRun"
CELL_TIMEOUT = "CellTimeoutError"  # nbgrader's own name for a cell that ran out of time
OUTPUT_TRUNCATED_NOTE = "[grading: output truncated]"
CALL_OUTPUT_BYTES = 64 * 2**20  # the most one answer of a learner's function may take on its way to the grader


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class SturdyExecute(Execute):
    notebook_timeout = Float(
        600.0, help="Seconds for the whole notebook; cells left when it is spent are not run."
    ).tag(config=True)
    max_output_bytes = Integer(
        1_000_000, help="Output kept per cell; the rest is dropped with a note."
    ).tag(config=True)
    # The kernel's own start-up warnings (e.g. "running over TCP without encryption") are not the learner's.
    extra_arguments = List(["--IPKernelApp.log_level=ERROR"]).tag(config=True)
    sandboxed = Bool(
        False, help="Whether kernels run inside bubblewrap (then an exit status over 128 is a signal's)."
    ).tag(config=True)
    kernel_env = Dict(
        help="Variables added to each kernel's environment (mlpcore check: the course's BLAS threads)."
    ).tag(config=True)
    trusted_checks = Bool(
        False, help="Whether test cells are judged here, outside the kernel (see mlpcore.autograde.trusted)."
    ).tag(config=True)
    public_seeds = Bool(
        False, help="Judge with the cases the notebook's own check draws (mlpcore check), not secret ones."
    ).tag(config=True)
    kernel_cwd = Unicode(
        "", help="Where kernels run (empty: the notebook's folder, as in nbgrader). The grader writes nothing there."
    ).tag(config=True)
    kernel_seed = Unicode(
        "", help="A folder that receives the notebook folder's other files (regular files only) for the kernel."
    ).tag(config=True)
    max_kernel_restarts = Integer(
        3, help="Kernel deaths survived per notebook; after that the remaining cells are not run."
    ).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        # The same set-up as nbconvert's ExecutePreprocessor.preprocess, with the loop over cells
        # restarted after a kernel death.
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        if self.kernel_seed:
            self._seed_kernel_folder()
        self._deadline = time.monotonic() + self.notebook_timeout
        self._cell_deadline = None
        self._calling = False
        self._seeds = trusted.PublicSeeds() if self.public_seeds else trusted.Seeds()  # secret: new per notebook
        self._output_sizes = {}
        self.timeout_func = self._cell_timeout
        ran = []  # indices of code cells that ran to completion (replayed after a restart)
        killers = set()
        index, restarts, why = 0, 0, ""
        cells = self.nb.cells
        while index < len(cells):
            replaying = None
            try:
                with self.setup_kernel(**self._kernel_start_options()):
                    info = self.wait_for_reply(self.kc.kernel_info())
                    self.nb.metadata["language_info"] = info["content"]["language_info"]
                    for replaying in [i for i in ran if i not in killers]:
                        self.execute_cell(NotebookNode(cells[replaying].copy(), outputs=[]), replaying)
                    replaying = None
                    while index < len(cells):
                        if time.monotonic() >= self._deadline:
                            self._mark_not_run(index, f"the notebook's time limit of {self.notebook_timeout:g} s was spent")
                            return self.nb, self.resources
                        try:
                            self.preprocess_cell(cells[index], resources, index)
                        except DeadKernelError:
                            why = self._exit_reason()  # before the kernel manager is cleaned up
                            raise
                        ran.append(index)
                        index += 1
            except DeadKernelError:
                restarts += 1
                culprit = index if replaying is None else replaying
                killers.add(culprit)
                if replaying is None:
                    cells[index].setdefault("outputs", []).append(error_output(
                        KERNEL_DIED, f"the kernel died while running this cell{why}; "
                        "grading went on in a fresh kernel"))
                    index += 1
                if restarts > self.max_kernel_restarts:
                    self._mark_not_run(index, f"the kernel died {restarts} times")
                    break
        self.set_widgets_metadata()
        return self.nb, self.resources

    def preprocess_cell(self, cell, resources, index):
        limit = self.timeout if self.timeout and self.timeout > 0 else self.notebook_timeout
        self._cell_deadline = time.monotonic() + limit
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
            if self.trusted_checks and is_grade(cell):
                trusted.judge_cell(cell, lambda handle, payload: self._call_in_kernel(index, handle, payload), self._seeds)
        finally:
            self._cell_deadline = None
        return cell, resources

    def _call_in_kernel(self, index: int, handle: str, payload: str):
        """Run one call of a learner's function in the kernel (:func:`mlpcore.grading.channel.serve`)
        during test cell ``index``; its answer, as the kernel sent it."""
        real = self.nb.cells[index]
        code = f"__import__('mlpcore.grading.channel', fromlist=['serve']).serve({handle!r}, {payload!r})"
        probe = NotebookNode(cell_type="code", source=code, metadata={}, outputs=[], execution_count=None)
        used, self._output_sizes[index], self._calling = self._output_sizes.get(index, 0), 0, True
        try:
            self.execute_cell(probe, index, store_history=False)
        finally:
            self.nb.cells[index], self._output_sizes[index], self._calling = real, used, False
        if any(out.get("ename") == CELL_TIMEOUT for out in probe.outputs):
            raise CallTimeout(
                f"your function ran over the test cell's time limit of {self.timeout} s while it was being checked")
        answers = [out.data[RESULT_MIME] for out in probe.outputs
                   if out.get("output_type") == "display_data" and RESULT_MIME in out.get("data", {})]
        if len(answers) != 1:
            raise CallFailed(f"{len(answers)} answers to one call")
        return answers[0]

    def _seed_kernel_folder(self) -> None:
        """Put the notebook folder's other files (data the notebook reads) into ``kernel_seed``."""
        from .files import read_folder, write_tree

        seed = Path(self.kernel_seed)
        if seed.exists():
            shutil.rmtree(seed)
        seed.mkdir(parents=True)
        notebook_folder = self.resources.get("metadata", {}).get("path") or "."
        write_tree(seed, read_folder(Path(notebook_folder), skip_notebooks=True).files)

    def _kernel_start_options(self) -> dict:
        # jupyter_client starts a kernel with the given environment, or this process's when none is given.
        options = {"env": {**os.environ, **self.kernel_env}} if self.kernel_env else {}
        if self.kernel_cwd:
            options["cwd"] = self.kernel_cwd
        return options

    def _cell_timeout(self, cell) -> int:
        deadline = self._deadline if self._cell_deadline is None else min(self._deadline, self._cell_deadline)
        left = deadline - time.monotonic()
        return max(1, int(min(self.timeout or left, left)))

    def _exit_reason(self) -> str:
        """`` (killed by signal 11)`` when the dead kernel's exit status can be read."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        code = process.poll() if process is not None else None
        if code is None:
            return ""
        # A kernel in bubblewrap is bwrap's child: bwrap exits with 128 + the signal that killed it.
        signal_number = -code if code < 0 else code - 128 if self.sandboxed and code > 128 else None
        if signal_number is not None:
            names = {6: "SIGABRT", 9: "SIGKILL (out of memory?)", 11: "SIGSEGV, a segmentation fault"}
            return f" (killed by signal {signal_number}: {names.get(signal_number, 'a signal')})"
        return f" (it exited with status {code})"

    def _mark_not_run(self, start: int, why: str) -> None:
        for cell in self.nb.cells[start:]:
            if cell.cell_type == "code":
                cell.outputs = [error_output(NOT_RUN, f"not run: {why}")]

    def _update_display_id(self, display_id, msg):
        # An update replaces a display's data without passing through output(): an update that would
        # take its cell over the limit is dropped (the display keeps what it showed) and noted.
        new_size = len(str(msg["content"].get("data", {})))
        for cell_index, indices in self._display_id_map.get(display_id, {}).items():
            outputs = self.nb.cells[cell_index].outputs
            others = sum(len(str(out)) for i, out in enumerate(outputs) if i not in indices)
            if others + new_size * len(indices) > self.max_output_bytes:
                if self._output_sizes.get(cell_index, 0) < self.max_output_bytes:
                    outputs.append(self._truncation_note())
                    self._output_sizes[cell_index] = self.max_output_bytes
                return
        super()._update_display_id(display_id, msg)

    def _truncation_note(self):
        return NotebookNode(output_type="stream", name="stderr", text=(
            f"\n{OUTPUT_TRUNCATED_NOTE} this cell printed more than "
            f"{self.max_output_bytes / 1e6:g} MB; the rest was dropped.\n"))

    def output(self, outs, msg, display_id, cell_index):
        used = self._output_sizes.get(cell_index, 0)
        limit = self._limit()
        # Errors are always kept: a test cell's error is what scores it 0.
        if used >= limit and msg["msg_type"] != "error":
            return None  # the cell is full; the note is already there
        out = super().output(outs, msg, display_id, cell_index)
        if out is None or out.output_type == "error":
            return out
        size = len(str(out))
        if used + size <= limit:
            self._output_sizes[cell_index] = used + size
            return out
        if out.output_type == "stream":
            out.text = out.text[: max(limit - used, 0)]
        else:  # an image or HTML too big to keep at all
            outs.remove(out)
        outs.append(self._truncation_note())
        self._output_sizes[cell_index] = limit
        return out

    def _limit(self) -> int:
        """Output kept per cell; an answer from the kernel to the grader may be bigger (arrays as text)."""
        return max(self.max_output_bytes, CALL_OUTPUT_BYTES) if self._calling else self.max_output_bytes
