"""mlpcore similarity: copies found through what copying changes, independent answers left alone.

The classes are built from source strings (tests/similarity_submissions.py, tests/submission_bank.py),
fingerprinted against the real release notebooks; only the command-line tests write notebooks.
"""

import ast
import inspect
import itertools
import json
from pathlib import Path

import nbformat
import pytest

import more_submissions
import similarity_submissions as planted
from mlpcore.autograde.sample_class import fill, solution_answers
from mlpcore.autograde.similarity import collect, normalise, score, similarity_report
from mlpcore.cli import main

ROOT = Path(__file__).resolve().parent.parent
WHERE = {"backward_pass": ("04-backprop", "backprop"), "loss_and_grads": ("10-project", "project"),
         "Adam": ("07-training", "training"), "digits_classifier": ("10-project", "project")}


def _renamed(function, name: str) -> str:
    source = inspect.getsource(function)
    old = function.__name__
    return source.replace(f"def {old}(", f"def {name}(").replace(f"class {old}", f"class {name}")


def _helpers(*functions) -> str:
    return "\n\n".join(inspect.getsource(f) for f in functions)


# tests/submission_bank.py's correct solutions of these exercises (more_submissions.py holds them)
BANK = {
    "backward_pass": [_helpers(more_submissions._act, more_submissions._layers) + "\n\n"
                      + _renamed(more_submissions.backward_pass_plain, "backward_pass")],
    "loss_and_grads": [_helpers(more_submissions._layers) + "\n\n" + _renamed(f, "loss_and_grads")
                       for f in (more_submissions.loss_and_grads_loop, more_submissions.loss_and_grads_recursive)],
    "Adam": [_renamed(more_submissions.AdamPlain, "Adam")],
    "digits_classifier": [],
}


def _context(exercise):
    return collect.notebook_context(ROOT, *WHERE[exercise])


def _key(context, exercise):
    return next(e.key for e in context.exercises if e.name == exercise)


def _class(exercise):
    """``(answers, sources, how many are independent)``: the independent answers first, then the copies."""
    context = _context(exercise)
    key = _key(context, exercise)
    independent = planted.INDEPENDENT[exercise] + BANK[exercise]
    texts = [(f"independent {i}", text) for i, text in enumerate(independent)]
    texts += [(f"copy of independent {source}", text) for text, source in planted.COPIES[exercise]]
    answers = [context.answers(owner, python=text)[key] for owner, text in texts]
    return answers, collect.public_sources(ROOT, context)[key], len(independent)


def _tokens(text, kept=frozenset()):
    tree = ast.parse(text)
    nodes = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    helpers = normalise.one_line_helpers(nodes)
    tree.body = [node for node in tree.body if not (isinstance(node, ast.FunctionDef) and node.name in helpers)]
    return [token for token, _ in normalise.tokens(tree, kept, helpers)]


# ---------------------------------------------------------------------------------------- normalising

ORIGINAL = '''
def layer(X, W, b):
    """The docstring."""
    Z = np.dot(X, W) + b   # a comment
    total = np.sum(Z, axis=0)
    scaled = Z * 2
    return Z, total, scaled
'''


@pytest.mark.parametrize("changed", [
    # renamed, comments and docstring gone, reformatted
    "def f(inputs, weights, bias):\n    Z2 = np.dot(inputs,weights)+bias\n    s = np.sum(Z2, axis=0)\n"
    "    t = Z2 * 2\n    return (Z2, s, t)\n",
    # independent statements reordered, @ for np.dot, the method for np.sum, the operands of + and * swapped
    "def layer(X, W, b):\n    Z = b + X @ W\n    scaled = 2 * Z\n    total = Z.sum(axis=0)\n    return Z, total, scaled\n",
    # a one-line helper inlined the other way round
    "def mm(a, c):\n    return a.dot(c)\n\ndef layer(X, W, b):\n    Z = mm(X, W) + b\n    total, scaled = Z.sum(axis=0), Z * 2\n"
    "    return Z, total, scaled\n",
], ids=["renamed-reformatted", "reordered-respelt", "helper"])
def test_what_copying_changes_normalises_away(changed):
    """Do renaming, reformatting, comments, reordering, np.dot / @ and an inlined helper give the same tokens?"""
    assert _tokens(changed) == _tokens(ORIGINAL)


