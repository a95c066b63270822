"""Checks of the optimizers, which are classes with state (velocities, moment estimates, a step count).

A case is ``(hyperparameters, params, grads_per_step)``. The learner's class is
built with the hyperparameters as keyword arguments, ``step`` is called once per
entry of ``grads_per_step`` on a copy of ``params``, and the parameters after
every step are compared with the reference's. Updating the arrays in place and
putting new arrays into the dict both pass: what counts is what the dict holds.

The known mistakes are variants of :class:`_Optimizer`, a plain re-statement of
the three update rules with switches for the common slips.
"""

from __future__ import annotations

import inspect

import numpy as np

from .. import optim
from ..guard import reference
from .compare import compare_output
from .exercises import F32, F64, Exercise, Mistake, _normal

SHAPES = {"W1": (3, 4), "b1": (4,), "W2": (4, 2), "b2": (2,)}


def optimizer_cases(hyperparameters, hidden_hyperparameters, small_gradient_hyperparameters=None):
    """Cases of ``(hyperparameters, params, gradients of each step)``. ``small_gradient_hyperparameters``
    adds a visible case whose gradients are about 1e-3, with one entry of each exactly 0 in every step:
    there Adam's eps is as large as sqrt(v) (and the only thing between 0 / 0 and a finite step)."""

    def make(rng, hidden):
        specs = [(hyperparameters, 3, F64, 1.0), (hyperparameters, 2, F32, 1.0)]
        if small_gradient_hyperparameters is not None:
            specs.append((small_gradient_hyperparameters, 3, F64, 1e-3))
        # Built with no arguments at all: the defaults the notebooks state (10's plan relies on Adam's lr).
        specs.append(({}, 3, F64, 1.0))
        if hidden:
            specs += [(hidden_hyperparameters, 6, F64, 1.0), (hidden_hyperparameters, 4, F32, 1.0)]
        cases = []
        for hyper, n_steps, dtype, scale in specs:
            params = {name: _normal(rng, shape, dtype) for name, shape in SHAPES.items()}
            steps = [{name: _normal(rng, shape, dtype, scale) for name, shape in SHAPES.items()} for _ in range(n_steps)]
            if scale != 1.0:
                for grads in steps:
                    for g in grads.values():
                        g.flat[0] = 0.0
            cases.append((dict(hyper), params, steps))
        return cases

    return make


def run_optimizer(cls, args):
    """Build ``cls(**hyperparameters)``, step it through every gradient, and return the parameters
    after each step: ``{"W1 after step 1": ..., ...}``."""
    hyper, params, steps = args
    optimizer = cls(**hyper)
    params = {name: value.copy() for name, value in params.items()}
    after = {}
    for number, grads in enumerate(steps, start=1):
        optimizer.step(params, grads)
        for name in params:
            after[f"{name} after step {number}"] = params[name].copy() if hasattr(params[name], "copy") else params[name]
    return after


class _Optimizer:
    """SGD, Momentum or Adam (``kind``) with switches that reproduce known mistakes."""

    def __init__(self, kind, lr, beta=0.9, beta1=0.9, beta2=0.999, eps=1e-8, sign=1.0, use_lr=True, ema=False,
                 keep_state=True, bias_correction=True, t_per_parameter=False, t_frozen=False,
                 weights_only=False, use_eps=True, eps_inside_root=False, store_corrected=False,
                 v_from_magnitude=False, updates_params=True, old_velocity=False, shared_velocity=False,
                 in_place=False, t_after_the_loop=False):
        self.kind, self.lr, self.beta, self.beta1, self.beta2, self.eps = kind, lr, beta, beta1, beta2, eps
        self.sign, self.use_lr, self.ema, self.keep_state = sign, use_lr, ema, keep_state
        self.bias_correction = bias_correction
        self.t_per_parameter, self.t_frozen, self.weights_only = t_per_parameter, t_frozen, weights_only
        self.use_eps, self.eps_inside_root, self.store_corrected = use_eps, eps_inside_root, store_corrected
        self.v_from_magnitude, self.updates_params = v_from_magnitude, updates_params
        self.old_velocity, self.shared_velocity, self.in_place = old_velocity, shared_velocity, in_place
        self.t_after_the_loop = t_after_the_loop
        self.state, self.t = {}, 0

    @reference  # with every switch off, a plain-NumPy answer to the exercise
    def step(self, params, grads):
        if not self.t_frozen and not self.t_per_parameter and not self.t_after_the_loop:
            self.t += 1
        for name, g in grads.items():
            if self.weights_only and not name.startswith("W"):
                continue
            lr = self.lr if self.use_lr else 1.0
            if self.kind == "SGD":
                update = g
            elif self.kind == "Momentum":
                key = "one velocity" if self.shared_velocity else name
                old = self.state.get(key, np.zeros_like(g)) if self.keep_state else np.zeros_like(g)
                v = self.beta * old + ((1 - self.beta) * g if self.ema else g)
                self.state[key] = v
                update = old if self.old_velocity else v
            else:
                if self.t_per_parameter:
                    self.t += 1
                t = 1 if self.t_frozen else self.t
                m, v = self.state.get(name, (np.zeros_like(g), np.zeros_like(g)))
                m = self.beta1 * m + (1 - self.beta1) * g
                v = self.beta2 * v + (1 - self.beta2) * (np.abs(g) if self.v_from_magnitude else g * g)
                self.state[name] = (m, v)
                if self.bias_correction:
                    m, v = m / (1 - self.beta1**t), v / (1 - self.beta2**t)
                if self.store_corrected:
                    self.state[name] = (m, v)
                eps = self.eps if self.use_eps else 0.0
                update = m / (np.sqrt(v + eps) if self.eps_inside_root else np.sqrt(v) + eps)
            if self.in_place:  # raises where update's shape is not the parameter's
                params[name] -= self.sign * lr * update
            elif self.updates_params:
                params[name] = (params[name] - self.sign * lr * update).astype(params[name].dtype)
        if self.t_after_the_loop:
            self.t += 1


