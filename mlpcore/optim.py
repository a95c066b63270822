"""Optimizers: turn gradients into parameter updates.

Each optimizer's ``step(params, grads)`` updates the arrays in ``params`` (a
dict name -> array) **in place**, using the matching entries of ``grads``.
In place means no new parameter arrays per step (cheaper, and anything that
holds a reference to ``params["W1"]`` sees the new values).

With ``g`` the gradient and ``lr`` the learning rate:

* SGD:       ``p -= lr * g``
* Momentum:  ``v = beta * v + g;  p -= lr * v``   (velocity; PyTorch's convention)
* Adam:      ``m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g**2;``
             ``m_hat = m / (1 - b1**t);  v_hat = v / (1 - b2**t);  p -= lr * m_hat / (sqrt(v_hat) + eps)``

Adam's bias correction (dividing by ``1 - b**t``) matters in the first steps:
``m`` and ``v`` start at 0, so without it both estimates are pulled towards 0,
``v`` (with ``b2 = 0.999``) far more than ``m``, and ``m / sqrt(v)`` comes out
several times too large for the first hundred or so steps.
"""

from __future__ import annotations

from .backend import namespace_of
from .guard import reference
from .validation import require_positive_number


def _require_matching(params, grads, state=None) -> None:
    """Check ``grads`` (and the optimizer's ``state``, a dict of per-parameter dicts) against
    ``params`` before anything is updated, so that a mismatch changes nothing."""
    missing = sorted(set(params) - set(grads))
    unknown = sorted(set(grads) - set(params))
    if missing or unknown:
        raise ValueError(
            "step: grads should have the same keys as params; "
            f"missing from grads: {missing or 'none'}; not in params: {unknown or 'none'}."
        )
    for name in params:
        if tuple(params[name].shape) != tuple(grads[name].shape):
            raise ValueError(
                f"step: grads[{name!r}] has shape {tuple(grads[name].shape)} but params[{name!r}] "
                f"has shape {tuple(params[name].shape)}."
            )
    for kind, held in (state or {}).items():
        for name in params:
            if name in held and tuple(held[name].shape) != tuple(params[name].shape):
                raise ValueError(
                    f"step: this optimizer holds a {kind} of shape {tuple(held[name].shape)} for {name!r} "
                    f"from an earlier model, but params[{name!r}] has shape {tuple(params[name].shape)}; "
                    "give each model an optimizer of its own."
                )


def _require_beta(cls: str, name: str, value) -> float:
    beta = require_positive_number(cls, name, value, allow_zero=True)
    if beta >= 1:
        raise ValueError(f"{cls}: {name} should be in [0, 1), but got {value!r}.")
    return beta


class SGD:
    """Plain stochastic gradient descent, ``p -= lr * g``."""

    def __init__(self, lr=0.01):
        self.lr = require_positive_number("SGD", "lr", lr)

    @reference
    def step(self, params, grads) -> None:
        _require_matching(params, grads)
        for name, g in grads.items():
            params[name] -= self.lr * g

    def __repr__(self):
        return f"SGD(lr={self.lr:g})"


class Momentum:
    """SGD with momentum: the update follows a running sum of past gradients,
    which smooths zig-zags across narrow valleys and speeds up along them."""

    def __init__(self, lr=0.01, beta=0.9):
        self.lr = require_positive_number("Momentum", "lr", lr)
        self.beta = _require_beta("Momentum", "beta", beta)
        self.velocity = {}

    @reference
    def step(self, params, grads) -> None:
        _require_matching(params, grads, {"velocity": self.velocity})
        for name, g in grads.items():
            if name not in self.velocity:
                self.velocity[name] = namespace_of(g).zeros_like(g)
            v = self.velocity[name]
            v *= self.beta
            v += g
            params[name] -= self.lr * v

    def __repr__(self):
        return f"Momentum(lr={self.lr:g}, beta={self.beta:g})"


class Adam:
    """Adam: momentum on the gradient (``m``) divided by a running root-mean-square
    of it (``sqrt(v)``), so each parameter gets its own step size."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr = require_positive_number("Adam", "lr", lr)
        self.beta1 = _require_beta("Adam", "beta1", beta1)
        self.beta2 = _require_beta("Adam", "beta2", beta2)
        self.eps = require_positive_number("Adam", "eps", eps)
        self.t = 0
        self.m = {}
        self.v = {}

    @reference
    def step(self, params, grads) -> None:
        _require_matching(params, grads, {"first moment": self.m})
        self.t += 1
        correction1 = 1.0 - self.beta1**self.t
        correction2 = 1.0 - self.beta2**self.t
        for name, g in grads.items():
            xp = namespace_of(g)
            if name not in self.m:
                self.m[name] = xp.zeros_like(g)
                self.v[name] = xp.zeros_like(g)
            m, v = self.m[name], self.v[name]
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * (g * g)
            m_hat = m / correction1
            v_hat = v / correction2
            params[name] -= self.lr * m_hat / (xp.sqrt(v_hat) + self.eps)

    def __repr__(self):
        return f"Adam(lr={self.lr:g}, beta1={self.beta1:g}, beta2={self.beta2:g}, eps={self.eps:g})"


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def get_optimizer(name: str, lr: float):
    """An optimizer by name with learning rate ``lr`` (other settings at their defaults)."""
    key = name.lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(map(repr, OPTIMIZERS))}.")
    return OPTIMIZERS[key](lr=lr)