def test_dependent_statements_keep_their_order_and_other_code_differs():
    """Is the order of dependent statements kept, and does a different formula stay different?"""
    first = "def f(a):\n    b = a + 1\n    c = b * 2\n    return c\n"
    swapped = "def f(a):\n    c = b * 2\n    b = a + 1\n    return c\n"
    other = "def f(a):\n    b = a - 1\n    c = b * 2\n    return c\n"
    assert _tokens(first) != _tokens(swapped)
    assert _tokens(first) != _tokens(other)


def test_what_the_release_gave_is_not_an_answer():
    """Is an unanswered notebook (the release as it is) an empty answer, so that two of them are no pair?"""
    context = _context("backward_pass")
    release = json.loads((ROOT / "course/04-backprop/backprop.ipynb").read_text())
    answers = [context.answers(f"blank {i}", notebook=release)[_key(context, "backward_pass")] for i in range(2)]
    assert all(answer.empty for answer in answers)
    assert score.score_exercise(answers, []).pairs == []


# ---------------------------------------------------------------------------------------- scoring


def test_a_fingerprint_everyone_has_weighs_nothing():
    """Does a fingerprint in every answer weigh next to nothing, and one only a pair shares many bits, so that
    the pair sharing rare ones ranks first though another pair shares more fingerprints?"""
    common, rare = list(range(100, 130)), list(range(200, 215))
    answers = [score.Answer(f"s{i}", "x", "", {h: (1, 1) for h in common + [1000 + 10 * i, 1001 + 10 * i]})
               for i in range(40)]
    for answer in answers[:2]:
        answer.prints.update({h: (1, 1) for h in rare})
    weights = score.fingerprint_weights(answers)
    assert weights[common[0]] < 0.5 and weights[rare[0]] > 5
    result = score.score_exercise(answers, [])
    assert (result.pairs[0].a, result.pairs[0].b) == (0, 1) and result.pairs[0].flagged
    assert not any(pair.flagged for pair in result.pairs[1:])


@pytest.mark.parametrize("exercise", list(WHERE))
def test_planted_copies_rank_above_every_independent_pair(exercise):
    """Is every planted copy flagged and ranked above every pair of independently written answers?"""
    answers, sources, independent = _class(exercise)
    result = score.score_exercise(answers, sources)
    assert result.too_short is None
    copies = {(source, independent + i) for i, (_, source) in enumerate(planted.COPIES[exercise])}
    by_pair = {(pair.a, pair.b): pair for pair in result.pairs}
    weakest_copy = min(by_pair[copy].score for copy in copies)
    others = [pair for pair in result.pairs if (pair.a, pair.b) not in copies]
    assert all(by_pair[copy].flagged for copy in copies), [by_pair[copy] for copy in copies]
    assert not any(pair.flagged for pair in others), [pair for pair in others if pair.flagged]
    assert weakest_copy > max((pair.score for pair in others), default=0), (weakest_copy, others[:3])
    ranked = [(pair.a, pair.b) for pair in result.pairs]
    assert set(ranked[:len(copies)]) == copies
    assert result.clusters == sorted(sorted(copy) for copy in copies)


def test_false_alarms_on_independent_answers():
    """How many pairs of independently written answers cross the flag line? (none of these)"""
    crossed, pairs = 0, 0
    for exercise in WHERE:
        answers, sources, independent = _class(exercise)
        result = score.score_exercise(answers[:independent], sources)
        pairs += len(list(itertools.combinations(range(independent), 2)))
        crossed += sum(pair.flagged for pair in result.pairs)
    assert pairs >= 25
    assert crossed == 0


def test_no_false_alarm_among_the_submission_banks_correct_answers():
    """Across every exercise of tests/submission_bank.py with two or more correct functions (written
    independently, each its own way), does any pair cross the flag line?"""
    import textwrap

    from mlpcore import course

    import submission_bank

    contexts = {exercise.name: (context, exercise) for assignment in course.assignments(ROOT)
                for context in collect.assignment_contexts(ROOT, assignment) for exercise in context.exercises}
    pairs = crossed = 0
    for name, functions in submission_bank.CORRECT.items():
        distinct = list({id(f): f for f in functions if getattr(f, "__name__", "<lambda>") != "<lambda>"}.values())
        if name not in contexts or len(distinct) < 2:
            continue
        context, exercise = contexts[name]
        texts = [textwrap.dedent(inspect.getsource(f)).replace(f" {f.__name__}(", f" {name}(", 1)
                 .replace(f"class {f.__name__}", f"class {name}", 1) for f in distinct]
        answers = [context.answers(f"author {i}", python=text)[exercise.key] for i, text in enumerate(texts)]
        result = score.score_exercise(answers, collect.public_sources(ROOT, context)[exercise.key])
        pairs += len(answers) * (len(answers) - 1) // 2
        crossed += sum(pair.flagged for pair in result.pairs) + sum(match.flagged for match in result.matches)
    assert pairs >= 35 and crossed == 0


