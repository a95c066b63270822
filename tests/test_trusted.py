"""The verdict is reached outside the learner's kernel (mlpcore/autograde/trusted.py, mlpcore/grading/channel.py).

Three layers: the channel's data (plain values only, anything malformed refused), one test cell judged
against a kernel simulated in this process, and a class of determined cheaters graded by `mlpcore grade`
beside an honest student: every cheat scores 0 on what it did not do, or gets a status that is not ok.
"""

import copy
import json
import shutil
import zlib
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.notebooknode import NotebookNode

import mlpcore.grading
from mlpcore import activations
from mlpcore.autograde import sandbox
from mlpcore.autograde.grade import load_outcomes
from mlpcore.autograde.sample_class import ASSIGNMENT, NOTEBOOK, fill, solution_answers
from mlpcore.autograde.trusted import Seeds, judge_cell
from mlpcore.cli import main
from mlpcore.grading import EXERCISES, check, channel
from mlpcore.grading.protocol import CallAnswer, CallBatch, CheckRequest, ProtocolError
from mlpcore.grading.testcells import check_calls, exercise_of_cell, is_test_cell
from mlpcore.grading.channel import RESULT_MIME, TRUSTED_ENV, ChannelError, Opaque, decode, encode
from mlpcore.schema import VERDICT_MIME, verdicts

ROOT = Path(__file__).resolve().parent.parent
TEST_SOURCE = 'check("relu", relu)\n### BEGIN HIDDEN TESTS\ncheck("relu", relu, hidden=True)\n### END HIDDEN TESTS'


def roundtrip(value):
    return decode(json.loads(json.dumps(encode(value))))


# ------------------------------------------------------------------ the channel's data


def test_plain_values_come_back_with_their_exact_types():
    value = {"W": np.arange(6, dtype=np.float32).reshape(2, 3), "n": 3, "x": 0.1, "s": np.float64(2.5),
             "t": (True, None, "name"), "l": [np.int64(7)], 5: np.zeros((0, 4)),
             "dtypes": (np.float32, np.dtype("float64"), "float32")}
    back = roundtrip(value)
    assert back.keys() == value.keys()
    assert back["W"].dtype == np.float32 and np.array_equal(back["W"], value["W"])
    assert type(back["n"]) is int and type(back["x"]) is float and type(back["s"]) is np.float64
    assert type(back["t"]) is tuple and type(back["l"]) is list and type(back["l"][0]) is np.int64
    assert back[5].shape == (0, 4)
    assert back["dtypes"] == value["dtypes"] and back["dtypes"][0] is np.float32
    assert np.isnan(roundtrip(float("nan"))) and roundtrip(np.array([np.inf]))[0] == np.inf


def test_an_ndarray_subclass_or_an_object_comes_back_as_an_inert_opaque_value():
    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

    back = roundtrip(np.zeros(3).view(Liar))
    assert isinstance(back, Opaque) and not isinstance(back, np.ndarray) and type(back).__name__ == "Liar"
    assert isinstance(roundtrip(object()), Opaque)
    assert isinstance(roundtrip(np.array([object()])), Opaque)  # object dtype is not data


@pytest.mark.parametrize("data", [
    {"t": "ndarray", "dtype": "<f8", "shape": [3], "data": "AAAA"},  # bytes that do not fill the shape
    {"t": "ndarray", "dtype": "|O", "shape": [1], "data": ""},  # object dtype: pickles
    {"t": "ndarray", "dtype": "<f8", "shape": [-1], "data": ""},
    {"t": "scalar", "dtype": "<f8", "data": "AA=="},
    {"t": "callable", "ref": "os:system", "args": None},  # the grader sends functions, the kernel does not
    {"t": "generator", "bits": "PCG64", "state": {"t": "none"}},
    {"t": "bool", "v": 1}, {"t": "int", "v": 3}, {"t": "what"}, [], "text",
])
def test_malformed_or_foreign_data_from_the_kernel_is_refused(data):
    with pytest.raises(ChannelError):
        decode(data)


