"""``mlpcore check NOTEBOOK.ipynb``: score one notebook on the learner's own machine, hidden tests included.

A learner studying alone has no instructor to run the autograder. The course's
grading runs every test cell's visible checks and then its hidden ones, which
are the same calls with ``hidden=True`` (more and harder cases). Because those
calls can be rebuilt from the release notebook itself, :func:`check_notebook`
runs the learner's notebook in a fresh kernel with each test cell replaced by
its :func:`hidden_variant`, and so scores it the way the course's grading would,
without a course folder, a gradebook or an nbgrader configuration.

- :func:`hidden_variant` turns a test cell's source into "visible checks, then hidden checks";
- :func:`check_notebook` runs a copy of the notebook (the learner's file is only read) and
  returns a JSON-ready result;
- :func:`format_report` prints that result as a table for the terminal.

A test cell whose checksum no longer matches its source was edited: its result
cannot be trusted, so it scores 0 as ``edited`` and the learner is told to
restore it. A hidden block that is not made of ``check`` calls (free-form hidden
code) cannot be rebuilt from the release; such a cell runs its visible tests
only, and the result's ``problems`` says so.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from nbgrader.utils import is_locked, is_solution

from .. import threads
from ..grading.channel import TRUSTED_ENV
from ..grading.testcells import UnreadableTestCell, check_calls, checker_name, exercise_of_cell
from ..schema import OUTCOME_WORDS, CellOutcome, verdicts
from .execute import CELL_TIMEOUT, KERNEL_DIED, NOT_RUN, SturdyExecute
from .outcome import cell_outcome, is_test_cell
from .submission import read_notebook

# The result of ``accuracy = check_classifier(...)`` is kept visible; the hidden call
# assigns ``accuracy_hidden``, as the course's source notebooks do.
HIDDEN_SUFFIX = "_hidden"
HIDDEN_COMMENT = "# The hidden tests of the course's grading: the same checks with more and harder cases."

# The marker of a passing or failing exercise in the terminal.
PASS_MARK, FAIL_MARK = "✓", "✗"


# --- the hidden variant of a test cell ------------------------------------------------------------------------


def _check_call(statement: ast.stmt) -> ast.Call | None:
    """The ``check(...)``/``check_classifier(...)`` call that a top-level statement makes, if it is one.

    Accepts a bare call and an assignment of its result; ``grading.check(...)`` counts too."""
    value = statement.value if isinstance(statement, (ast.Expr, ast.Assign)) else None
    if not isinstance(value, ast.Call):
        return None
    return value if checker_name(value.func) else None


def _has_hidden_keyword(call: ast.Call) -> bool:
    # ``**options`` might carry hidden= already: leave such a call alone rather than pass it twice.
    return any(keyword.arg in ("hidden", None) for keyword in call.keywords)


def _hidden_statement(statement: ast.stmt, call: ast.Call) -> ast.stmt:
    """The statement that runs ``call`` with ``hidden=True``, keeping the visible result's variable intact."""
    hidden_call = ast.Call(func=call.func, args=call.args,
                           keywords=[*call.keywords, ast.keyword(arg="hidden", value=ast.Constant(True))])
    targets = statement.targets if isinstance(statement, ast.Assign) else []
    if len(targets) == 1 and isinstance(targets[0], ast.Name):
        target = ast.Name(id=targets[0].id + HIDDEN_SUFFIX, ctx=ast.Store())
        return ast.fix_missing_locations(ast.Assign(targets=[target], value=hidden_call))
    # A bare call, or an assignment to something other than one name: the hidden result is not needed.
    return ast.fix_missing_locations(ast.Expr(value=hidden_call))


