"""The grading checks: right answers pass however they are written, mistakes fail and are named."""

import numpy as np
import pytest

import mlpcore
from mlpcore.grading import EXERCISES, ExerciseFailed, check, check_classifier
from submission_bank import CORRECT, MISTAKES  # first: it loads the other banks
from stated_rules_submissions import lag_db_mean, lag_relu_on_logits  # noqa: I001
import more_submissions
import teacher_submissions
from mlpcore.grading.project import MIN_ACCURACY


def test_every_exercise_has_correct_and_mistaken_submissions():
    assert set(CORRECT) == set(EXERCISES) == set(MISTAKES)
    assert all(len(MISTAKES[name]) >= 3 for name in EXERCISES), "at least three mistakes per graded function"


@pytest.mark.parametrize("name,fn", [(name, fn) for name, fns in CORRECT.items() for fn in fns],
                         ids=lambda v: v if isinstance(v, str) else getattr(v, "__name__", "lambda"))
@pytest.mark.parametrize("hidden", [False, True])
def test_correct_submissions_pass(name, fn, hidden, capsys):
    check(name, fn, hidden=hidden)
    assert capsys.readouterr().out.startswith(f"{name}: all ")


@pytest.mark.parametrize("name,fn,words", [(name, fn, words) for name, items in MISTAKES.items() for fn, words in items],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_mistakes_fail_and_are_named(name, fn, words):
    with pytest.raises(ExerciseFailed) as failure:
        check(name, fn)  # the visible cases alone must catch every listed mistake
    assert words in str(failure.value), str(failure.value)
    assert isinstance(failure.value, AssertionError)  # so nbgrader scores the cell 0


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_calling_the_reference_is_refused(name):
    reference = EXERCISES[name].reference
    # An optimizer is a class: a learner's subclass inherits the reference's step.
    submission = type("Copied", (reference,), {}) if isinstance(reference, type) else (lambda *args: reference(*args))
    with pytest.raises(ExerciseFailed, match="called mlpcore's own answer") as failure:
        check(name, submission)
    assert failure.value.reason == "reference_used"


def test_calling_the_reference_through_the_model_is_refused():
    def sneaky_relu(Z):
        mlpcore.MLP([2, 2]).predict(np.ones((1, 2)))
        return np.maximum(Z, 0)

    with pytest.raises(ExerciseFailed) as failure:
        check("relu", sneaky_relu)
    assert failure.value.reason == "reference_used"


def test_catching_the_refusal_does_not_hide_it():
    def relu_trying_the_reference(Z):
        try:
            return mlpcore.activations.relu(Z)
        except Exception:
            return np.maximum(Z, 0)

    with pytest.raises(ExerciseFailed) as failure:
        check("relu", relu_trying_the_reference)
    assert failure.value.reason == "reference_used"


def test_the_reference_works_again_after_a_check():
    with pytest.raises(ExerciseFailed):
        check("relu", mlpcore.activations.relu)
    assert mlpcore.activations.relu(np.array([-1.0, 2.0])).tolist() == [0.0, 2.0]


def test_messages_report_type_then_shape_then_dtype():
    with pytest.raises(ExerciseFailed, match="should be an array, but your function returned list") as failure:
        check("relu", lambda Z: np.maximum(Z, 0).tolist())
    assert failure.value.reason == "wrong"
    with pytest.raises(ExerciseFailed, match=r"should have shape \(1, 3\), but yours has shape \(3,\)"):
        check("relu", lambda Z: np.maximum(Z, 0).ravel())
    with pytest.raises(ExerciseFailed, match="should have dtype float32, but yours has dtype float64"):
        check("relu", lambda Z: np.maximum(Z, 0).astype(np.float64))


def test_the_failing_case_is_described():
    with pytest.raises(ExerciseFailed, match=r"case 1 of 3 \(X \(1, 4\) float64, W \(4, 3\) float64, b \(3,\) float64\)"):
        check("dense_forward", lambda X, W, b: X @ W)


def test_an_exception_in_the_learner_code_is_reported():
    def broken(Z):
        raise ValueError("not yet")

    with pytest.raises(ExerciseFailed, match="your function raised ValueError: not yet") as failure:
        check("relu", broken)
    assert failure.value.reason == "error"


def test_changing_an_input_is_reported():
    def relu_in_place(Z):
        Z[Z < 0] = 0
        return Z

    with pytest.raises(ExerciseFailed, match="changed its input Z") as failure:
        check("relu", relu_in_place)
    assert failure.value.reason == "mutated_input"


def test_not_a_function_and_unknown_exercise():
    with pytest.raises(ExerciseFailed, match="expected your function, but got NoneType"):
        check("relu", None)
    with pytest.raises(KeyError, match="there is no exercise 'rleu'"):
        check("rleu", np.abs)


def test_hidden_cases_are_more_and_different():
    visible = EXERCISES["dense_forward"].cases(np.random.default_rng(0), False)
    hidden = EXERCISES["dense_forward"].cases(np.random.default_rng(0), True)
    assert len(hidden) > len(visible)


def test_a_mistake_at_exact_zeros_is_caught_by_the_visible_check():
    # Z >= 0 differs from Z > 0 only at exact zeros: the visible cases hold some, as the notebook's rule is stated.
    with pytest.raises(ExerciseFailed, match="Z >= 0") as failure:
        check("relu_backward", lambda dA, Z: dA * (Z >= 0))
    assert "hidden" not in failure.value.case


# ------------------------------------------------------------ closing project


def _small_mlp_loss_and_grads(params, Xb, yb):
    """The learner-style 64-64-10 network's mean loss and gradients on one batch."""
    Z1 = Xb @ params["W1"] + params["b1"]
    A1 = np.maximum(Z1, 0)
    Z2 = A1 @ params["W2"] + params["b2"]
    P = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    loss = float(-np.mean(np.log(P[np.arange(len(yb)), yb])))
    P[np.arange(len(yb)), yb] -= 1
    dZ2 = P / len(yb)
    dZ1 = (dZ2 @ params["W2"].T) * (Z1 > 0)
    return loss, {"W2": A1.T @ dZ2, "b2": dZ2.sum(0), "W1": Xb.T @ dZ1, "b1": dZ1.sum(0)}


def _train_small_mlp(X, y, seed, rng=None, shuffle=True, loss_and_grads=_small_mlp_loss_and_grads):
    """A learner-style 64-64-10 ReLU network trained with plain mini-batch SGD (``rng``: the
    generator to draw from instead of one seeded with ``seed``; ``shuffle``: a new order each epoch;
    ``loss_and_grads(params, X, y)``: the learner's gradients)."""
    rng = np.random.default_rng(seed) if rng is None else rng
    params = {"W1": rng.standard_normal((64, 64)) * np.sqrt(2 / 64), "b1": np.zeros(64),
              "W2": rng.standard_normal((64, 10)) * np.sqrt(2 / 64), "b2": np.zeros(10)}
    for _ in range(30):
        order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
        for start in range(0, len(X), 32):
            rows = order[start:start + 32]
            _, grads = loss_and_grads(params, X[rows], y[rows])
            for name, g in grads.items():
                params[name] -= 0.1 * g
    return params


def _predict_small_mlp(params, X, relu_on_logits=False):
    logits = np.maximum(X @ params["W1"] + params["b1"], 0) @ params["W2"] + params["b2"]
    return np.argmax(np.maximum(logits, 0) if relu_on_logits else logits, axis=1)


@pytest.mark.parametrize("hidden", [False, True])
def test_a_learners_own_classifier_passes_the_project(hidden, capsys):
    accuracy = check_classifier(_train_small_mlp, _predict_small_mlp, hidden=hidden)
    assert accuracy >= MIN_ACCURACY
    assert "test accuracy" in capsys.readouterr().out


@pytest.mark.parametrize("loss_and_grads, relu_on_logits, hint", [
    (lag_db_mean, False, "divided db by the batch size: dZ already holds the mean's 1/batch, so db = dZ.sum(axis=0)"),
    (lag_relu_on_logits, True, "ReLU was applied to the logits"),
], ids=["db as a mean", "ReLU on the logits"])
def test_a_wrong_backward_pass_that_trains_well_enough_is_caught_by_loss_and_grads(loss_and_grads, relu_on_logits, hint):
    """Issue 14: the project's accuracy check passes a classifier trained on wrong gradients (db as a mean
    over the batch, ReLU applied to the logits as well); the project's loss_and_grads check names the slip."""
    def train(X, y, seed):
        return _train_small_mlp(X, y, seed, loss_and_grads=loss_and_grads)

    def predict(params, X):
        return _predict_small_mlp(params, X, relu_on_logits)

    assert check_classifier(train, predict) >= MIN_ACCURACY  # accuracy alone does not see the mistake
    with pytest.raises(ExerciseFailed) as failure:
        check("loss_and_grads", loss_and_grads)
    assert failure.value.reason == "wrong"
    assert hint in failure.value.mistake, str(failure.value)


def test_a_weak_classifier_fails_the_project_with_its_accuracy():
    with pytest.raises(ExerciseFailed, match=r"test accuracy \d+\.\d% on 449 held-out digits, perturbed \(ink scaled, "
                       r"pixel noise\), below the 93% needed") as failure:
        check_classifier(lambda X, y, seed: None, lambda params, X: np.zeros(len(X), dtype=int))
    assert failure.value.reason == "wrong"


CLASSIFIER_CORRECT = more_submissions.CLASSIFIER_CORRECT + teacher_submissions.CLASSIFIER_CORRECT
CLASSIFIER_MISTAKES = more_submissions.CLASSIFIER_MISTAKES + teacher_submissions.CLASSIFIER_MISTAKES


@pytest.mark.parametrize("functions, words", CLASSIFIER_MISTAKES, ids=lambda v: v if isinstance(v, str) else
                         "+".join(getattr(f, "__name__", "lambda") for f in v))
@pytest.mark.parametrize("hidden", [False, True])
def test_a_classifier_that_looks_the_digits_up_fails_the_project(functions, words, hidden):
    """Issue 20: every labelled digit ships in the package, so a predict that looked each held-out row up in
    load_digits() scored 100 % on both splits with a train_classifier that learns nothing. The check now
    measures perturbed digits, which no table holds, and a predict whose labels do not come from params."""
    with pytest.raises(ExerciseFailed) as failure:
        check_classifier(*functions, hidden=hidden)
    assert failure.value.reason == "wrong"
    assert words in str(failure.value), str(failure.value)


@pytest.mark.parametrize("functions", CLASSIFIER_CORRECT, ids=lambda v: "+".join(f.__name__ for f in v))
def test_a_classifier_that_reads_only_its_training_digits_or_is_the_plan_passes_the_project(functions):
    assert check_classifier(*functions) >= MIN_ACCURACY


def test_a_predict_that_cannot_run_a_network_of_zeros_or_keeps_its_own_class_passes_the_project():
    """The check sets every number in params to 0 and expects predict's labels to fall: an honest predict
    may raise on such a network, divide by its zeros, or keep its network in a class of its own."""
    def standardizing_train(X, y, seed):
        mean, std = X.mean(axis=0), X.std(axis=0)
        return {**_train_small_mlp((X - mean) / (std + 1e-8), y, seed), "mean": mean, "std": std}

    def standardizing_predict(params, X):
        return _predict_small_mlp(params, (X - params["mean"]) / (params["std"] + 1e-8))

    def refusing_predict(params, X):
        if not np.any(params["W1"]):
            raise ValueError("this network has not been trained")
        return _predict_small_mlp(params, X)

    class Network:
        def __init__(self, params):
            self.params = params

    assert check_classifier(standardizing_train, standardizing_predict) >= MIN_ACCURACY
    assert check_classifier(_train_small_mlp, refusing_predict) >= MIN_ACCURACY
    assert check_classifier(lambda X, y, seed: Network(_train_small_mlp(X, y, seed)),
                            lambda network, X: _predict_small_mlp(network.params, X)) >= MIN_ACCURACY


def test_the_project_reports_wrong_predictions_shape_and_type():
    with pytest.raises(ExerciseFailed, match="one label per row"):
        check_classifier(lambda X, y, seed: None, lambda params, X: np.zeros((len(X), 10)))
    with pytest.raises(ExerciseFailed, match="integer labels"):
        check_classifier(lambda X, y, seed: None, lambda params, X: np.zeros(len(X)))


def test_the_project_refuses_mlpcores_model():
    def train_with_mlpcore(X, y, seed):
        model = mlpcore.MLP([64, 32, 10], seed=seed)
        model.fit(X, y, epochs=5, progress=False)
        return model

    with pytest.raises(ExerciseFailed) as failure:
        check_classifier(train_with_mlpcore, lambda model, X: model.predict(X))
    assert failure.value.reason == "reference_used"
    # The message names what the learner called, not the helper deep inside it that refused.
    assert "mlpcore.model.MLP (through mlpcore.shapes.parameter_shapes)" in str(failure.value)


# --------------------------------------------------- random and stateful checks


def test_an_initializer_using_global_random_state_is_told_to_use_rng():
    def he_global(n_in, n_out, rng):
        return np.random.standard_normal((n_in, n_out)) * np.sqrt(2 / n_in)

    with pytest.raises(ExerciseFailed, match="draw from the rng argument"):
        check("he", he_global)


def test_an_optimizer_that_changes_the_dtype_is_reported():
    class SGDFloat64:
        def __init__(self, lr=0.01):
            self.lr = lr

        def step(self, params, grads):
            for name in params:
                params[name] = params[name].astype(np.float64) - self.lr * grads[name]

    with pytest.raises(ExerciseFailed, match="should have dtype float32"):
        check("SGD", SGDFloat64)


def test_failures_name_the_optimizer_step():
    class SGDNoLr:
        def __init__(self, lr=0.01):
            self.lr = lr

        def step(self, params, grads):
            for name in params:
                params[name] -= grads[name]

    with pytest.raises(ExerciseFailed, match=r"lr=0.1, .* 3 steps\): W1 after step 1 differs"):
        check("SGD", SGDNoLr)


def test_a_dropout_mask_that_is_not_zeros_and_ones_is_reported():
    def dropout_scaled_mask(A, p_drop, rng):
        mask = (rng.random(A.shape) >= p_drop).astype(A.dtype) / (1 - p_drop)  # the scale folded into the mask
        return A * mask, mask

    with pytest.raises(ExerciseFailed, match=r"mask should hold only 0 \(dropped\) and 1 \(kept\)"):
        check("dropout_forward", dropout_scaled_mask)


@pytest.mark.parametrize("name", ["forward_pass", "backward_pass"])
def test_the_known_mistakes_of_a_network_refuse_an_unknown_activation(name):
    # The grading's re-statement of a network reads the model's activation table: no silent sigmoid.
    X, y = np.ones((2, 3)), np.array([0, 1])
    params = {"W1": np.ones((3, 2)), "b1": np.zeros(2), "W2": np.ones((2, 2)), "b2": np.zeros(2)}
    wrong = EXERCISES[name].mistakes[0].wrong
    args = (X, params, "softplus") if name == "forward_pass" else (X, y, params, "softplus")
    with pytest.raises(ValueError, match="unknown activation 'softplus'; choose one of 'relu', 'sigmoid', 'tanh'"):
        wrong(*args)


def test_the_model_reads_the_activation_record():
    from mlpcore.activations import ACTIVATIONS

    model = mlpcore.MLP([3, 4, 2], activation="tanh", dtype="float64", seed=0)
    assert model._activation is ACTIVATIONS["tanh"]


def test_a_classifier_that_does_not_shuffle_fails_the_project_with_the_reason():
    with pytest.raises(ExerciseFailed) as failure:
        check_classifier(lambda X, y, seed: _train_small_mlp(X, y, seed, shuffle=False), _predict_small_mlp)
    assert "not shuffled" in str(failure.value), str(failure.value)


def test_a_classifier_drawn_from_global_random_state_fails_the_project():
    def train_from_global_state(X, y, seed):
        return _train_small_mlp(X, y, seed, rng=np.random.default_rng(np.random.randint(2**31)))

    with pytest.raises(ExerciseFailed, match="the same seed must give the same network") as failure:
        check_classifier(train_from_global_state, _predict_small_mlp)
    assert "np.random.default_rng(seed)" in failure.value.mistake


def test_a_warning_or_stderr_from_a_correct_answer_does_not_reach_the_cell_s_stderr(capsys):
    """nbgrader scores a test cell with any stderr output 0: an honest dense_forward written with the
    deprecated np.row_stack (a DeprecationWarning), or one that prints to stderr, must still pass,
    with what it said in the check's message instead."""
    import sys
    import warnings as warnings_module

    def dense_forward_deprecated(X, W, b):
        warnings_module.warn("`row_stack` alias is deprecated. Use `np.vstack` directly.", DeprecationWarning)
        return X @ W + b

    def dense_forward_chatty(X, W, b):
        print("computing Z", file=sys.stderr)
        return X @ W + b

    for function, said in ((dense_forward_deprecated, "warned: DeprecationWarning: `row_stack` alias is deprecated"),
                           (dense_forward_chatty, "wrote: printed to stderr: computing Z")):
        check("dense_forward", function)
        out, err = capsys.readouterr()
        assert err == "", err
        assert "all 3 cases match" in out and said in out and out.count("note:") == 1, out