@pytest.mark.parametrize("message, data", [
    (CheckRequest, {"exercise": "relu", "hidden": False, "handle": "0", "functions": 1, "verdict": "passed"}),
    (CheckRequest, {"exercise": "relu", "hidden": 0, "handle": "0", "functions": 1}),
    (CheckRequest, {"exercise": "relu", "hidden": False, "handle": "0", "functions": 99}),
    (CallAnswer, {"output": None, "changed": {}, "notices": [], "raised": None}),  # refused left out
    (CallAnswer, {"output": None, "changed": {"W": 1}, "notices": [], "raised": None, "refused": False}),
    (CallAnswer, {"output": None, "changed": {}, "notices": [], "raised": {"type": "E"}, "refused": False}),
    (CallAnswer, {"output": None, "changed": {}, "notices": [], "raised": None, "refused": "no"}),
])
def test_a_message_from_the_kernel_that_is_not_exactly_the_protocol_s_is_refused(message, data):
    with pytest.raises(ProtocolError):
        message.from_json(data)


def test_the_protocol_s_messages_come_back_as_they_went():
    request = CheckRequest("relu", True, "3", 1)
    assert CheckRequest.from_json(json.loads(json.dumps(request.to_json()))) == request
    answer = CallAnswer(encode(np.ones(2)), {"0": encode(np.zeros(1))}, ["UserWarning: x"], None, True)
    assert CallAnswer.from_json(json.loads(json.dumps(answer.to_json()))) == answer
    batch = CallBatch.from_text(CallBatch.text(1, "relu", [json.dumps(encode((np.ones(2),)))]))
    assert (batch.function, batch.exercise, len(batch.calls)) == (1, "relu", 1)


def test_the_grader_s_generators_and_test_functions_reach_the_kernel_as_themselves():
    rng = np.random.default_rng(5)
    rebuilt = decode(json.loads(json.dumps(encode(rng))), trusted_sender=True)
    assert rebuilt.random() == np.random.default_rng(5).random()
    case = EXERCISES["find_broken_gradient"].cases(np.random.default_rng(0), False)[0]
    colleague = decode(json.loads(json.dumps(encode(case[0]))), trusted_sender=True)
    assert colleague(*case[1:])[0] == case[0](*case[1:])[0]


def expected_checks(source):
    return [(call.exercise, call.hidden) for call in check_calls(source)]


def test_the_checks_a_test_cell_must_make_are_read_from_its_source():
    assert expected_checks(TEST_SOURCE) == [("relu", False), ("relu", True)]
    assert expected_checks("accuracy = check_classifier(train_classifier, predict)\n"
                           "check_classifier(train_classifier, predict, hidden=True)") == \
        [("digits_classifier", False), ("digits_classifier", True)]
    assert expected_checks('import mlpcore.grading as g\ng.check("relu", relu)') == [("relu", False)]
    assert expected_checks("print('no checks here')") == []


def test_every_course_test_cell_is_readable_and_named_by_its_check():
    # The exercise a cell is about comes from its check call only: 10-project's classifier_tests cell
    # is the digits_classifier exercise, in the verdict, the tables and the report alike.
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if is_test_cell(cell):
                assert check_calls(cell.source), f"{path.name}: {cell.metadata.nbgrader.grade_id} makes no check"
                assert exercise_of_cell(cell) == check_calls(cell.source)[0].exercise


def test_the_tables_name_a_cell_s_exercise_as_its_check_does():
    # Read from the grade id, 10-project's cell was "classifier" in exercises.csv and the report,
    # while its verdict said "digits_classifier".
    from mlpcore.autograde.outcome import unreadable

    release = nbformat.read(ROOT / "course" / "10-project" / "project.ipynb", as_version=4)
    outcome = unreadable("someone", "10-project", {"project": release}, "missing", "not submitted")
    exercises = [cell["exercise"] for cell in outcome["notebooks"]["project"]["cells"]]
    assert "digits_classifier" in exercises and "classifier" not in exercises