def hidden_variant(source: str) -> str:
    """A test cell's source followed by its hidden tests: each top-level ``check(...)`` or
    ``check_classifier(...)`` call without ``hidden=`` again, with ``hidden=True``.

    ``check("relu", relu)`` becomes ``check("relu", relu)`` then ``check('relu', relu, hidden=True)``;
    ``accuracy = check_classifier(t, p)`` is followed by ``accuracy_hidden = check_classifier(t, p, hidden=True)``.
    A source without such calls, or one that does not parse (the cell will report its own
    SyntaxError when it runs), comes back unchanged. A hidden call already present (an
    instructor's source notebook) is not added twice.
    """
    try:
        module = ast.parse(source)
    except SyntaxError:
        return source
    present = {ast.dump(statement) for statement in module.body}
    hidden_lines = []
    for statement in module.body:
        call = _check_call(statement)
        if call is None or _has_hidden_keyword(call):
            continue
        hidden = _hidden_statement(statement, call)
        if ast.dump(hidden) not in present:
            hidden_lines.append(ast.unparse(hidden))
    if not hidden_lines:
        return source
    return "\n".join([source.rstrip(), HIDDEN_COMMENT, *hidden_lines]) + "\n"


def _runs_hidden_tests(source: str) -> bool:
    """Whether a test cell's source makes a ``check(..., hidden=True)`` call (read as the grader reads it)."""
    try:
        return any(call.hidden for call in check_calls(source))
    except UnreadableTestCell:
        return False


# --- reading the learner's notebook ---------------------------------------------------------------------------


def _read_notebook(path: Path):
    """The notebook at ``path`` as an nbformat v4 node; a clear error for anything that is not one."""
    if not path.exists():
        raise FileNotFoundError(f"no notebook at {path}: expected the path of a course notebook (.ipynb file)")
    if not path.is_file():
        raise ValueError(f"{path} is a folder, not a notebook: expected the path of a .ipynb file inside it")
    notebook, why = read_notebook(path)  # the grader's own reader, with the same words
    if notebook is None:
        raise ValueError(f"{why}. Was it saved from Jupyter? Start again from a fresh copy of the course notebook "
                         "if it cannot be opened there.")
    return notebook


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _checksum_state(cell) -> str:
    """``intact``, ``edited`` or ``unknown`` (no recorded checksum to compare with)."""
    from nbgrader.utils import compute_checksum

    recorded = _nbgrader(cell).get("checksum")
    if not recorded:
        return "unknown"
    try:
        return "intact" if compute_checksum(cell) == recorded else "edited"
    except (KeyError, ValueError, TypeError):  # metadata damaged so far that nbgrader cannot hash it
        return "edited"


def _label(cell, index: int) -> str:
    return _nbgrader(cell).get("grade_id") or f"cell {index + 1}"


# --- running it -----------------------------------------------------------------------------------------------


def _prepare(notebook) -> tuple[list[int], set[int], list[str]]:
    """Swap every test cell's source for its hidden variant and clear old outputs (in the copy).

    Returns the test cells' indices, those of edited test cells, and problems seen before running."""
    tests, edited, problems, unknown, visible_only = [], set(), [], [], []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None  # an old error output must not be read as this run's
        state = _checksum_state(cell) if is_locked(cell) else "intact"  # test cells are locked too
        if not is_test_cell(cell):
            if state == "edited":
                problems.append(f"{_label(cell, index)}: this read-only cell was edited; if the notebook misbehaves, "
                                "restore the cell from a fresh copy of the course notebook")
            continue
        tests.append(index)
        if state == "edited":
            edited.add(index)
        elif state == "unknown":
            unknown.append(_label(cell, index))
        cell.source = hidden_variant(cell.source)
        if not _runs_hidden_tests(cell.source) and index not in edited:
            visible_only.append(exercise_of_cell(cell))
    if unknown:
        problems.append(f"{len(unknown)} test cell(s) carry no checksum ({', '.join(unknown)}), so edits to them "
                        "cannot be noticed; is this the course's notebook?")
    if visible_only:
        problems.append(f"{', '.join(visible_only)}: only the visible tests were run here; the course's grading "
                        "also runs hidden tests that cannot be rebuilt from the notebook")
    return tests, edited, problems


