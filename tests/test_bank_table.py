"""The course's targets on the bank of learner variants, per notebook (issue 23): every correct
variant accepted, every wrong one rejected, and at least 90 % of the wrong ones named right."""

from bank_table import bank_numbers


def test_the_bank_meets_the_targets_in_every_notebook():
    table = bank_numbers()
    assert set(table) >= {"03-losses", "07-training", "10-project"}
    for notebook, row in table.items():
        accepted, correct = row["correct"]
        rejected, wrong = row["wrong"]
        named, _ = row["named"]
        assert accepted == correct, (notebook, row["misses"])
        assert rejected == wrong, (notebook, row["misses"])
        assert named >= 0.9 * wrong, (notebook, row["misses"])


def test_an_error_is_named_only_when_the_mistake_raises_the_same_one():
    """Is a NumPy error of another making left unnamed (only the same error, message included,
    names the keepdims mistake)?"""
    import numpy as np
    import pytest

    from mlpcore.grading import ExerciseFailed, check

    def log_softmax_with_its_own_bug(Z):
        shifted = Z - Z.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1)).reshape(len(Z) + 1, 1)  # ValueError of its own

    with pytest.raises(ExerciseFailed) as failure:
        check("log_softmax", log_softmax_with_its_own_bug)
    assert failure.value.reason == "error"
    assert "keepdims" not in str(failure.value)


def test_the_hint_explains_the_case_the_learner_reads():
    """With the tiny guard the learner's loss differs from the mistaken formula's only on the case
    of a zero probability; the hint still names the missing minus sign, read on case 1."""
    import pytest

    from mlpcore.grading import ExerciseFailed, check
    from teacher_submissions import cross_entropy_no_minus_guarded

    with pytest.raises(ExerciseFailed) as failure:
        check("cross_entropy", cross_entropy_no_minus_guarded)
    assert "case 1 of" in str(failure.value) and "minus sign is missing" in str(failure.value)


def test_the_plan_without_shuffling_still_passes_so_the_notebook_states_shuffling_as_advice():
    """Does 10-project say what the check does about shuffling? No order of the training digits makes the
    notebook's plan fail without it (teacher_submissions.CLASSIFIER_UNSHUFFLED), so the text must not
    promise that the check requires it."""
    import json
    from pathlib import Path

    from mlpcore.grading.project import classifier_verdict
    from teacher_submissions import CLASSIFIER_UNSHUFFLED

    assert classifier_verdict(*CLASSIFIER_UNSHUFFLED)[0] >= 0.93
    notebook = Path(__file__).parent.parent / "solutions" / "10-project" / "project.ipynb"
    text = " ".join("".join(cell["source"]) for cell in json.loads(notebook.read_text())["cells"])
    assert "does not require it" in text