def _not_finite(args, output) -> bool:
    try:
        return not all(np.isfinite(np.asarray(value, dtype=float)).all() for value in output.values())
    except (AttributeError, TypeError, ValueError):
        return False


def defaults_judge(reference):
    """Judge that compares as usual and, on the case built with no arguments, says that the defaults
    (``reference``'s, which the notebooks state) are what differs."""
    defaults = ", ".join(f"{name}={parameter.default!r}" for name, parameter in
                         inspect.signature(reference.__init__).parameters.items() if name != "self")

    def judge(output, expected, args, again) -> str | None:
        problem = compare_output(output, expected, ("the parameters",))
        if problem and not args[0]:
            return (f"built with no arguments, {reference.__name__}() must use the default settings the notebook "
                    f"states, {reference.__name__}({defaults}); yours differ ({problem})")
        return problem

    return judge


def _defaults(kind) -> dict:
    """The reference optimizer's default settings, which a mistaken variant built with none takes too."""
    return {name: parameter.default for name, parameter in inspect.signature(getattr(optim, kind).__init__).parameters.items()
            if name != "self"}


def _variant(kind, **switches):
    return lambda **hyper: _Optimizer(kind, **{**_defaults(kind), **hyper}, **switches)


def optimizer_exercise(name, reference, hyperparameters, hidden_hyperparameters, mistakes,
                       small_gradient_hyperparameters=None) -> Exercise:
    # Every optimizer's step must change the dict it is given; one that returns new arrays does not.
    not_in_place = Mistake("step must update params in place (params[name] -= ..., or params[name] = ...): "
                           "returning new arrays leaves the caller's dict as it was", _variant(name, updates_params=False))
    return Exercise(name, reference, optimizer_cases(hyperparameters, hidden_hyperparameters, small_gradient_hyperparameters),
                    outputs=("the parameters",), run=run_optimizer,
                    argument_names=("hyperparameters", "params", "steps"), mistakes=mistakes + (not_in_place,),
                    judge=defaults_judge(reference))


OPTIMIZER_EXERCISES = [
    optimizer_exercise("SGD", optim.SGD, {"lr": 0.1}, {"lr": 0.03}, (
        Mistake("the step goes against the gradient: p -= lr * g", _variant("SGD", sign=-1.0)),
        Mistake("the learning rate is missing: p -= lr * g", _variant("SGD", use_lr=False)),
        Mistake("the biases must be updated too: step every entry of grads", _variant("SGD", weights_only=True)),
    )),
    optimizer_exercise("Momentum", optim.Momentum, {"lr": 0.1, "beta": 0.9}, {"lr": 0.05, "beta": 0.8}, (
        Mistake("this course's momentum is v = beta * v + g, without the (1 - beta) factor on g",
                _variant("Momentum", ema=True)),
        Mistake("the velocity must persist from one step to the next: keep one per parameter on self",
                _variant("Momentum", keep_state=False)),
        Mistake("the step goes against the velocity: p -= lr * v", _variant("Momentum", sign=-1.0)),
        Mistake("stepped with the velocity of the previous call: first compute the new velocity, v = beta * v + g, "
                "then step with it, p -= lr * v", _variant("Momentum", old_velocity=True)),
        Mistake("one velocity is shared by all the parameters: every parameter needs its own velocity, of its own "
                "shape, e.g. a dict self.velocity[name] created as np.zeros_like(g) the first time step sees name",
                _variant("Momentum", shared_velocity=True),
                variants=(_variant("Momentum", shared_velocity=True, in_place=True),)),
    )),
    optimizer_exercise("Adam", optim.Adam, {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
                       {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6}, (
        Mistake("no bias correction: divide m by (1 - beta1**t) and v by (1 - beta2**t)",
                _variant("Adam", bias_correction=False)),
        Mistake("t must count steps: increase it once per call of step, before the bias correction",
                _variant("Adam", t_frozen=True)),
        Mistake("t was increased after the loop over the parameters, so the first step's bias correction divides "
                "by 1 - beta1**0 = 0: add one to t at the start of step, before the loop",
                _variant("Adam", t_after_the_loop=True), variants=(_variant("Adam", t_after_the_loop=True, in_place=True),)),
        Mistake("t was increased once per parameter; it counts calls of step (once per step for all parameters)",
                _variant("Adam", t_per_parameter=True)),
        Mistake("eps is missing from the denominator: m_hat / (sqrt(v_hat) + eps); without it a gradient that "
                "stays 0 gives 0 / 0", _variant("Adam", use_eps=False)),
        Mistake("eps belongs outside the square root: m_hat / (sqrt(v_hat) + eps), not m_hat / sqrt(v_hat + eps)",
                _variant("Adam", eps_inside_root=True)),
        Mistake("the bias-corrected moments were written back into m and v: keep the running averages m and v "
                "as they are, and use m_hat and v_hat only for this step's update", _variant("Adam", store_corrected=True)),
        Mistake("v averages the squared gradients, g**2 (g * g), not their size |g|", _variant("Adam", v_from_magnitude=True)),
        Mistake("NaN in the parameters: v averages the squared gradients (g**2, never negative, so its square "
                "root exists), and t starts at 1 in the bias correction (1 - beta**0 is 0)", symptom=_not_finite),
    ), small_gradient_hyperparameters={"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-3}),
]

EXERCISES = OPTIMIZER_EXERCISES  # what mlpcore.grading.registry loads from this source
