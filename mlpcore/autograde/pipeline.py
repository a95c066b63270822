"""mlpcore's grading pipeline as nbgrader's own preprocessors: one pipeline, whatever door starts it.

An instructor grades through several doors: ``mlpcore grade`` (parallel, fast), ``nbgrader autograde``
in a terminal, formgrader's Autograde button, and ``nbgrader generate_feedback`` or formgrader's
feedback icon. Each is nbgrader's ``Autograde`` (or ``GenerateFeedback``) converter, and each reads
its preprocessors from the configuration, so :func:`configure` puts mlpcore's steps there, and
``mlpcore grade``'s worker runs the same lists:

- sanitize: :class:`RepairSubmission` (links in the submitted folder refused and named, deleted
  or reordered course cells restored, a rebound ``check`` removed, code that reaches into the grader
  flagged: :mod:`mlpcore.autograde.submission`, :mod:`mlpcore.autograde.suspicious`), then nbgrader's own;
- autograde: :class:`SandboxedExecute` (the kernel in bubblewrap, unable to start processes, the
  checks judged outside it: :mod:`mlpcore.autograde.trusted`), nbgrader's scoring, then
  :class:`RecordOutcome` (the statuses, the gradebook's flag and comment, and, from nbgrader's
  doors, mlpcore's outcome file and tables);
- feedback: :class:`FeedbackExporter`, mlpcore's page (summary first, named mistakes, no hidden test);
- release (``generate_assignment``, formgrader's Generate button, ``mlpcore release``):
  :class:`CheckTestCells` refuses a test cell whose checks the grader could not read.

What a step finds travels in the notebook's metadata (``metadata.mlpcore``), which the sanitize step
first clears: a submission cannot bring its own.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from nbconvert.exporters import HTMLExporter
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float, Integer, List, Unicode
from traitlets.config import Configurable

from ..schema import METADATA_KEY, known_status
from . import sandbox as os_sandbox
from .kernelspec import KERNEL_NAME, KernelFolders, kernel_spec
from .execute import SturdyExecute
from .files import read_folder


def configure(c, grading: str, exercises=()) -> None:
    """Point nbgrader's autograde and feedback at mlpcore's pipeline, in an ``nbgrader_config.py``
    (``c``: its configuration; ``grading``: the grading folder, where outcomes and tables live;
    ``exercises``: the course's exercise files, absolute paths: see :mod:`mlpcore.grading.registry`)."""
    c.CourseExercises.files = [str(path) for path in exercises]
    c.Autograde.sanitize_preprocessors = sanitize_steps()
    c.Autograde.autograde_preprocessors = autograde_steps()
    c.RecordOutcome.grading_folder = str(grading)
    c.GenerateFeedback.preprocessors = []
    c.GenerateFeedback.exporter_class = FeedbackExporter
    c.FeedbackExporter.grading_folder = str(grading)
    c.GenerateAssignment.preprocessors = release_steps()


def release_steps() -> list:
    """nbgrader's release steps, with :class:`CheckTestCells` once the test cells are in place."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.preprocessors import InstantiateTests

    steps = list(GenerateAssignment.class_traits()["preprocessors"].default())
    steps.insert(steps.index(InstantiateTests) + 1, CheckTestCells)
    return steps


def sanitize_steps() -> list:
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells, OverwriteKernelspec

    return [ClearOutput, RepairSubmission, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata]


def autograde_steps() -> list:
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades

    return [SandboxedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
            AssignLatePenalties, CheckCellMetadata, RecordOutcome]


def _names(resources) -> tuple[str, str, str]:
    """``(notebook, assignment, student)`` of the notebook nbgrader is converting."""
    found = resources["nbgrader"]
    return found["notebook"], found["assignment"], found["student"]


def _metadata(nb) -> dict:
    return nb.metadata.setdefault(METADATA_KEY, {})


def _add(nb, status: str, reason: str) -> None:
    _metadata(nb).setdefault("problems", {}).setdefault(known_status(status), []).append(reason)


class CourseExercises(Configurable):
    """The exercises a course defines itself (``configure(c, ..., exercises=[...])``): the grader
    registers the course's own copy of each file, whatever a student's folder holds."""

    files = List(Unicode(), help="The course's exercise files (absolute paths)").tag(config=True)

    def load(self) -> None:
        """Register exactly the configured files (and forget those an earlier job of this process loaded)."""
        from ..grading import registry

        registry.unload_files()
        for path in self.files:
            registry.load(Path(path))


class CheckTestCells(NbGraderPreprocessor):
    """Release step: every test cell makes checks the grader can read (see
    :mod:`mlpcore.grading.testcells`). Graded, such a cell would score nothing for everyone;
    refused here, its author hears which cell and why before any student sees it."""

    def preprocess(self, nb, resources):
        from ..grading.testcells import UnreadableTestCell, check_calls, is_test_cell

        CourseExercises(config=self.config).load()
        problems = []
        for cell in nb.cells:
            if not is_test_cell(cell):
                continue
            grade_id = cell.metadata.nbgrader.get("grade_id", "a test cell")
            try:
                if not check_calls(cell.source):
                    problems.append(f"{grade_id}: it calls no check; write check(\"exercise\", function)")
            except UnreadableTestCell as exc:
                problems.append(f"{grade_id}: {exc}")
        if problems:
            # One line: nbgrader's log and mlpcore release show an exception's first line.
            raise ValueError(f"{resources['unique_key']}: the grader could not read these test cells: " + "; ".join(problems))
        return nb, resources


class RepairSubmission(NbGraderPreprocessor):
    """Sanitize step: the submitted notebook put back into the course's shape, with what was wrong
    recorded in ``metadata.mlpcore.problems`` (see :mod:`mlpcore.autograde.submission`).

    From nbgrader's own doors it also refuses what ``nbgrader autograde`` copied out of links in the
    submitted folder (nbgrader follows them): those files are deleted from the autograded folder, and
    a notebook that is itself a link is graded as the unanswered release."""

    release_directory = Unicode("", help="Where the release notebooks are (default: CourseDirectory's)").tag(config=True)

    def preprocess(self, nb, resources):
        import nbformat
        from nbgrader.coursedir import CourseDirectory

        from ..schema import NotebookProblems
        from .submission import remove_checker_rebinding, restore_structure
        from .suspicious import find_reaching_code, find_reaching_files

        name, assignment, student = _names(resources)
        coursedir = CourseDirectory(config=self.config)
        release_folder = Path(self.release_directory or coursedir.format_path(coursedir.release_directory, ".", assignment))
        release = nbformat.read(release_folder / f"{name}.ipynb", as_version=4)
        nb.metadata.pop(METADATA_KEY, None)  # only the grader writes here
        problems = NotebookProblems()
        submitted = Path(resources.get("metadata", {}).get("path") or ".")
        refused = read_folder(submitted).refused if submitted.is_dir() else []
        if refused:
            autograded = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
            _delete_copies_of_links(submitted, autograded)
            problems.add("tampered", "the submission holds what the grader does not read: " + "; ".join(refused[:5]))
        if (submitted / f"{name}.ipynb").is_symlink():
            nb = release  # nbgrader read the link's target: grade what the student gave, nothing
            problems.add("missing", f"no {name}.ipynb was submitted: it is a symbolic link, which is not read")
        nb = restore_structure(nb, release, problems)
        nb = remove_checker_rebinding(nb, release, problems)
        for reason in find_reaching_code(nb, release):
            problems.add("suspicious", reason)
        if name == min(path.stem for path in release_folder.glob("*.ipynb")):
            # The notebooks import the files beside them (helper.py): each is read like a cell, once.
            for reason in find_reaching_files(submitted):
                problems.add("suspicious", reason)
        for status, reasons in problems.problems.items():
            for reason in reasons:
                _add(nb, status, reason)
        return nb, resources


def _delete_copies_of_links(submitted: Path, autograded: Path) -> None:
    """Delete from ``autograded`` what nbgrader copied there out of a link in ``submitted``."""
    for _path, relative, _info in _links(submitted):
        copy = autograded / relative
        if copy.is_dir() and not copy.is_symlink():
            shutil.rmtree(copy)
        elif copy.exists() or copy.is_symlink():
            copy.unlink()


def _links(folder: Path):
    import stat

    from .files import is_read, walk

    return [(path, relative, info) for path, relative, info in walk(folder)
            if not is_read(info) and not stat.S_ISDIR(info.st_mode)]


class SandboxedExecute(SturdyExecute):
    """Autograde step: :class:`~mlpcore.autograde.execute.SturdyExecute` with its kernel in the
    grader's sandbox, made for each notebook (a kernel spec in a scratch folder of its own, never the
    notebook's folder), and the test cells judged outside the kernel. The kernel's refused writes are
    recorded in ``metadata.mlpcore.violations``."""

    sandbox = Unicode("auto", help="auto, bwrap or none (see mlpcore.autograde.sandbox)").tag(config=True)
    sandbox_resolved = Unicode("", help="What --sandbox resolved to, when the caller decided it already").tag(config=True)
    memory_mb = Integer(2048, help="Address space per kernel, MB").tag(config=True)
    max_file_mb = Integer(100, help="Largest file a kernel may write, MB").tag(config=True)
    tmp_mb = Integer(os_sandbox.DEFAULT_TMP_MB, help="Size of each of a sandboxed kernel's writable folders, MB").tag(config=True)
    notebook_timeout = Float(600.0, help="Seconds for the whole notebook").tag(config=True)
    scratch = Unicode("", help="Folder for the kernels' own folders (default: a temporary one per notebook)").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        CourseExercises(config=self.config).load()  # the checks judged here may be the course's own
        resolved = self.sandbox_resolved or os_sandbox.resolve(self.sandbox)
        with tempfile.TemporaryDirectory(prefix="mlpcore-kernel-", dir=self.scratch or None) as scratch:
            folder = Path(scratch)
            kernels = KernelFolders(folder)
            spec_folder = kernel_spec(folder, kernels, self._settings(), resolved)
            self._spec_folder, self._kernels, self._resolved = spec_folder, kernels, resolved
            self.kernel_name, self.trusted_checks = KERNEL_NAME, True
            self.sandboxed = os_sandbox.contained(resolved)
            self.kernel_cwd, self.kernel_seed = str(kernels.work), str(kernels.seed)
            nb, resources = super().preprocess(nb, resources, km)
            from .outcome import read_violations

            written = read_violations(kernels.violations)
            _metadata(nb)["violations"] = written
            _metadata(nb)["sandbox"] = resolved
        return nb, resources

    def _kernel_start_options(self) -> dict:
        # ipykernel prints how to connect to it on its stdout: not the grader's output (errors go to stderr).
        return {**super()._kernel_start_options(), "stdout": subprocess.DEVNULL}

    def _settings(self) -> dict:
        return {"memory_mb": self.memory_mb, "max_file_mb": self.max_file_mb, "tmp_mb": self.tmp_mb,
                "notebook_timeout": self.notebook_timeout}

    def create_kernel_manager(self):
        """A kernel manager that finds only the grading kernel's spec, in this notebook's scratch folder
        (never through JUPYTER_PATH: in formgrader's server that would change every other kernel's)."""
        from jupyter_client.kernelspec import KernelSpecManager

        options = {"kernel_name": KERNEL_NAME, "config": self.config,
                   "kernel_spec_manager": KernelSpecManager(kernel_dirs=[str(self._spec_folder)])}
        if self.sandboxed:
            # The sandboxed kernel has a network of its own: it reaches the grader through Unix sockets,
            # in a folder bound into the sandbox, next to its connection file.
            options.update(transport="ipc", ip=str(self._kernels.runtime / "kernel"),
                           connection_file=str(self._kernels.runtime / "connection.json"))
        self.km = self.kernel_manager_class(**options)
        return self.km


class RecordOutcome(NbGraderPreprocessor):
    """Autograde step, after nbgrader has scored the notebook: its mlpcore statuses
    (``metadata.mlpcore.problems``, completed from the cells' verdicts and errors), a flag on the
    notebook in the gradebook when a status needs the instructor's eye (formgrader shows it), and the
    reasons as the auto comment of the notebook's first answer. From nbgrader's doors
    (``grading_folder`` set) it also writes mlpcore's outcome file and tables, so that ``grades.csv``,
    the report and the feedback agree with the gradebook."""

    grading_folder = Unicode("", help="mlpcore's grading folder (outcomes, tables); empty: the caller collects").tag(config=True)

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook

        from ..schema import Status
        from .gradebook import flag_notebook, name_if_unnamed
        from .outcome import notebook_problems

        name, assignment, student = _names(resources)
        problems = notebook_problems(nb, _metadata(nb), self._settings())
        _metadata(nb)["problems"] = problems.problems
        with Gradebook(resources["nbgrader"]["db_url"]) as gradebook:
            submitted = gradebook.find_submission_notebook(name, assignment, student)
            flag_notebook(submitted, problems.problems, Status)
            name_if_unnamed(gradebook.find_student(student))  # formgrader's "None, None" otherwise
            gradebook.db.commit()
        if self.grading_folder:
            self._write_outcome(nb, resources)
        return nb, resources

    def _settings(self) -> dict:
        execute = self.config.get("SandboxedExecute", {})
        return {"max_output_bytes": execute.get("max_output_bytes", 1_000_000), "cell_timeout": execute.get("timeout", 120),
                "memory_mb": execute.get("memory_mb", 2048)}

    def _write_outcome(self, nb, resources) -> None:
        from nbgrader.api import Gradebook

        from .tables import outcome_path, write_tables
        from .outcome import notebook_outcome, submission_outcome, read_saved

        name, assignment, student = _names(resources)
        folder = Path(self.grading_folder)
        path = outcome_path(folder, assignment, student)
        saved = read_saved(path) if path.is_file() else None
        notebooks = dict((saved or {}).get("notebooks", {}))
        notebooks[name] = notebook_outcome(nb, resources["nbgrader"]["db_url"], assignment, student, name).to_json()
        result = submission_outcome(resources["nbgrader"]["db_url"], student, assignment, notebooks)
        from . import late

        with Gradebook(resources["nbgrader"]["db_url"]) as gradebook:  # AssignLatePenalties stored it there
            late.annotate(result, late.recorded(gradebook, assignment, student, late.plugin(self.config)))
        result["sandbox"] = _metadata(nb).get("sandbox", "none")
        result["graded_by"] = "nbgrader"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=1))
        write_tables(folder)


class FeedbackExporter(HTMLExporter):
    """``nbgrader generate_feedback``'s and formgrader's feedback: mlpcore's page for the notebook
    (summary first, named mistakes, no hidden test), from the outcome that grading saved."""

    grading_folder = Unicode("", help="mlpcore's grading folder (outcomes)").tag(config=True)
    course_root = Unicode("", help="The course root (release and source notebooks)").tag(config=True)

    def from_notebook_node(self, nb, resources=None, **kw):
        from nbgrader.coursedir import CourseDirectory

        from .feedback import page_for

        resources = self._init_resources(resources)
        name, assignment, student = _names(resources)
        root = Path(self.course_root or CourseDirectory(config=self.config).root)
        folder = Path(self.grading_folder or root / "grading")
        return page_for(root, folder, assignment, student, name, nb), resources