def test_the_cases_seed_is_secret_and_new_every_run():
    first, second = Seeds(), Seeds()
    assert first.secret != second.secret
    public = zlib.crc32(b"relu")
    assert public not in (first.for_check("relu", False)[0], second.for_check("relu", False)[0])


# ------------------------------------------------------------------ one cell, a kernel simulated here


TEST_CELL = {"nbgrader": {"grade": True, "solution": False, "locked": True, "grade_id": "relu_tests", "points": 2}}


def judged(monkeypatch, relu, ran=TEST_SOURCE, extra_outputs=(), answer=None, source=None):
    """Run code in a kernel simulated here, as the grading kernel would (check only hands the function
    over), then judge it as the test cell ``source`` (TEST_SOURCE unless given); ``ran`` is what the
    kernel really ran (``source`` unless given)."""
    source = TEST_SOURCE if source is None else source
    ran = source if ran is None else ran
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append(obj))
    monkeypatch.setenv(TRUSTED_ENV, "1")
    raised = []
    try:
        exec(ran, {"check": check, "relu": relu, "channel": channel, "mlpcore": mlpcore})
    except Exception as exc:  # as IPython records it: an error output
        raised.append(NotebookNode(output_type="error", ename=type(exc).__name__, evalue=str(exc), traceback=[]))
    outputs = [NotebookNode(output_type="display_data", data=data, metadata={}) for data in shown] + raised
    cell = NotebookNode(cell_type="code", source=source, metadata=copy.deepcopy(TEST_CELL),
                        outputs=outputs + list(extra_outputs))

    def call(handle, payload):
        shown.clear()
        channel.serve(handle, payload)
        return answer if answer is not None else shown[-1][RESULT_MIME]

    judge_cell(cell, call, Seeds())
    return cell


def errors(cell):
    return [out for out in cell.outputs if out.output_type == "error"]


def test_a_right_function_passes_both_checks(monkeypatch):
    cell = judged(monkeypatch, lambda Z: np.maximum(Z, 0))
    assert errors(cell) == [] and [v.outcome for v in verdicts(cell)] == ["passed", "passed"]
    assert "hidden cases match the reference" in "".join(out.text for out in cell.outputs if out.output_type == "stream")


def test_a_wrong_function_fails_with_the_named_mistake(monkeypatch):
    cell = judged(monkeypatch, lambda Z: np.minimum(Z, 0))
    assert errors(cell)[0].ename == "ExerciseFailed"
    [result] = verdicts(cell)
    assert result.outcome == "wrong" and "np.minimum" in result.mistake


@pytest.mark.parametrize("ran", [
    "pass  # check replaced by something that checks nothing",
    'check("relu", relu)  # the hidden check left out',
    TEST_SOURCE.replace('"relu"', '"sigmoid"'),  # another exercise's check
    TEST_SOURCE + '\ncheck("relu", relu)',  # one check too many
    'channel.request("relu", (relu, relu), False)\ncheck("relu", relu, hidden=True)',  # two functions for one
])
def test_requests_that_are_not_the_cell_s_checks_are_tampered(monkeypatch, ran):
    cell = judged(monkeypatch, lambda Z: np.maximum(Z, 0), ran=ran)
    assert errors(cell)[0].ename == "CheckTampered" and [v.outcome for v in verdicts(cell)] == ["tampered"]


def test_a_check_called_through_its_module_is_read_and_judged(monkeypatch):
    # Written as mlpcore.grading.check(...), the check was once not read at all: no expected check,
    # the request stripped, and the cell kept the kernel's clean run, full marks for a wrong relu.
    source = 'mlpcore.grading.check("relu", relu)'
    cell = judged(monkeypatch, lambda Z: np.minimum(Z, 0), ran=None, source=source)
    assert [v.outcome for v in verdicts(cell)] == ["wrong"] and errors(cell)[0].ename == "ExerciseFailed"


