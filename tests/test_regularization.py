import numpy as np
import pytest

from mlpcore import regularization as reg
from mlpcore.backend import to_numpy
from conftest import assert_close, to_xp


def test_l2_penalty_by_hand(xp):
    # 0.1 / 2 * (1 + 4 + 9 + 16) = 1.5; the bias is not penalised
    params = {"W1": to_xp(xp, [[1.0, 2.0], [3.0, 4.0]]), "b1": to_xp(xp, [100.0, 100.0])}
    assert reg.l2_penalty(params, 0.1) == pytest.approx(1.5)
    grads = reg.l2_grads(params, 0.1)
    assert set(grads) == {"W1", "b1"}
    assert_close(grads["W1"], [[0.1, 0.2], [0.3, 0.4]])
    assert_close(grads["b1"], [0.0, 0.0])


def test_negative_lambda(xp):
    with pytest.raises(ValueError, match="lam should be a finite number >= 0, but got -1"):
        reg.l2_penalty({"W1": xp.ones((2, 2))}, -1)


def test_dropout_keeps_the_expected_value(xp):
    A = xp.ones((200, 100))
    out, mask = reg.dropout_forward(A, 0.25, 0)
    kept = float(xp.mean(mask))
    assert kept == pytest.approx(0.75, abs=0.01)
    # survivors are scaled by 1 / (1 - p), so the mean stays about 1
    assert float(xp.mean(out)) == pytest.approx(1.0, abs=0.02)
    # forward and backward scale alike: for A = 1 both are mask / (1 - p)
    assert_close(out, reg.dropout_backward(A, mask, 0.25))


def test_dropout_mask_is_zero_or_one_in_the_input_dtype(xp):
    A = xp.asarray(np.ones((5, 4), dtype=np.float32))
    out, mask = reg.dropout_forward(A, 0.5, np.random.default_rng(1))
    assert set(np.unique(to_numpy(mask)).tolist()) == {0.0, 1.0}
    assert mask.dtype == A.dtype and out.dtype == A.dtype


def test_dropout_is_reproducible_by_seed(xp):
    A = xp.ones((10, 10))
    assert_close(reg.dropout_forward(A, 0.5, 3)[1], reg.dropout_forward(A, 0.5, 3)[1], rtol=0, atol=0)


def test_p_drop_zero_changes_nothing(xp, rng):
    A = to_xp(xp, rng.standard_normal((3, 4)))
    out, _ = reg.dropout_forward(A, 0.0, 0)
    assert_close(out, A, rtol=0, atol=0)


@pytest.mark.parametrize("p", [1.0, -0.1, 1.5])
def test_p_drop_must_be_below_one(xp, p):
    with pytest.raises(ValueError, match="p_drop should be"):
        reg.dropout_forward(xp.ones(3), p, 0)


def test_dropout_backward_checks_shapes(xp):
    with pytest.raises(ValueError, match="dA and mask should have the same shape"):
        reg.dropout_backward(xp.ones((2, 3)), xp.ones((3, 2)), 0.5)
