"""The submission bank's numbers per notebook: correct variants accepted, wrong ones rejected, and
wrong ones whose feedback names the mistake the bank expects.

    .venv/bin/python tests/bank_table.py            # every exercise; add --classifier for 10's pair

``tests/test_bank_table.py`` asserts the course's targets on these numbers.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from mlpcore.grading import ExerciseFailed, check  # noqa: E402
from mlpcore.grading.project import classifier_verdict  # noqa: E402

SOLUTIONS = Path(__file__).parent.parent / "solutions"


def notebook_of_each_exercise() -> dict[str, str]:
    """Exercise name -> the first notebook whose check cell checks it (``03-losses``)."""
    first = {}
    for path in sorted(SOLUTIONS.glob("*/*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            source = "".join(cell["source"])
            for name in _checked_names(source):
                first.setdefault(name, path.parent.name)
    return first


def _checked_names(source: str) -> list[str]:
    import re

    return re.findall(r'check\(\s*"(\w+)"', source)


def verdict(name, fn, hidden=False) -> tuple[bool, str]:
    """``(passed, the feedback's text)`` of one check, its output silenced."""
    import contextlib
    import io

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            check(name, fn, hidden=hidden)
    except ExerciseFailed as failure:
        return False, str(failure)
    return True, ""


def classifier_outcome(functions) -> tuple[bool, str]:
    try:
        classifier_verdict(*functions)
    except ExerciseFailed as failure:
        return False, str(failure)
    return True, ""


def bank_numbers(with_classifier: bool = False) -> dict[str, dict[str, list]]:
    """Per notebook: ``correct`` [accepted, total], ``wrong`` [rejected, total], ``named`` [named, total],
    and ``misses``, the wrong variants not rejected or not named."""
    from submission_bank import CORRECT, MISTAKES

    notebooks = notebook_of_each_exercise()
    table = defaultdict(lambda: {"correct": [0, 0], "wrong": [0, 0], "named": [0, 0], "misses": []})
    for name, fns in CORRECT.items():
        row = table[notebooks[name]]
        for fn in fns:
            row["correct"][1] += 1
            row["correct"][0] += verdict(name, fn)[0] and verdict(name, fn, hidden=True)[0]
    for name, items in MISTAKES.items():
        row = table[notebooks[name]]
        for fn, words in items:
            passed, text = verdict(name, fn)
            _count(row, name, getattr(fn, "__name__", "lambda"), passed, words in text)
    if with_classifier:
        from test_grading import CLASSIFIER_CORRECT, CLASSIFIER_MISTAKES

        row = table["10-project"]
        for functions in CLASSIFIER_CORRECT:
            row["correct"][1] += 1
            row["correct"][0] += classifier_outcome(functions)[0]
        for functions, words in CLASSIFIER_MISTAKES:
            passed, text = classifier_outcome(functions)
            _count(row, "digits_classifier", functions[0].__name__, passed, words in text)
    return dict(sorted(table.items()))


def _count(row, exercise, label, passed, named) -> None:
    row["wrong"][1] += 1
    row["named"][1] += 1
    row["wrong"][0] += not passed
    row["named"][0] += (not passed) and named
    if passed or not named:
        row["misses"].append(f"{exercise}/{label}: {'passes' if passed else 'not named'}")


def main() -> None:
    table = bank_numbers("--classifier" in sys.argv)
    print(f"{'notebook':20} {'correct accepted':>17} {'wrong rejected':>15} {'named right':>12}")
    for notebook, row in table.items():
        cells = [f"{row[key][0]}/{row[key][1]}" for key in ("correct", "wrong", "named")]
        print(f"{notebook:20} {cells[0]:>17} {cells[1]:>15} {cells[2]:>12}")
    for notebook, row in table.items():
        for miss in row["misses"]:
            print(f"  {notebook}: {miss}")


if __name__ == "__main__":
    main()