@pytest.mark.parametrize("source", [
    'name = "relu"\ncheck(name, relu)',  # the exercise not written as a literal
    'check("relu", relu, hidden=is_hidden)',  # hidden not a literal
    'check("rleu", relu)',  # no such exercise
    'assert relu(np.array([-1.0]))[0] == 0',  # a plain assert: the kernel would judge itself
])
def test_a_test_cell_whose_checks_cannot_be_read_scores_nothing(monkeypatch, source):
    cell = judged(monkeypatch, lambda Z: np.maximum(Z, 0), ran=None, source=source)
    assert [v.outcome for v in verdicts(cell)] == ["tampered"] and errors(cell)[0].ename == "CheckTampered"
    assert "the grader cannot read" in verdicts(cell)[0].message


def test_a_failure_of_the_grader_itself_costs_only_that_check(monkeypatch):
    import mlpcore.grading.engine

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(mlpcore.grading.engine, "run_check", broken)
    cell = judged(monkeypatch, lambda Z: np.maximum(Z, 0))
    result = verdicts(cell)[0]
    assert result.outcome == "error" and "the grader failed on this check (RuntimeError: a bug)" in result.message


def test_a_check_of_something_not_a_function_says_so_in_the_kernel(monkeypatch):
    cell = judged(monkeypatch, 42)
    [error] = errors(cell)
    assert error.ename == "ExerciseFailed" and "expected your function, but got int (42)" in error.evalue


def test_a_cell_without_checks_keeps_its_outputs(monkeypatch):
    cell = NotebookNode(cell_type="code", source="print(1)", metadata={}, outputs=[
        NotebookNode(output_type="stream", name="stdout", text="1\n")])
    judge_cell(cell, None, Seeds())
    assert cell.outputs[0].text == "1\n" and verdicts(cell) == []


def test_a_verdict_written_by_the_kernel_is_tampered(monkeypatch):
    forged = NotebookNode(output_type="display_data", metadata={},
                          data={VERDICT_MIME: {"exercise": "relu", "outcome": "passed", "message": "ok"}})
    cell = judged(monkeypatch, lambda Z: np.maximum(Z, 0), extra_outputs=[forged])
    assert [v.outcome for v in verdicts(cell)] == ["tampered"] and errors(cell)[0].ename == "CheckTampered"


def test_a_malformed_answer_from_the_kernel_is_tampered(monkeypatch):
    cell = judged(monkeypatch, lambda Z: np.maximum(Z, 0), answer={"output": {"t": "ndarray", "dtype": "|O"}})
    assert verdicts(cell)[-1].outcome == "tampered"


def test_a_lying_array_fails_on_its_type(monkeypatch):
    class Liar(np.ndarray):
        def __array_ufunc__(self, *args, **kwargs):
            return True

    cell = judged(monkeypatch, lambda Z: np.zeros_like(Z).view(Liar))
    [result] = verdicts(cell)
    assert result.outcome == "wrong" and "Liar" in result.message


def test_a_table_of_the_public_cases_passes_in_the_kernel_and_fails_here(monkeypatch, capsys):
    # The learner's check draws fixed cases; answers looked up from them need no relu at all.
    table = {}
    for hidden in (False, True):
        rng = np.random.default_rng(zlib.crc32(b"relu") + hidden)
        for (Z,) in EXERCISES["relu"].cases(rng, hidden):
            table[Z.tobytes()] = activations.relu(Z)

    def looked_up(Z):
        return table.get(Z.tobytes(), Z)

    check("relu", looked_up)
    check("relu", looked_up, hidden=True)  # both pass where the cases are public
    cell = judged(monkeypatch, looked_up)
    assert verdicts(cell)[0].outcome == "wrong"


def test_warnings_of_an_honest_function_become_a_note_not_a_zero(monkeypatch):
    import warnings

    def relu(Z):
        warnings.warn("np.row_stack is deprecated", DeprecationWarning)
        return np.maximum(Z, 0)

    cell = judged(monkeypatch, relu)
    assert errors(cell) == [] and "note: your function warned" in cell.outputs[0].text


# ------------------------------------------------------------------ a class of cheaters, graded for real