def _progress_hook(tests: list[int], progress):
    """An nbclient ``on_cell_start`` hook that reports each test cell as it starts, or None."""
    if progress is None:
        return None
    position = {index: number for number, index in enumerate(tests, start=1)}

    def on_cell_start(cell, cell_index, **_):
        if cell_index in position:
            progress(f"checking {exercise_of_cell(cell)} ({position[cell_index]}/{len(tests)})")

    return on_cell_start


def _run(notebook, folder: Path, timeout: int, notebook_timeout: float, hook) -> None:
    """Execute ``notebook`` in place in a fresh python3 kernel whose working folder is ``folder``.

    Its test cells are judged as ``mlpcore grade`` judges them: the kernel's ``check`` only hands the
    learner's functions over, and the checks run here (:mod:`mlpcore.autograde.trusted`), so each test
    cell ends with the same typed verdicts (:class:`mlpcore.schema.CheckResult`) the grader stores. The
    cases are those the notebook's own ``check`` draws, so the learner sees the same cases each time."""
    # The course's BLAS threads (one unless MLPCORE_BLAS_THREADS says otherwise), as in make lab.
    options = {"timeout": timeout, "notebook_timeout": notebook_timeout, "kernel_name": "python3",
               "kernel_env": {**threads.kernel_environment(), TRUSTED_ENV: "1"}, "trusted_checks": True,
               "public_seeds": True}
    if hook is not None:
        options["on_cell_start"] = hook
    executor = SturdyExecute(**options)
    try:
        executor.preprocess(notebook, {"metadata": {"path": str(folder)}})
    except Exception as exc:
        # Cell errors are recorded as outputs; what reaches here is a kernel that never started.
        raise RuntimeError(f"could not run the notebook in a python3 kernel ({type(exc).__name__}: {exc}); "
                           "is ipykernel installed in this environment?") from exc


# --- reading the results --------------------------------------------------------------------------------------


def _failed_in_hidden_tests(cell) -> bool:
    """Whether the cell failed in a hidden check, as its verdicts say."""
    try:
        return any(not verdict.passed and verdict.hidden for verdict in verdicts(cell))
    except ValueError:
        return False


def _exercise(cell, edited: bool) -> dict:
    meta = _nbgrader(cell)
    grade_id = meta.get("grade_id", "")
    points = float(meta.get("points", 0) or 0)
    if edited:
        outcome, mistake = "edited", None
        message = ("this test cell was changed, so its result cannot be trusted and it scores 0. Restore the cell "
                   "from a fresh copy of the course notebook (copy the cell back unchanged), then check again.")
    else:
        outcome, message, mistake = cell_outcome(cell)
        if outcome == "failed" and _failed_in_hidden_tests(cell):
            message = "the visible test passes, but the hidden tests fail: " + message
    return CellOutcome(grade_id, exercise_of_cell(cell), points if outcome == "passed" else 0.0, points,
                       outcome, message, mistake).to_json()


# "invalid syntax (2640316893.py, line 3)": the file is the kernel's name for the cell, not the learner's.
_CELL_FILE = re.compile(r"\((?:[^(),]*\.py|<[^>]*>), line (\d+)\)")


def _cell_error(ename: str, evalue: str, index: int) -> str:
    """``SyntaxError: invalid syntax (line 3 of cell 23)``: an error of the cell at ``index``, with its
    number in the notebook (counting every cell, text included) instead of the kernel's file name."""
    evalue = _CELL_FILE.sub(lambda found: f"(line {found.group(1)} of cell {index + 1})", evalue)
    return f"{ename}: {evalue}".rstrip(": ") if evalue else ename


def _broken_cells(notebook, tests: list[int]) -> dict[int, str]:
    """Cells other than test cells that raised an error of their own (not an unwritten answer's
    NotImplementedError, a time-out or a crash): index -> the error, as :func:`_cell_error` words it."""
    broken, failed_before = {}, False
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or index in tests:
            continue
        errors = [out for out in cell.get("outputs", []) if out.get("output_type") == "error"]
        ename = errors[0].get("ename", "") if errors else ""
        # A given cell's error after another cell failed is most likely that failure's echo (a variable
        # an unwritten answer never made); an answer cell's error is its own.
        if errors and ename not in (NOT_RUN, KERNEL_DIED, CELL_TIMEOUT, "NotImplementedError") and \
                (is_solution(cell) or not failed_before):
            broken[index] = _cell_error(ename, errors[0].get("evalue", ""), index)
        failed_before = failed_before or bool(errors)
    return broken