@pytest.mark.parametrize("exercise", ["Adam", "backward_pass"])
def test_copies_of_a_public_source_are_matched_to_it(exercise):
    """Is a renamed copy of mlpcore's Adam matched to the reference, and one of the course's solution to it?"""
    answers, sources, _ = _class(exercise)
    context = _context(exercise)
    copied = context.answers("copier", python=planted.REFERENCE_COPIES[exercise])[_key(context, exercise)]
    result = score.score_exercise(answers + [copied], sources)
    best = result.matches[0]
    assert (best.a, best.flagged) == (len(answers), True)
    expected = collect.REFERENCE if exercise == "Adam" else collect.COURSE_SOLUTION
    assert sources[best.b].owner == expected
    assert not any(match.flagged for match in result.matches if match.a != len(answers))


def test_a_one_line_exercise_is_too_short_to_tell():
    """Is relu (np.maximum(Z, 0)) said to be too short to tell, with nothing flagged, even for identical answers?"""
    context = collect.notebook_context(ROOT, "02-forward", "forward")
    key = _key(context, "relu")
    texts = ["def relu(Z):\n    return np.maximum(Z, 0)\n"] * 3 + ["def relu(Z):\n    return Z * (Z > 0)\n",
                                                                     "def relu(Z):\n    return np.where(Z > 0, Z, 0)\n"]
    answers = [context.answers(f"s{i}", python=text)[key] for i, text in enumerate(texts)]
    result = score.score_exercise(answers, collect.public_sources(ROOT, context)[key])
    assert result.too_short.startswith("too short to tell")
    assert not any(pair.flagged for pair in result.pairs) and not any(m.flagged for m in result.matches)


# ---------------------------------------------------------------------------------------- the command


def _graded_class(output: Path) -> None:
    """OUTPUT/autograded/<student>/07-training/training.ipynb: four independent Adams, a copy, a blank."""
    release = nbformat.read(ROOT / "course/07-training/training.ipynb", as_version=4)
    solved = solution_answers(ROOT, "07-training", "training")
    answers = {f"indie{i}": text for i, text in enumerate(planted.ADAM)}
    answers["copier"] = planted.COPIES["Adam"][0][0]
    for student, text in answers.items():
        notebook = fill(release, {**solved, "Adam": ""})
        notebook.cells.append(nbformat.v4.new_code_cell(text))  # a cell of the learner's own
        folder = output / "autograded" / student / "07-training"
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / "training.ipynb")
    (output / "autograded" / "blank" / "07-training").mkdir(parents=True)
    nbformat.write(release, output / "autograded" / "blank" / "07-training" / "training.ipynb")