WRONG_RELU = "def relu(Z):\n    return Z\n"
CHEATS = {
    # Changing the judge in the kernel, in ways a scan of the source does not see.
    "globals": WRONG_RELU + "globals().update({'che' + 'ck': lambda *args, **kwargs: None})\n",
    "patched": WRONG_RELU + ("import mlpcore.grading as g, numpy\n"
                             "setattr(g, 'compare_' + 'output', lambda *a, **k: None)\n"
                             "numpy.isclose = lambda *a, **k: numpy.ones(numpy.shape(a[0]), bool)\n"
                             "numpy.allclose = lambda *a, **k: True\n"),
    "forger": WRONG_RELU + (
        "from IPython.display import display\n"
        "def _passing(name, fn, hidden=False):\n"
        "    display({'application/vnd.mlpcore.verdict+json': {'exercise': name, 'outcome': 'passed'}}, raw=True)\n"
        "globals().update({'che' + 'ck': _passing})\n"),
    "code": WRONG_RELU + "check.__code__ = (lambda *args, **kwargs: None).__code__\n",
    "exec": WRONG_RELU + "exec('che' + 'ck = lambda *args, **kwargs: None')\n",
    "transformer": WRONG_RELU + ("get_ipython().input_transformers_post.append(\n"
                                 "    lambda lines: [line.replace('check(', '(lambda *a, **k: None)(') for line in lines])\n"),
    "server": WRONG_RELU + ("import mlpcore.grading.channel as c\n"
                            "from IPython.display import display\n"
                            "c.serve = lambda handle, payload: display({c.RESULT_MIME: {'output': 'all good'}}, raw=True)\n"),
    # Answers that are not the work.
    "liar": "class Liar(np.ndarray):\n    def __array_ufunc__(self, *a, **k):\n        return True\n"
            "    def __eq__(self, other):\n        return True\n\n"
            "def relu(Z):\n    return np.zeros_like(Z).view(Liar)\n",
    "table": ("import zlib\nimport mlpcore.grading\n_table = {}\nfor _hidden in (0, 1):\n"
              "    _rng = np.random.default_rng(zlib.crc32(b'relu') + _hidden)\n"
              "    for (_Z,) in mlpcore.grading.EXERCISES['relu'].cases(_rng, bool(_hidden)):\n"
              "        _table[_Z.tobytes()] = np.maximum(_Z, 0) * 0 + mlpcore.activations.relu(_Z)\n"
              "def relu(Z):\n    return _table.get(Z.tobytes(), Z)\n"),
    # Reading the expected answer from the checker's frames.
    "frame": ("import sys\ndef relu(Z):\n    frame = sys._getframe(1)\n    while frame is not None:\n"
              "        if 'expected' in frame.f_locals:\n            return frame.f_locals['expected']\n"
              "        frame = frame.f_back\n    return Z\n"),
    "private": ("import importlib\n_h = importlib.import_module('mlpcore.grading.network_' + 'exercises')\n"
                "def relu(Z):\n    return _h._network(Z, None, {'W1': np.eye(Z.shape[1], dtype=Z.dtype), "
                "'b1': np.zeros(Z.shape[1], Z.dtype), 'W2': np.eye(Z.shape[1], dtype=Z.dtype), "
                "'b2': np.zeros(Z.shape[1], Z.dtype)}, 'relu', backward=False, softmax=False)\n"),
}
# What cannot be prevented (the reference is in the kernel's memory) is flagged for the instructor.
FLAGGED = {
    "guard": ("import sys\ndef relu(Z):\n    setattr(sys.modules['mlpcore.guard'], '_learner_' + 'depth', 0)\n"
              "    return mlpcore.activations.relu(Z)\n"),
}
# The same, from a helper beside the notebook (issue #20: the scan read only the cells).
FLAGGED["helper"] = "from helper import relu\n"
BESIDE = {"helper": {"helper.py": 'import mlpcore\n\n\ndef relu(Z):\n    setattr(mlpcore.guard, "_learner" + "_depth", 0)\n'
                                  "    return mlpcore.activations.relu(Z)\n"}}
