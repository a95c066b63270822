"""The closing project's check: a digits classifier built from the learner's own functions.

The learner writes ``train_classifier(X, y, seed) -> params`` and
``predict(params, X) -> labels``. :func:`check_classifier` splits the embedded
digits, trains on one part and measures the accuracy on the other, both with
mlpcore's reference locked away (so the model is the learner's own). The
hidden check uses another split, so a model tuned to one split's test digits
does not pass by luck.

Two of the notebook's requirements are checked beside the accuracy:

* the training digits arrive sorted by label, as data sets often are: a training
  loop that does not shuffle learns from batches of one digit at a time and fails;
* the same seed gives the same model: the classifier is trained twice with seed 0
  and must predict the same labels (randomness from ``np.random`` would not).
"""

from __future__ import annotations

import numpy as np

from .. import guard
from ..data import load_digits, train_test_split
from ..guard import ReferenceUsedError, learner_code
from . import channel
from .failure import HIDDEN_CASE, ExerciseFailed, ReferenceUsed, learner_line

MIN_ACCURACY = 0.95
NAME = "digits_classifier"


def check_classifier(train_classifier, predict, hidden: bool = False, min_accuracy: float = MIN_ACCURACY) -> float:
    """Train the learner's classifier on 75 % of the digits (sorted by label) and require
    ``min_accuracy`` on the rest, and the same predictions from a second training with the same seed.

    Returns the test accuracy; raises :class:`~mlpcore.grading.ExerciseFailed` on a failure. In
    ``mlpcore grade`` it hands the two functions to the grader instead (see :mod:`.channel`) and
    returns NaN: the grader trains and judges from outside the kernel.
    """
    __tracebackhide__ = True
    if channel.trusted_grading():
        channel.request(NAME, (train_classifier, predict), hidden)
        return float("nan")
    accuracy, line = classifier_verdict(train_classifier, predict, hidden, min_accuracy)
    print(line)
    return accuracy


def classifier_verdict(train_classifier, predict, hidden: bool = False,
                       min_accuracy: float = MIN_ACCURACY) -> tuple[float, str]:
    """:func:`check_classifier`'s work: ``(test accuracy, the passing line)``, or :class:`ExerciseFailed`."""
    __tracebackhide__ = True
    case = f"{HIDDEN_CASE} (another split of the digits)" if hidden else ""
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=1 if hidden else 0)
    by_label = np.argsort(y_train, kind="stable")
    predicted = _train_and_predict(train_classifier, predict, X_train[by_label], y_train[by_label], X_test, case)
    if predicted.shape != y_test.shape:
        raise ExerciseFailed(NAME, "wrong", f"predict should return one label per row of X_test, shape {y_test.shape}, "
                             f"but it returned shape {predicted.shape}", case=case)
    if predicted.dtype.kind not in "iu":
        raise ExerciseFailed(NAME, "wrong", "predict should return integer labels (for example np.argmax(P, axis=1)), "
                             f"but they have dtype {predicted.dtype}", case=case)
    # Reproducibility before accuracy: a classifier drawn from a global random state passes or fails the
    # accuracy by chance, and its real mistake is the state.
    again = _train_and_predict(train_classifier, predict, X_train[by_label], y_train[by_label], X_test, case)
    if not np.array_equal(again, predicted):
        raise ExerciseFailed(
            NAME, "wrong", f"trained twice with seed=0, your classifier predicted {int(np.sum(again != predicted))} of "
            f"{len(y_test)} test digits differently: the same seed must give the same network", case=case,
            mistake="take every random number (initial weights, shuffling) from one np.random.default_rng(seed); "
                    "np.random.* functions use a global state that the seed does not set")
    accuracy = float(np.mean(predicted == y_test))
    if accuracy < min_accuracy:
        raise _too_inaccurate(train_classifier, predict, accuracy, min_accuracy, (X_train, y_train, X_test, y_test), case)
    kind = "another split: " if hidden else ""
    return accuracy, (f"{NAME}: {kind}test accuracy {accuracy:.1%} on {len(y_test)} held-out digits "
                      f"(at least {min_accuracy:.0%} needed); the same seed gives the same predictions.")


def _train_and_predict(train_classifier, predict, X_train, y_train, X_test, case) -> np.ndarray:
    """The learner's labels for ``X_test`` after training on ``(X_train, y_train)`` with seed 0."""
    refusals_before = guard.refusals
    step = "train_classifier(X_train, y_train, seed=0)"
    try:
        with learner_code():
            params = train_classifier(X_train.copy(), y_train.copy(), 0)
            step = "predict(params, X_test)"
            predicted = predict(params, X_test.copy())
    except ReferenceUsedError as exc:
        raise ReferenceUsed(NAME, f"your code called mlpcore's own answer. {exc}") from None
    except Exception as exc:
        if guard.refusals != refusals_before:
            raise ReferenceUsed(NAME, f"{step} raised {type(exc).__name__} after calling mlpcore's own answer") from None
        if isinstance(exc, NotImplementedError) and not str(exc):  # the untouched answer cell
            raise ExerciseFailed(NAME, "unanswered", f"{step.split('(')[0]} is not written yet (it raised "
                                 "NotImplementedError): replace the line raise NotImplementedError() with your code",
                                 case=case) from None
        raise ExerciseFailed(NAME, "error", f"{step} raised {type(exc).__name__}" + (f": {exc}" if str(exc) else ""),
                             case=case, your_code=getattr(exc, "your_code", None) or learner_line(exc.__traceback__)) from None
    if guard.refusals != refusals_before:
        raise ReferenceUsed(NAME, "your code called mlpcore's own answer, which refuses to run "
                            "while your code is being checked.")
    return np.asarray(predicted)


def _too_inaccurate(train_classifier, predict, accuracy, min_accuracy, split, case) -> ExerciseFailed:
    """The failure for a test accuracy below ``min_accuracy`` on label-sorted training digits; names the
    missing shuffle when the same classifier reaches it on the digits in their (random) split order."""
    X_train, y_train, X_test, y_test = split
    mistake = None
    shuffled = _train_and_predict(train_classifier, predict, X_train, y_train, X_test, case)
    if shuffled.shape == y_test.shape and float(np.mean(shuffled == y_test)) >= min_accuracy:
        mistake = ("the training examples are not shuffled: given the digits sorted by label, each batch holds one "
                   "digit only; draw a new order every epoch, order = rng.permutation(n)")
    return ExerciseFailed(NAME, "wrong", f"test accuracy {accuracy:.1%} on {len(y_test)} held-out digits, "
                          f"below the {min_accuracy:.0%} needed (trained on the digits sorted by label). Train longer, "
                          "adjust the learning rate, or widen the hidden layer", case=case, mistake=mistake)
