import numpy as np
import pytest

from mlpcore import optim
from conftest import assert_close, to_xp


def test_sgd_step_by_hand_and_in_place(xp):
    W = to_xp(xp, [1.0, 2.0])
    params = {"W1": W}
    optim.SGD(0.5).step(params, {"W1": to_xp(xp, [2.0, -2.0])})
    assert params["W1"] is W  # updated in place, not replaced
    assert_close(W, [0.0, 3.0])


def test_momentum_two_steps_by_hand(xp):
    params = {"W1": to_xp(xp, [0.0])}
    opt = optim.Momentum(lr=0.1, beta=0.9)
    opt.step(params, {"W1": to_xp(xp, [1.0])})  # v = 1,           W = -0.1
    opt.step(params, {"W1": to_xp(xp, [1.0])})  # v = 0.9 + 1 = 1.9, W = -0.1 - 0.19
    assert_close(params["W1"], [-0.29])


def test_adam_first_step_is_lr_times_the_sign(xp):
    # With bias correction m_hat = g and v_hat = g**2 after one step, so the step is lr * g / |g|.
    params = {"W1": to_xp(xp, [0.0, 0.0, 0.0])}
    optim.Adam(lr=0.01).step(params, {"W1": to_xp(xp, [3.0, -0.001, 50.0])})
    assert_close(params["W1"], [-0.01, 0.01, -0.01], rtol=1e-4)


def test_adam_matches_the_formula_over_steps(xp, rng):
    grads = [rng.standard_normal(4) for _ in range(5)]
    W = rng.standard_normal(4)
    params = {"W1": to_xp(xp, W.copy())}  # the optimizer updates in place
    opt = optim.Adam(lr=0.1, beta1=0.8, beta2=0.9, eps=1e-6)
    m = v = np.zeros(4)
    for t, g in enumerate(grads, start=1):
        opt.step(params, {"W1": to_xp(xp, g)})
        m = 0.8 * m + 0.2 * g
        v = 0.9 * v + 0.1 * g * g
        W = W - 0.1 * (m / (1 - 0.8**t)) / (np.sqrt(v / (1 - 0.9**t)) + 1e-6)
    assert_close(params["W1"], W, rtol=1e-10)


@pytest.mark.parametrize("make", [lambda: optim.SGD(0.1), lambda: optim.Momentum(0.1), lambda: optim.Adam(0.1)])
def test_each_optimizer_minimises_a_quadratic(xp, make):
    target = to_xp(xp, [3.0, -1.0])
    params = {"W1": xp.zeros(2)}
    opt = make()
    for _ in range(300):
        opt.step(params, {"W1": 2 * (params["W1"] - target)})
    assert_close(params["W1"], [3.0, -1.0], atol=1e-3)


def test_float32_parameters_stay_float32(xp):
    params = {"W1": xp.asarray(np.ones(3, dtype=np.float32))}
    for opt in (optim.SGD(0.1), optim.Momentum(0.1), optim.Adam(0.1)):
        opt.step(params, {"W1": xp.asarray(np.ones(3, dtype=np.float32))})
        assert params["W1"].dtype == xp.asarray(np.ones(1, dtype=np.float32)).dtype


def test_mismatched_keys(xp):
    with pytest.raises(ValueError, match=r"missing from grads: \['b1'\]; not in params: \['W2'\]"):
        optim.SGD(0.1).step({"W1": xp.ones(2), "b1": xp.ones(2)}, {"W1": xp.ones(2), "W2": xp.ones(2)})


def test_mismatched_shapes(xp):
    with pytest.raises(ValueError, match=r"grads\['W1'\] has shape \(3,\) but params\['W1'\] has shape \(2,\)"):
        optim.SGD(0.1).step({"W1": xp.ones(2)}, {"W1": xp.ones(3)})


@pytest.mark.parametrize("make", [lambda: optim.Momentum(0.1), lambda: optim.Adam(0.1)])
def test_an_optimizer_reused_on_another_model_is_refused_before_any_update(xp, make):
    optimizer = make()
    optimizer.step({"W1": xp.ones((5, 3)), "b1": xp.ones(3)}, {"W1": xp.ones((5, 3)), "b1": xp.ones(3)})
    other = {"W1": xp.ones((4, 3)), "b1": xp.ones(3)}
    state_before = repr(vars(optimizer))
    with pytest.raises(ValueError, match=r"holds a .* of shape \(5, 3\) for 'W1' from an earlier model, "
                                         r"but params\['W1'\] has shape \(4, 3\)"):
        optimizer.step(other, {"b1": xp.ones(3), "W1": xp.ones((4, 3))})  # b1 comes first and would match
    assert_close(other["b1"], np.ones(3))
    assert repr(vars(optimizer)) == state_before  # Adam's step count did not move either


@pytest.mark.parametrize("bad", [0, -0.1, float("nan"), "fast"])
def test_bad_learning_rate(bad):
    with pytest.raises((ValueError, TypeError), match="SGD: lr should be a"):
        optim.SGD(bad)


def test_bad_beta():
    with pytest.raises(ValueError, match=r"Adam: beta2 should be in \[0, 1\), but got 1"):
        optim.Adam(beta2=1)


def test_optimizer_by_name():
    assert isinstance(optim.get_optimizer("Adam", 0.01), optim.Adam)
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        optim.get_optimizer("rmsprop", 0.01)