# Hurting others: only inside bubblewrap's process namespace, where these reach nothing but the kernel
# itself (without it, a kernel running as root could kill the test run).
if sandbox.contained(sandbox.resolve("auto")):
    FLAGGED["killer"] = ("import os, signal\nos.kill(-1, signal.SIGKILL)  # every process it may signal\n"
                         "os.kill(os.getppid(), signal.SIGKILL)\n\ndef relu(Z):\n    return np.maximum(Z, 0)\n")
HONEST = {
    "honest": {},
    # A correct answer that warns (np.row_stack's DeprecationWarning, say): not a zero.
    "noisy": {"dense_forward": "import warnings\n\ndef dense_forward(X, W, b):\n"
                               "    warnings.warn('row_stack is deprecated', DeprecationWarning)\n    return X @ W + b\n"},
}


@pytest.fixture(scope="module")
def cheaters(tmp_path_factory):
    base = tmp_path_factory.mktemp("cheaters")
    release = nbformat.read(ROOT / "course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    answers = solution_answers(ROOT)
    for student, relu in {**CHEATS, **FLAGGED}.items():
        (base / "in" / student / ASSIGNMENT).mkdir(parents=True)
        nbformat.write(fill(release, {**answers, "relu": relu}), base / "in" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
        for name, text in BESIDE.get(student, {}).items():
            (base / "in" / student / ASSIGNMENT / name).write_text(text)
    for student, changes in HONEST.items():
        (base / "in" / student / ASSIGNMENT).mkdir(parents=True)
        nbformat.write(fill(release, {**answers, **changes}), base / "in" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    code = main(["grade", ASSIGNMENT, "--submissions", str(base / "in"), "--output", str(base / "out"), "--workers", "2",
                 "--cell-timeout", "60", "--no-progress", "--course-root", str(ROOT)])
    assert code == 0
    return {o["student_id"]: o for o in load_outcomes(base / "out", ASSIGNMENT)}


def relu_cell(outcome):
    return next(cell for cell in outcome["notebooks"][NOTEBOOK]["cells"] if cell["exercise"] == "relu")


@pytest.mark.parametrize("student", CHEATS)
def test_every_cheat_scores_zero_on_what_it_did_not_do(cheaters, student):
    outcome = cheaters[student]
    assert relu_cell(outcome)["score"] == 0, (student, relu_cell(outcome))


@pytest.mark.parametrize("student", ["globals", "forger", "server", "code", "exec", "transformer"])
def test_a_judge_changed_in_the_kernel_is_reported_as_tampered(cheaters, student):
    outcome = cheaters[student]
    assert outcome["status"] == "tampered", (student, outcome["status"], outcome["reasons"])
    assert any("relu_tests" in reason for reason in outcome["reasons"]), outcome["reasons"]


def test_a_defeated_guard_is_flagged_with_its_line(cheaters):
    outcome = cheaters["guard"]
    assert outcome["status"] == "suspicious" and any("mlpcore.guard" in r for r in outcome["reasons"]), outcome["reasons"]


def test_a_helper_file_that_defeats_the_guard_is_flagged_with_its_file_and_line(cheaters):
    outcome = cheaters["helper"]
    assert outcome["status"] == "suspicious", (outcome["status"], outcome["reasons"])
    assert any("helper.py line 5: setattr(mlpcore.guard" in r for r in outcome["reasons"]), outcome["reasons"]


def test_the_run_completes_with_a_row_for_everyone(cheaters):
    # Including the killer, whose signals reach nothing outside its own sandbox.
    assert set(cheaters) == set(CHEATS) | set(FLAGGED) | set(HONEST)


@pytest.mark.parametrize("student", HONEST)
def test_honest_students_in_the_same_run_get_every_point(cheaters, student):
    outcome = cheaters[student]
    assert (outcome["status"], outcome["score"]) == ("ok", outcome["max_score"]), outcome["reasons"]
    assert all(cell["outcome"] == "passed" for cell in outcome["notebooks"][NOTEBOOK]["cells"])


# ------------------------------------------------------------------ every exercise of the course, through the channel

ASSIGNMENTS = [path.name for path in sorted((ROOT / "solutions").iterdir()) if path.is_dir()]
# 10-project's classifier cell, answered without learning (issue 20): the network is initialized and never
# trained, and predict reads every digit from the labelled digits that ship in the package.
_UNTRAINED = """def train_with_history(X, y, seed, X_val=None, y_val=None):
    params = init_params([X.shape[1], *HIDDEN_SIZES, N_CLASSES], np.random.default_rng(seed), X.dtype)
    history = {"loss": [2.3] * EPOCHS, "val_accuracy": [] if X_val is None else [0.1] * EPOCHS}
    return params, history


def train_classifier(X, y, seed):
    return train_with_history(X, y, seed)[0]

"""
_SHIPPED = "_shipped_X, _shipped_y = mlpcore.data.load_digits()\n"
PROJECT_CHEATS = {
    # A table of the shipped rows: 100 % of the digits as they ship, 10 % of them perturbed.
    "lookup": _UNTRAINED + _SHIPPED + ("_table = {row.tobytes(): int(label)\n"
                                       "          for row, label in zip(_shipped_X, _shipped_y)}\n\n\n"
                                       "def predict(params, X):\n"
                                       "    return np.array([_table.get(row.tobytes(), 0) for row in X])\n"),
    # The nearest shipped digit: reads the perturbed digits too, but not from params.
    "nearest": _UNTRAINED + _SHIPPED + ("\n\ndef predict(params, X):\n"
                                        "    distances = -2 * X @ _shipped_X.T + (_shipped_X ** 2).sum(axis=1)\n"
                                        "    return _shipped_y[np.argmin(distances, axis=1)]\n"),
}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_is_judged_by_the_grader_full_for_the_solution_zero_untouched(assignment, tmp_path):
    # The worker judges every test cell here: the solution's functions run in the kernel, their outputs
    # (arrays, optimizers' parameters, generators' states, the project's model) cross the channel.
    shutil.copytree(ROOT / "course" / assignment, tmp_path / "in" / "untouched" / assignment)
    cheats = PROJECT_CHEATS if assignment == "10-project" else {}
    for released in (ROOT / "course" / assignment).glob("*.ipynb"):
        answers = solution_answers(ROOT, assignment, released.stem)
        for student, classifier in {"perfect": None, **cheats}.items():
            (tmp_path / "in" / student / assignment).mkdir(parents=True, exist_ok=True)
            own = {"classifier": classifier} if classifier else {}
            filled = fill(nbformat.read(released, as_version=4), {**answers, **own})
            nbformat.write(filled, tmp_path / "in" / student / assignment / released.name)
    code = main(["grade", assignment, "--submissions", str(tmp_path / "in"), "--output", str(tmp_path / "out"),
                 "--workers", "2", "--no-progress", "--course-root", str(ROOT)])
    assert code == 0
    outcomes = {o["student_id"]: o for o in load_outcomes(tmp_path / "out", assignment)}
    perfect, untouched = outcomes["perfect"], outcomes["untouched"]
    lost = [(cell["exercise"], cell["message"]) for notebook in perfect["notebooks"].values()
            for cell in notebook["cells"] if cell["outcome"] != "passed"]
    assert (perfect["status"], perfect["score"], lost) == ("ok", perfect["max_score"], []), perfect["reasons"]
    assert untouched["score"] == 0 and untouched["status"] == "ok", untouched["reasons"]
    assert all(cell["outcome"] == "unanswered" for notebook in untouched["notebooks"].values()
               for cell in notebook["cells"]), untouched["notebooks"]
    for student in cheats:  # beside the perfect student: every point but the classifier's 5
        outcome = outcomes[student]
        classifier = next(cell for notebook in outcome["notebooks"].values() for cell in notebook["cells"]
                          if cell["grade_id"] == "classifier_tests")
        assert (classifier["outcome"], classifier["score"]) == ("failed", 0), (student, classifier)
        assert (outcome["status"], outcome["score"]) == ("ok", perfect["max_score"] - classifier["max_score"]), outcome