def test_the_command_writes_the_report_for_the_instructor_only(tmp_path, capsys):
    """Does mlpcore similarity flag the copy, write a side-by-side page, and write only under similarity/?"""
    _graded_class(tmp_path)
    (tmp_path / "feedback" / "indie0" / "07-training").mkdir(parents=True)
    before = {path for path in tmp_path.rglob("*")}
    assert main(["similarity", "07-training", "--output", str(tmp_path), "--course-root", str(ROOT),
                 "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert "1 pair flagged, 1 cluster, 0 matches with a public source flagged" in printed
    written = {path for path in tmp_path.rglob("*")} - before
    folder = tmp_path / "similarity" / "07-training"
    assert written and all(path == tmp_path / "similarity" or path.is_relative_to(folder) for path in written)
    assert not any((tmp_path / "feedback").rglob("*.html"))
    index = (folder / "index.html").read_text()
    assert "indie0" in index and "copier" in index and "it changes no score" in index
    text = (folder / "pairs" / "training-Adam_tests-1.html").read_text()  # the first pair: the copy
    for seen in ("copier", "indie0", "flagged", '<div class="shared"'):
        assert seen in text
    summary = json.loads((folder / "summary.json").read_text())
    adam = next(e for e in summary["exercises"] if e["exercise"] == "Adam")
    assert (adam["flagged_pairs"], adam["clusters"]) == (1, 1)


def test_the_class_report_links_the_similarity_report(tmp_path):
    """Does the class report say how to compute it, and link it once it is there?"""
    from mlpcore.autograde.report import write_report

    _graded_class(tmp_path)
    assert "mlpcore similarity 07-training" in write_report([], tmp_path, "07-training")["html"].read_text()
    similarity_report(ROOT, tmp_path, "07-training", workers=1)
    report = write_report([], tmp_path, "07-training")["html"].read_text()
    assert 'href="similarity/07-training/index.html"' in report and "1 pair flagged" in report


@pytest.mark.parametrize("arguments, expected", [
    (["similarity", "99-nothing"], "there is no assignment '99-nothing'"),
    (["similarity", "07-training"], "no graded class of 07-training"),
    (["similarity", "07-training", "--known", "/nonexistent"], "--known /nonexistent: not a folder"),
])
def test_bad_input_gets_a_clear_error(tmp_path, capsys, arguments, expected):
    """Is an unknown assignment, an ungraded class or a missing folder an error that says what was expected?"""
    if "--known" in arguments:
        _graded_class(tmp_path)
    assert main(arguments + ["--output", str(tmp_path), "--course-root", str(ROOT)]) == 2
    error = capsys.readouterr().err
    assert expected in error
    if "no graded class" in expected:
        assert "autograded/<student>/07-training/<notebook>.ipynb" in error and "mlpcore grade" in error


def test_known_solutions_are_matched(tmp_path):
    """Is an answer copied from a file in --known matched to that file by name?"""
    _graded_class(tmp_path)
    known = tmp_path / "known"
    known.mkdir()
    (known / "last_year.py").write_text(planted.ADAM[1])
    summary = similarity_report(ROOT, tmp_path, "07-training", known=known, workers=1)
    adam = next(e for e in summary["exercises"] if e["exercise"] == "Adam")
    assert "last_year.py" in adam["sources"] and adam["flagged_source_matches"] == 1


def test_a_bank_of_independent_solutions_makes_what_they_share_weigh_less(tmp_path):
    """Does --bank lower the evidence of what many independent solutions also have?"""
    _graded_class(tmp_path)
    bank = tmp_path / "bank"
    bank.mkdir()
    for i in range(6):  # six independent authors who happened to write indie0's Adam
        (bank / f"author{i}.py").write_text(planted.ADAM[0])

    def copy_evidence(**options):
        summary = similarity_report(ROOT, tmp_path, "07-training", workers=1, **options)
        adam = next(e for e in summary["exercises"] if e["exercise"] == "Adam")
        return [pair["evidence"] for pair in adam["flagged"]]

    alone, banked = copy_evidence(), copy_evidence(bank=bank)
    assert len(alone) == 1
    assert not banked or banked[0] < alone[0] / 2  # no longer flagged, or with far less evidence


def test_code_made_to_blow_up_is_read_in_bounded_time(tmp_path):
    """Do nesting deeper than Python's recursion limit, a helper nested into itself and a huge block leave
    the run standing, quickly, with the other answers compared as usual?"""
    import time

    context = _context("Adam")
    key = _key(context, "Adam")
    deep = "class Adam:\n    def step(self, params, grads):\n        x = " + "-" * 5000 + "1\n"
    doubling = ("def twice(a):\n    return a + a\n\nclass Adam:\n    def step(self, params, grads):\n        x = "
                + "twice(" * 40 + "1" + ")" * 40 + "\n")
    long_block = "class Adam:\n    def step(self, params, grads):\n" + "".join(
        f"        v{i} = params['W1'] * {i}\n" for i in range(3000))
    started = time.perf_counter()
    answers = [context.answers(name, python=text)[key] for name, text in
               (("deep", deep), ("doubling", doubling), ("long", long_block))]
    answers += [context.answers(f"indie{i}", python=text)[key] for i, text in enumerate(planted.ADAM)]
    result = score.score_exercise(answers, [])
    assert time.perf_counter() - started < 20
    assert answers[0].empty and not answers[1].empty and not answers[2].empty
    assert not any(pair.flagged for pair in result.pairs)