def _run_problems(notebook, tests: list[int]) -> list[str]:
    """Time-outs and crashes anywhere in the notebook, and errors in the learner's answer cells and in the
    cells given with the notebook (a given cell that calls a helper the learner named otherwise)."""
    problems, not_run_reported = [], False
    broken = _broken_cells(notebook, tests)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        label = _label(cell, index)
        for out in cell.get("outputs", []):
            if out.get("output_type") != "error":
                continue
            ename, evalue = out.get("ename", ""), out.get("evalue", "")
            if ename == NOT_RUN and not not_run_reported:
                problems.append(f"cells from {label} on were {evalue}")
                not_run_reported = True
            elif ename == KERNEL_DIED:
                problems.append(f"{label}: {evalue}")
            elif ename == CELL_TIMEOUT:
                problems.append(f"{label} ran over the time limit for one cell and was interrupted")
            elif index in broken and is_solution(cell):
                # An answer cell that fails to even define its function (a SyntaxError, a typo'd name).
                problems.append(f"your answer cell {label} raised {broken[index]}: fix it, run it, then check again")
            elif index in broken:
                problems.append(f"cell {index + 1} raised {broken[index]}: it uses what the cells before it define; "
                                "read the text above it for the names and arguments it expects, then check again")
    return problems


def _blamed_on_a_broken_cell(exercise: dict, cell, notebook, broken: dict[int, str], index: int) -> dict:
    """An exercise whose test cell failed only because a name is not defined, after an answer cell that
    raised: its message says which cell to fix, not the NameError it caused."""
    errors = [out for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    before = [i for i in broken if i < index and is_solution(notebook.cells[i])]
    if exercise["outcome"] != "error" or not before or not errors or errors[0].get("ename") != "NameError":
        return exercise
    first = before[-1]
    return {**exercise, "message": f"not checked: {errors[0].get('evalue', 'a name is not defined')}, because your "
            f"answer cell {_label(notebook.cells[first], first)} raised {broken[first]}. Fix that cell first"}


# --- the public entry points ----------------------------------------------------------------------------------


def check_notebook(path, timeout: int = 120, notebook_timeout: float = 900, progress=None) -> dict:
    """Run the notebook at ``path`` with its hidden tests, the way the course grades it, and score it.

    ``timeout``: seconds per cell; ``notebook_timeout``: seconds for the whole notebook; ``progress``:
    called with a short line as the run starts and as each test cell starts (or None). The notebook
    runs in a fresh ``python3`` kernel whose working folder is the notebook's folder; only a copy
    in memory is changed, never the file.

    Returns ``{"notebook", "score", "max_score", "exercises": [{"grade_id", "exercise", "score",
    "max_score", "outcome", "message", "mistake"}, ...], "problems": [str, ...]}``.
    Raises FileNotFoundError or ValueError for a path that is not a course notebook, and
    RuntimeError when no kernel can be started.
    """
    path = Path(path)
    notebook = _read_notebook(path)
    if not any(is_test_cell(cell) for cell in notebook.cells):
        raise ValueError(f"{path} has no graded test cells: expected a course notebook, whose test cells carry "
                         "nbgrader metadata (grade: true). Was the metadata lost, for example by copying the cells "
                         "into a new notebook? Start again from a fresh copy of the course notebook.")
    tests, edited, problems = _prepare(notebook)
    if progress is not None:
        progress(f"running {path.name} in a fresh kernel ({len(tests)} graded cells)")
    _run(notebook, path.resolve().parent, timeout, notebook_timeout, _progress_hook(tests, progress))
    broken = _broken_cells(notebook, tests)
    exercises = [_blamed_on_a_broken_cell(_exercise(notebook.cells[index], index in edited), notebook.cells[index],
                                          notebook, broken, index) for index in tests]
    if edited:
        names = ", ".join(exercise_of_cell(notebook.cells[index]) for index in sorted(edited))
        problems.insert(0, f"test cells edited (scored 0 until restored): {names}")
    return {
        "notebook": str(path),
        "score": sum(exercise["score"] for exercise in exercises),
        "max_score": sum(exercise["max_score"] for exercise in exercises),
        "exercises": exercises,
        "problems": problems + _run_problems(notebook, tests),
    }


def _points(value: float) -> str:
    return f"{value:g}"


def _advice(exercise: dict) -> str:
    """What went wrong with one exercise, in a line for the learner (without the error class's name)."""
    if exercise["outcome"] == "unanswered":
        return "not answered yet: replace `raise NotImplementedError()` in its answer cell with your code."
    # The named mistake is not in the message (it gets its own line); "ExerciseFailed: relu: ..."
    # repeats what the table already says.
    message = (exercise["message"] or "").strip()
    message = re.sub(rf"\b(?:ExerciseFailed|ReferenceUsed): (?:{re.escape(exercise['exercise'])}: )?", "", message,
                     count=1)
    return message or OUTCOME_WORDS.get(exercise["outcome"], exercise["outcome"])


def format_report(result: dict) -> str:
    """The result of :func:`check_notebook` as plain text: a table of exercises, what went wrong, the total."""
    exercises = result["exercises"]
    width = max([len("exercise"), *(len(exercise["exercise"]) for exercise in exercises)])
    points = [f"{_points(exercise['score'])}/{_points(exercise['max_score'])}" for exercise in exercises]
    points_width = max([len("points"), *(len(text) for text in points)])
    lines = [f"Checked {result['notebook']}", "",
             f"  {'exercise':<{width}}  {'points':>{points_width}}     result"]
    for exercise, text in zip(exercises, points):
        mark = PASS_MARK if exercise["outcome"] == "passed" else FAIL_MARK
        words = OUTCOME_WORDS.get(exercise["outcome"], exercise["outcome"])
        lines.append(f"  {exercise['exercise']:<{width}}  {text:>{points_width}}  {mark}  {words}")
    failing = [exercise for exercise in exercises if exercise["outcome"] != "passed"]
    unanswered = [exercise["exercise"] for exercise in failing if exercise["outcome"] == "unanswered"]
    if failing:
        lines += ["", "What to fix:"]
    if unanswered:  # one line for all: the same advice six times hides the rest
        where = "its answer cell" if len(unanswered) == 1 else "each one's answer cell"
        lines.append(f"- {', '.join(unanswered)}: not answered yet: replace `raise NotImplementedError()` in {where} "
                     "with your code.")
    for exercise in failing:
        if exercise["outcome"] == "unanswered":
            continue
        lines.append(f"- {exercise['exercise']}: {_advice(exercise)}")
        if exercise.get("mistake"):
            lines.append(f"  Likely mistake: {exercise['mistake']}")
    score, max_score = result["score"], result["max_score"]
    percent = 100.0 * score / max_score if max_score else 0.0
    lines += ["", f"Total: {_points(score)}/{_points(max_score)} ({percent:.0f}%)"]
    if result.get("problems"):
        lines += ["", "Problems:"] + [f"- {problem}" for problem in result["problems"]]
    lines += ["", _next_step(result, failing)]
    return "\n".join(lines)


def _next_step(result: dict, failing: list[dict]) -> str:
    """One line: what the learner does now."""
    again = f"then run mlpcore check {Path(result['notebook']).name} again"
    if not failing:
        return "Next: every exercise passes; submit the notebook, or go on to the next one."
    first = failing[0]
    if first["outcome"] == "unanswered":
        return f"Next: write {first['exercise']} in its answer cell, run its check cell in Jupyter until it passes, {again}."
    return f"Next: fix {first['exercise']} first, run its check cell in Jupyter until it passes, {again}."
