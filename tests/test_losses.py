import math

import numpy as np
import pytest

from mlpcore import activations, losses
from mlpcore.backend import to_numpy
from conftest import assert_close, to_xp


def test_mse_by_hand(xp):
    # squared errors 1, 4, 0, 9 -> mean 3.5; gradient 2 * diff / 4 entries
    Y_hat = to_xp(xp, [[1.0, 2.0], [3.0, 4.0]])
    Y = to_xp(xp, [[0.0, 0.0], [3.0, 1.0]])
    assert losses.mse(Y_hat, Y) == pytest.approx(3.5)
    assert_close(losses.mse_backward(Y_hat, Y), [[0.5, 1.0], [0.0, 1.5]])


def test_mse_refuses_to_broadcast(xp):
    with pytest.raises(ValueError, match=r"Y_hat and Y should have the same shape, but Y_hat has shape \(4, 1\) and Y has shape \(4,\)"):
        losses.mse(xp.ones((4, 1)), xp.ones(4))


def test_cross_entropy_by_hand(xp):
    P = to_xp(xp, [[0.5, 0.5], [0.25, 0.75]])
    y = to_xp(xp, [0, 1])
    assert losses.cross_entropy(P, y) == pytest.approx(-(math.log(0.5) + math.log(0.75)) / 2)


def test_cross_entropy_of_a_zero_probability_is_finite(xp):
    loss = losses.cross_entropy(to_xp(xp, np.array([[1.0, 0.0]], dtype=np.float32)), to_xp(xp, [1]))
    assert math.isfinite(loss) and loss > 80


def test_fused_loss_equals_softmax_then_cross_entropy(xp, rng):
    logits = to_xp(xp, rng.standard_normal((6, 4)))
    y = to_xp(xp, rng.integers(0, 4, 6))
    loss, dlogits = losses.softmax_cross_entropy(logits, y)
    assert loss == pytest.approx(losses.cross_entropy(activations.softmax(logits), y), rel=1e-12)
    expected = (to_numpy(activations.softmax(logits)) - np.eye(4)[to_numpy(y)]) / 6
    assert_close(dlogits, expected, atol=1e-14)


def test_fused_loss_with_a_score_of_minus_infinity_is_finite(xp):
    # shifted * one_hot would give -inf * 0 = NaN in the sum; picking the true class does not
    loss, dlogits = losses.softmax_cross_entropy(to_xp(xp, [[0.0, -np.inf, 1.0]]), to_xp(xp, [2]))
    assert loss == pytest.approx(np.log(1 + np.exp(-1.0)))
    assert_close(dlogits, [[1 / (1 + np.e), 0.0, -1 / (1 + np.e)]])  # P - Y, with P = (1, 0, e) / (1 + e)


@pytest.mark.parametrize("fn", ["mse", "cross_entropy", "softmax_cross_entropy"])
def test_a_mean_over_no_samples_is_refused(xp, fn):
    empty = xp.zeros((0, 3))
    args = (empty, xp.zeros((0, 3))) if fn == "mse" else (empty, xp.zeros((0,), dtype=xp.int64))
    with pytest.raises(ValueError, match=rf"{fn}: .* should hold at least one sample, but got shape \(0, 3\)"):
        getattr(losses, fn)(*args)


def test_fused_loss_keeps_float32(xp):
    logits = xp.asarray(np.zeros((3, 5), dtype=np.float32))
    loss, dlogits = losses.softmax_cross_entropy(logits, to_xp(xp, [0, 1, 4]))
    assert dlogits.dtype == logits.dtype
    assert loss == pytest.approx(math.log(5), rel=1e-6)


def test_one_hot(xp):
    assert_close(losses.one_hot(to_xp(xp, [2, 0]), 3), [[0, 0, 1], [1, 0, 0]])


@pytest.mark.parametrize("fn", [losses.cross_entropy, lambda P, y: losses.softmax_cross_entropy(P, y)])
def test_labels_out_of_range(xp, fn):
    with pytest.raises(ValueError, match="labels should be integers from 0 to 2 .* but y contains 3"):
        fn(xp.ones((2, 3)), to_xp(xp, [0, 3]))
    with pytest.raises(ValueError, match="but y contains -1"):
        fn(xp.ones((2, 3)), to_xp(xp, [-1, 0]))


def test_float_labels_are_refused_with_a_hint(xp):
    with pytest.raises(TypeError, match="labels y should be integer class indices .* If they are one-hot rows"):
        losses.softmax_cross_entropy(xp.ones((2, 3)), xp.ones(2))


def test_one_label_per_row(xp):
    with pytest.raises(ValueError, match=r"labels y should have shape \(2,\), one label per row, but got shape \(3,\)"):
        losses.softmax_cross_entropy(xp.ones((2, 3)), to_xp(xp, [0, 1, 2]))
