"""mlpcore grade on a class with every kind of bad submission: each gets the right status and score,
and the rest of the class is graded as usual.

One class is graded once per test session (about a minute on two cores): the embedded sample class
of ``make demo`` plus the bad submissions it does not have. The tests then read its outcomes,
tables and gradebook.
"""

import csv
import copy
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mlpcore.autograde import gradebook
from mlpcore.autograde.grade import grade_class, load_outcomes
from mlpcore.autograde.sample_class import ASSIGNMENT, NOTEBOOK, expected_statuses, fill, solution_answers, write_sample_class
from mlpcore.cli import main

# One worker grades the class and runs every test of this file (make test uses --dist loadgroup).
pytestmark = pytest.mark.xdist_group("autograde")

ROOT = Path(__file__).resolve().parent.parent
FULL = 9.0  # points of notebook 02-forward
POINTS = {"dense_forward": 2, "relu": 1, "sigmoid": 1, "tanh": 1, "softmax": 2, "forward_pass": 2}


def release_notebook():
    return nbformat.read(ROOT / "course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)


def write(submissions: Path, student: str, text: str, name: str = NOTEBOOK) -> None:
    folder = submissions / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.ipynb").write_text(text, encoding="utf-8")


def solved_with(**answers):
    return nbformat.writes(fill(release_notebook(), {**solution_answers(ROOT), **answers}))


def add_bad_submissions(submissions: Path, escape: Path) -> None:
    """The kinds of bad submission that the sample class lacks."""
    write(submissions, "nia", json.dumps({"name": "not a notebook", "cells": "none"}))  # JSON, not a notebook
    (submissions / "mo" / ASSIGNMENT).mkdir(parents=True)  # submitted an empty folder
    (submissions / "una").mkdir()  # a student folder without this assignment
    release = release_notebook()
    solved = fill(release, solution_answers(ROOT))
    # Deleted: the relu test cell and the sigmoid answer cell.
    deleted = nbformat.from_dict(solved)
    deleted.cells = [c for c in deleted.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in ("relu_tests", "sigmoid")]
    write(submissions, "del", nbformat.writes(deleted))
    # Reordered: the forward_pass exercise moved to the top of the notebook.
    reordered = nbformat.from_dict(solved)
    moving = [c for c in reordered.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("forward_pass")]
    reordered.cells = moving + [c for c in reordered.cells if c not in moving]
    write(submissions, "ord", nbformat.writes(reordered))
    write(submissions, "oz", solved_with(tanh="import os\n\nos._exit(1)\n"))  # the kernel exits mid-notebook
    hungry = solution_answers(ROOT)["relu"] + "big = np.ones((40_000, 40_000))  # 12.8 GB\n"
    write(submissions, "max", solved_with(relu=hungry))  # out of memory, after defining relu
    loud = solution_answers(ROOT)["sigmoid"] + 'print("x" * 5_000_000)\n'
    write(submissions, "pat", solved_with(sigmoid=loud))  # megabytes of output
    escaping = (solution_answers(ROOT)["relu"] + "open('notes.txt', 'w').write('in its own folder: fine')\n"
                + f"open({str(escape)!r}, 'w').write('escaped')\n")
    write(submissions, "wil", solved_with(relu=escaping))  # writes outside its folder
    # SQLite writes through C: the fence has to watch sqlite3.connect, or the gradebook could be edited.
    database = escape.with_name("escape.db")
    writes_sqlite = solution_answers(ROOT)["relu"] + f"import sqlite3\nsqlite3.connect({str(database)!r}).execute('create table t (x)')\n"
    write(submissions, "sql", solved_with(relu=writes_sqlite))
    # One line that would pass every later test: check replaced by a function that checks nothing.
    silenced = solution_answers(ROOT)["dense_forward"] + "check = lambda *args, **kwargs: None\n"
    write(submissions, "chk", solved_with(dense_forward=silenced, relu="def relu(Z):\n    return Z\n"))
    # Jupyter keeps nbgrader's metadata on a copied cell; an added cell may carry an id of its own.
    copied = fill(release, solution_answers(ROOT))
    relu_tests = next(c for c in copied.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "relu_tests")
    bonus = nbformat.v4.new_code_cell("print('my own test')", metadata={"nbgrader": {"grade_id": "bonus", "grade": True,
                                                                                       "points": 5, "solution": False}})
    pasted = copy.deepcopy(relu_tests)
    pasted["id"] = "pasted"  # Jupyter gives a pasted cell an id of its own, and keeps the rest
    copied.cells += [pasted, bonus]
    write(submissions, "dup", nbformat.writes(copied))
    # Unpacked from a zip into a folder of its own; and a right notebook beside an old copy deeper down.
    nested = submissions / "zip" / ASSIGNMENT / "my-work"
    nested.mkdir(parents=True)
    (nested / f"{NOTEBOOK}.ipynb").write_text(solved_with(), encoding="utf-8")
    write(submissions, "two", solved_with())
    write(submissions, "x:y[1]", solved_with())  # ":" splits the kernel's folder lists, "[" is a glob to nbgrader
    # A display's update replaces its data without going through the output limit's usual path.
    updated = solution_answers(ROOT)["sigmoid"] + ("from IPython.display import display\n"
                                                  "display('small', display_id=True).update('y' * 5_000_000)\n")
    write(submissions, "upd", solved_with(sigmoid=updated))
    # Reaching into the grader: flagged for the instructor, whatever it scores.
    write(submissions, "spy", solved_with(relu=solution_answers(ROOT)["relu"] + "import sys\nframe = sys._getframe(0)\n"))
    (submissions / "two" / ASSIGNMENT / "zzz").mkdir()
    (submissions / "two" / ASSIGNMENT / "zzz" / f"{NOTEBOOK}.ipynb").write_text(nbformat.writes(release), encoding="utf-8")


EXPECTED = {
    **expected_statuses(),
    "nia": "invalid", "mo": "missing", "una": "missing", "del": "restructured", "ord": "restructured",
    "oz": "crashed", "max": "crashed", "pat": "output_truncated", "wil": "wrote_outside",
    "sql": "wrote_outside", "chk": "tampered", "dup": "restructured", "zip": "renamed", "two": "ok", "x:y[1]": "ok",
    "upd": "output_truncated", "spy": "suspicious",
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    submissions, output = base / "submitted", base / "grading"
    write_sample_class(ROOT, submissions)
    add_bad_submissions(submissions, base / "escape.txt")
    code = main(["grade", ASSIGNMENT, "--submissions", str(submissions), "--output", str(output), "--workers", "2",
                 "--cell-timeout", "8", "--timeout", "120", "--no-progress", "--course-root", str(ROOT)])
    assert code == 0
    outcomes = {o["student_id"]: o for o in load_outcomes(output, ASSIGNMENT)}
    return {"base": base, "submissions": submissions, "output": output, "outcomes": outcomes}


def cells(outcome):
    return {cell["exercise"]: cell for cell in outcome["notebooks"][NOTEBOOK]["cells"]}


def test_every_submission_gets_its_status(graded):
    statuses = {student: outcome["status"] for student, outcome in graded["outcomes"].items()}
    assert statuses == EXPECTED


def test_good_blank_partial_and_mistaken_submissions_score_as_nbgrader_would(graded):
    scores = {s: o["score"] for s, o in graded["outcomes"].items()}
    assert scores["ada"] == FULL and scores["kai"] == FULL  # kai's renamed notebook is graded as forward.ipynb
    assert scores["ben"] == 0 and {c["outcome"] for c in cells(graded["outcomes"]["ben"]).values()} == {"unanswered"}
    assert scores["cleo"] == POINTS["dense_forward"] + POINTS["relu"] + POINTS["sigmoid"]
    dev = cells(graded["outcomes"]["dev"])
    assert "bias" in dev["dense_forward"]["mistake"] and "max shift" in dev["softmax"]["mistake"]
    eve = cells(graded["outcomes"]["eve"])
    assert "np.minimum" in eve["relu"]["mistake"] and "sigmoid" in eve["tanh"]["mistake"]
    assert "axis" in eve["softmax"]["mistake"]


def test_unreadable_and_missing_notebooks_score_zero_with_the_reason(graded):
    outcomes = graded["outcomes"]
    assert "not valid JSON" in outcomes["fay"]["reasons"][0]
    assert "not a Jupyter notebook (expected 'cells' and 'nbformat', found an object" in outcomes["nia"]["reasons"][0]
    assert "no forward.ipynb was submitted" in outcomes["mo"]["reasons"][0]
    for student in ("fay", "nia", "mo", "una"):
        assert outcomes[student]["score"] == 0 and outcomes[student]["max_score"] == FULL


def test_a_loop_times_out_and_the_other_exercises_are_still_scored(graded):
    gus = cells(graded["outcomes"]["gus"])
    assert gus["tanh"]["outcome"] == "timeout" and gus["tanh"]["score"] == 0
    # forward_pass calls tanh for one of its cases: it times out too; the rest pass.
    assert graded["outcomes"]["gus"]["score"] == FULL - POINTS["tanh"] - POINTS["forward_pass"]


def test_a_dead_kernel_costs_only_the_cells_that_needed_it(graded):
    ivy, oz = graded["outcomes"]["ivy"], graded["outcomes"]["oz"]
    assert "signal 11" in " ".join(ivy["reasons"])  # the segfault is named
    assert "exited with status 1" in " ".join(oz["reasons"])
    # sigmoid (ivy) and tanh (oz) were never defined; forward_pass uses both. The rest ran in a fresh kernel.
    assert ivy["score"] == FULL - POINTS["sigmoid"] - POINTS["forward_pass"]
    assert oz["score"] == FULL - POINTS["tanh"] - POINTS["forward_pass"]


def test_memory_exhaustion_is_caught_by_the_kernel_limit(graded):
    outcome = graded["outcomes"]["max"]
    assert "ran out of memory" in " ".join(outcome["reasons"])
    assert outcome["score"] == FULL  # relu was defined before the allocation failed


def test_megabytes_of_output_are_cut_and_the_notebook_graded(graded):
    assert graded["outcomes"]["pat"]["score"] == FULL
    autograded = graded["output"] / "autograded" / "pat" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    assert autograded.stat().st_size < 2_000_000


def test_an_edited_test_cell_is_graded_with_the_original(graded):
    jon = graded["outcomes"]["jon"]
    assert "softmax_tests was edited" in jon["reasons"][0]
    assert cells(jon)["softmax"]["score"] == 0 and "max shift" in cells(jon)["softmax"]["mistake"]


def test_deleted_and_reordered_cells_are_restored(graded):
    deleted, reordered = graded["outcomes"]["del"], graded["outcomes"]["ord"]
    assert any("sigmoid" in reason for reason in deleted["reasons"])
    assert any("relu_tests" in reason for reason in deleted["reasons"])
    # The restored relu test passes (relu was answered); the deleted sigmoid answer scores 0, as does
    # forward_pass, which needs sigmoid for one case.
    assert deleted["score"] == FULL - POINTS["sigmoid"] - POINTS["forward_pass"]
    assert reordered["score"] == FULL and "order" in reordered["reasons"][0]


def test_calling_the_reference_is_reported(graded):
    hal = graded["outcomes"]["hal"]
    assert cells(hal)["softmax"]["outcome"] == "reference_used" and cells(hal)["softmax"]["score"] == 0


def test_reaching_into_the_grader_is_flagged_with_the_line(graded):
    spy = graded["outcomes"]["spy"]
    assert spy["score"] == FULL  # flagged for the instructor to judge, not scored by the flag
    assert any("frame = sys._getframe(0)" in reason and "call frames" in reason for reason in spy["reasons"]), spy["reasons"]


def test_writes_outside_the_folder_are_refused_and_reported(graded):
    assert not (graded["base"] / "escape.txt").exists()
    # Writing in its own (working) folder is fine, and stays there: nothing a kernel writes comes back.
    assert not (graded["output"] / "autograded" / "wil" / ASSIGNMENT / "notes.txt").exists()
    wil = graded["outcomes"]["wil"]
    assert "escape.txt" in " ".join(wil["reasons"]) and "notes.txt" not in " ".join(wil["reasons"])
    # The refused write raised PermissionError in the relu cell, after relu was defined.
    assert wil["score"] == FULL


def test_a_sqlite_write_outside_the_folder_is_refused(graded):
    assert not (graded["base"] / "escape.db").exists()
    assert "escape.db" in " ".join(graded["outcomes"]["sql"]["reasons"]) and graded["outcomes"]["sql"]["score"] == FULL


def test_rebinding_check_is_undone_before_grading(graded):
    chk = graded["outcomes"]["chk"]
    assert "cell dense_forward rebinds check" in " ".join(chk["reasons"])
    # relu returns Z unchanged: with check silenced it would have passed; graded honestly, it fails
    assert cells(chk)["relu"]["score"] == 0 and chk["score"] == FULL - POINTS["relu"] - POINTS["forward_pass"]


def test_copied_and_unknown_nbgrader_cells_do_not_sink_the_notebook(graded):
    dup = graded["outcomes"]["dup"]
    assert dup["score"] == FULL and "relu_tests, bonus" in " ".join(dup["reasons"])


def test_the_notebook_is_found_in_a_subfolder_and_the_top_one_wins(graded):
    assert graded["outcomes"]["zip"]["score"] == FULL
    assert "in a subfolder, as my-work/forward.ipynb" in graded["outcomes"]["zip"]["reasons"][0]
    assert graded["outcomes"]["two"]["score"] == FULL  # not the blank copy in zzz/


def test_an_updated_display_is_held_to_the_output_limit(graded):
    assert graded["outcomes"]["upd"]["score"] == FULL
    assert (graded["output"] / "autograded" / "upd" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").stat().st_size < 2_000_000


def test_the_submissions_files_come_back_within_a_budget_and_the_kernels_never(tmp_path, monkeypatch):
    from mlpcore.autograde import worker

    monkeypatch.setattr(worker, "MAX_AUTOGRADED_BYTES", 100_000)
    writes = solution_answers(ROOT)["relu"] + "open('junk-written.bin', 'wb').write(bytes(60_000))\n"
    write(tmp_path, "ann", solved_with(relu=writes))
    folder = tmp_path / "ann" / ASSIGNMENT
    for i in range(2):
        (folder / f"data{i}.bin").write_bytes(bytes(60_000))
    template, release = gradebook.template(ROOT, ASSIGNMENT)
    job = worker.make_job("ann", ASSIGNMENT, tmp_path / "ann" / ASSIGNMENT, release, {}, template, {})
    result = worker.run_job(job)
    assert result["outcome"]["score"] == FULL
    data = [name for name in result["autograded"] if "data" in name]
    assert f"ann/{ASSIGNMENT}/{NOTEBOOK}.ipynb" in result["autograded"] and len(data) == 1  # 60 kB fits, 120 kB not
    assert not [name for name in result["autograded"] if "junk-written" in name]


def test_a_student_id_with_colon_and_bracket_is_graded(graded):
    assert graded["outcomes"]["x:y[1]"]["score"] == FULL
    assert (graded["output"] / "autograded" / "x:y[1]" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").is_file()


def test_tables_and_gradebook_agree_with_the_outcomes(graded):
    output, outcomes = graded["output"], graded["outcomes"]
    with open(output / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(EXPECTED)
    for student, row in rows.items():
        assert float(row["score"]) == outcomes[student]["score"] and row["status"] == outcomes[student]["status"]
        assert float(row["max_score"]) == FULL and row["assignment"] == ASSIGNMENT
    with open(output / "exercises.csv", newline="") as handle:
        exercise_rows = list(csv.DictReader(handle))
    assert len(exercise_rows) == len(EXPECTED) * len(POINTS)
    per_cell = gradebook.scores_per_cell(gradebook.db_url(output), ASSIGNMENT)
    for student, outcome in outcomes.items():
        total = sum(score for (who, _, _), score in per_cell.items() if who == student)
        assert total == outcome["score"], student
    with sqlite3.connect(output / "gradebook.db") as db:
        assert db.execute("select count(*) from submitted_assignment").fetchone()[0] == len(EXPECTED)


def test_nbgrader_export_reads_the_gradebook(graded):
    """nbgrader's own export, run in the grading folder, sees every student's score."""
    output, outcomes = graded["output"], graded["outcomes"]
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run([str(bin_dir / "nbgrader"), "export"], cwd=output, env=env, check=True, capture_output=True)
    with open(output / "nbgrader-export.csv", newline="") as handle:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert exported == {student: outcome["score"] for student, outcome in outcomes.items()}


def test_rerun_is_idempotent_and_a_new_submission_regrades_only_its_student(graded, capsys):
    submissions, output = graded["submissions"], graded["output"]
    settings = {"cell_timeout": 8, "notebook_timeout": 120.0}
    shutil.rmtree(output / "feedback" / "ada")  # as if a run had stopped before writing her pages
    again = grade_class(ROOT, ASSIGNMENT, submissions, output, workers=2, settings=settings, progress=False)
    assert again["graded"] == []
    assert (output / "feedback" / "ada" / ASSIGNMENT / f"{NOTEBOOK}.html").is_file()
    write(submissions, "ben", solved_with())  # ben hands in a finished notebook
    after = grade_class(ROOT, ASSIGNMENT, submissions, output, workers=2, settings=settings, progress=True)
    assert after["graded"] == ["ben"]
    assert {o["student_id"]: o["score"] for o in after["outcomes"]}["ben"] == FULL
    per_cell = gradebook.scores_per_cell(gradebook.db_url(output), ASSIGNMENT)
    assert sum(score for (who, _, _), score in per_cell.items() if who == "ben") == FULL
    err = capsys.readouterr().err
    assert "grading 1 of" in err and "100%|" in err  # the note, and the progress bar at its end


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's own autograde, as in test_course
def test_gradebook_equals_sequential_nbgrader_autograde(graded, tmp_path, monkeypatch):
    """The same submissions through plain ``nbgrader autograde``, one after another: same score in every cell."""
    from benchmarks.grading import nbgrader_sequential

    monkeypatch.delenv("MPLBACKEND", raising=False)
    students = ["ada", "cleo", "dev", "hal", "jon"]  # complete, partial, mistakes, reference caller, edited test
    url = nbgrader_sequential(ROOT, ASSIGNMENT, graded["submissions"], students, tmp_path)
    plain = gradebook.scores_per_cell(url, ASSIGNMENT)
    ours = gradebook.scores_per_cell(gradebook.db_url(graded["output"]), ASSIGNMENT)
    assert len(plain) == len(students) * len(POINTS)
    assert plain == {key: score for key, score in ours.items() if key[0] in students}


def test_grading_on_a_dask_cluster_gives_the_same_outcomes(graded, tmp_path):
    distributed = pytest.importorskip("distributed")
    students = tmp_path / "submitted"
    for student in ("ada", "fay"):
        shutil.copytree(graded["submissions"] / student, students / student)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        code = main(["grade", ASSIGNMENT, "--submissions", str(students), "--output", str(tmp_path / "out"),
                     "--scheduler", cluster.scheduler_address, "--no-progress", "--no-feedback",
                     "--course-root", str(ROOT)])
    assert code == 0
    remote = {o["student_id"]: o for o in load_outcomes(tmp_path / "out", ASSIGNMENT)}
    for student in ("ada", "fay"):
        assert remote[student]["status"] == graded["outcomes"][student]["status"]
        assert remote[student]["score"] == graded["outcomes"][student]["score"]


def test_feedback_and_report_commands_rewrite_their_pages(graded, capsys):
    output = graded["output"]
    report = output / f"report-{ASSIGNMENT}.html"
    report.unlink()
    assert main(["report", ASSIGNMENT, "--output", str(output), "--course-root", str(ROOT)]) == 0
    assert "fay" in report.read_text()  # fay's broken notebook needs attention
    assert main(["feedback", ASSIGNMENT, "--students", "dev", "--output", str(output), "--course-root", str(ROOT)]) == 0
    page = (output / "feedback" / "dev" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    assert "forgot to add the bias" in page and "hidden=True" not in page
    assert "wrote 1 feedback pages" in capsys.readouterr().out


def test_course_commands_reject_bad_input_clearly(tmp_path, capsys):
    assert main(["grade", "99-nothing", "--submissions", str(tmp_path), "--output", str(tmp_path / "out"),
                 "--course-root", str(ROOT)]) == 2
    assert "there is no assignment '99-nothing'" in capsys.readouterr().err
    assert main(["grade", ASSIGNMENT, "--submissions", str(tmp_path / "nowhere"), "--output", str(tmp_path / "out"),
                 "--course-root", str(ROOT)]) == 2
    assert "no submissions folder" in capsys.readouterr().err
    for bad in ("inf", "nan", "0"):
        with pytest.raises(SystemExit):
            main(["grade", ASSIGNMENT, "--timeout", bad])
        assert "should be a positive number" in capsys.readouterr().err
    assert main(["report", ASSIGNMENT, "--output", str(tmp_path / "never"), "--course-root", str(ROOT)]) == 2
    assert "nothing graded for 02-forward" in capsys.readouterr().err and not (tmp_path / "never").exists()
    assert main(["release", "--course-root", str(tmp_path)]) == 2
    assert "is not a course root" in capsys.readouterr().err
    (tmp_path / "scratch.ipynb").write_text("print('not a notebook')")
    assert main(["check", str(tmp_path / "scratch.ipynb")]) == 2
    assert "is not valid JSON" in capsys.readouterr().err


def test_release_regenerates_the_committed_course(tmp_path, capsys):
    """mlpcore release in a copy of the course root gives the committed release, and nothing else."""
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, tmp_path / "solutions" / ASSIGNMENT)
    assert main(["release", ASSIGNMENT, "--course-root", str(tmp_path)]) == 0
    released = tmp_path / "course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    assert f"released {released}" in capsys.readouterr().out
    assert released.read_text() == (ROOT / "course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text()
    assert not (tmp_path / "grading" / "gradebook.db").exists()  # like --no-db: the gradebook is left alone
    assert main(["release", "99-nothing", "--course-root", str(tmp_path)]) == 2
    assert "no assignment '99-nothing'" in capsys.readouterr().err


def test_an_oversized_submission_is_invalid_and_not_copied(graded, monkeypatch):
    from mlpcore.autograde import worker

    monkeypatch.setattr(worker, "MAX_SUBMISSION_BYTES", 1000)  # the sample notebooks are ~40 kB
    template, release = gradebook.template(ROOT, ASSIGNMENT)
    job = worker.make_job("ada", ASSIGNMENT, graded["submissions"] / "ada" / ASSIGNMENT, release, {}, template, {})
    assert job.files == {} and "nothing over 0.000953674 MB is graded" in job.too_big
    result = worker.run_job(job)["outcome"]
    assert result["status"] == "invalid" and result["score"] == 0 and job.too_big in result["reasons"][0]


def test_an_unreadable_outcome_file_is_skipped_with_its_name(tmp_path, capsys):
    folder = tmp_path / "outcomes" / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / "ada.json").write_text(json.dumps({"student_id": "ada", "score": 9.0}))
    (folder / "zz.json").write_bytes(b"SQLite format 3\x00\xdf")  # not text: a student's trick, or a stray file
    (folder / "yy.json").write_text("[1, 2]")
    assert load_outcomes(tmp_path, ASSIGNMENT) == [{"student_id": "ada", "score": 9.0}]
    err = capsys.readouterr().err
    assert "zz.json: not a readable outcome" in err and "yy.json: not an outcome (a JSON list)" in err


def test_renamed_notebooks_of_a_two_notebook_assignment_are_told_apart(tmp_path):
    from mlpcore.autograde.submission import locate_notebooks

    def notebook(*ids):
        return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("", metadata={"nbgrader": {"grade_id": i}})
                                               for i in ids])

    # Every course notebook has a "setup" cell: it must not make each copy match both notebooks.
    release = {"forward": notebook("setup", "relu", "relu_tests"), "matrices": notebook("setup", "shapes")}
    for name, stem in (("forward", "forward (1)"), ("matrices", "matrices (1)")):
        nbformat.write(release[name], tmp_path / f"{stem}.ipynb")
    located = locate_notebooks(tmp_path, ["forward", "matrices"], release)
    assert {name: path.name for name, (path, _) in located.items()} == {"forward": "forward (1).ipynb",
                                                                          "matrices": "matrices (1).ipynb"}
    assert all("renamed" in problems.problems for _, problems in located.values())


@pytest.mark.parametrize("source,rebinds", [
    ("check = lambda *args, **kwargs: None", True),
    ("def check(*args):\n    pass", True),
    ("import mlpcore.grading as g\ng.check = print", True),
    ("globals()['check'] = print", True),
    ("setattr(grading, 'check_classifier', print)", True),
    ("from os import path as check", True),
    ("del check", True),
    ("def f():\n    global check\n    check = print", True),
    ("for check in range(3):\n    pass", True),
    ("from mlpcore.grading import check", False),  # the real one
    ("check('relu', relu)", False),
    ("def helper(x):\n    check = x > 0\n    return check", False),  # a local variable of a learner's own
    ("values = [check for check in range(3)]", False),
    ("class Notes:\n    check = 1", False),
])
def test_rebinding_check_is_recognised_and_a_local_name_is_left_alone(source, rebinds):
    from mlpcore.autograde.submission import remove_checker_rebinding
    from mlpcore.schema import NotebookProblems

    release = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("check('relu', relu)", metadata={
        "nbgrader": {"grade_id": "relu_tests", "locked": True, "grade": True, "points": 1, "solution": False}})])
    answer = nbformat.v4.new_code_cell("x = 1\n" + source + "\ny = 2")
    notebook = nbformat.v4.new_notebook(cells=[answer, copy.deepcopy(release.cells[0])])
    problems = NotebookProblems()
    cleaned = remove_checker_rebinding(notebook, release, problems)
    assert ("tampered" in problems.problems) == rebinds
    lines = cleaned.cells[0].source.splitlines()
    assert lines[0] == "x = 1" and lines[-1] == "y = 2"  # the rest of the cell stays, line for line
    assert (cleaned is notebook) == (not rebinds) and cleaned.cells[1].source == "check('relu', relu)"
