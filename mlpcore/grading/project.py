"""The closing project's check: a digits classifier built from the learner's own functions.

The learner writes ``train_classifier(X, y, seed) -> params`` and
``predict(params, X) -> labels``. :func:`check_classifier` splits the embedded
digits, trains on one part and measures the accuracy on the other, both with
mlpcore's reference locked away (so the model is the learner's own). The
hidden check uses another split, so a model tuned to one split's test digits
does not pass by luck.
"""

from __future__ import annotations

import numpy as np

from .. import guard
from ..data import load_digits, train_test_split
from ..guard import ReferenceUsedError, learner_code
from .failure import HIDDEN_CASE, ExerciseFailed, ReferenceUsed

MIN_ACCURACY = 0.95


def check_classifier(train_classifier, predict, hidden: bool = False, min_accuracy: float = MIN_ACCURACY) -> float:
    """Train the learner's classifier on 75 % of the digits and require ``min_accuracy`` on the rest.

    Returns the test accuracy; raises :class:`~mlpcore.grading.ExerciseFailed` below it.
    """
    __tracebackhide__ = True
    name = "digits_classifier"
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=1 if hidden else 0)
    refusals_before = guard.refusals
    step = "train_classifier(X_train, y_train, seed=0)"
    try:
        with learner_code():
            params = train_classifier(X_train.copy(), y_train.copy(), 0)
            step = "predict(params, X_test)"
            predicted = predict(params, X_test.copy())
    except ReferenceUsedError as exc:
        raise ReferenceUsed(name, f"your code called mlpcore's own answer. {exc}") from None
    except Exception as exc:
        if guard.refusals != refusals_before:
            raise ReferenceUsed(name, f"{step} raised {type(exc).__name__} after calling mlpcore's own answer") from None
        raise ExerciseFailed(name, "error", f"{step} raised {type(exc).__name__}: {exc}") from None
    if guard.refusals != refusals_before:
        raise ReferenceUsed(name, "your code called mlpcore's own answer, which refuses to run "
                             "while your code is being checked.")
    predicted = np.asarray(predicted)
    if predicted.shape != y_test.shape:
        raise ExerciseFailed(name, "wrong", f"predict should return one label per row of X_test, shape {y_test.shape}, "
                             f"but it returned shape {predicted.shape}.")
    if predicted.dtype.kind not in "iu":
        raise ExerciseFailed(name, "wrong", f"predict should return integer labels (for example np.argmax(P, axis=1)), "
                             f"but they have dtype {predicted.dtype}.")
    accuracy = float(np.mean(predicted == y_test))
    kind = "another split: " if hidden else ""
    if accuracy < min_accuracy:
        raise ExerciseFailed(name, "wrong", case=f"{HIDDEN_CASE} (another split of the digits)" if hidden else "",
                             problem=f"test accuracy {accuracy:.1%} on {len(y_test)} held-out digits, "
                             f"below the {min_accuracy:.0%} needed. Train longer, adjust the learning rate, or widen "
                             "the hidden layer.")
    print(f"{name}: {kind}test accuracy {accuracy:.1%} on {len(y_test)} held-out digits "
          f"(at least {min_accuracy:.0%} needed).")
    return accuracy
