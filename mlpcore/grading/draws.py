"""Checks of functions that draw random numbers: the initializers and inverted dropout.

A learner may draw differently from the reference (``rng.normal(0, std, shape)``,
``rng.standard_normal(shape) * std``, a uniform distribution with the same
spread, ``rng.random(shape) < 1 - p``), so these checks do not demand the
reference's numbers. An answer equal to the reference's passes at once;
otherwise the statistics must agree within a few standard errors:

* initializers: the standard deviation of the weights (against the reference's
  over several draws), a mean near zero, the same weights again from a
  generator in the same state (global state is not used), and a generator whose
  state the call changes (the ``rng`` argument is used, not a generator of the
  learner's own, which would give the same weights whatever the seed);
* dropout: a 0/1 mask that keeps about ``1 - p_drop`` of the units, the output
  ``A * mask / (1 - p_drop)``, and the same two checks of the generator.

Known mistakes are recognised by the same statistics (a spread off by the
factor the mistake predicts, a mask that keeps ``p_drop`` of the units).
"""

from __future__ import annotations

import copy
import math

import numpy as np

from .. import init, regularization
from .compare import as_array, compare_array, tolerance
from .exercises import F32, F64, Exercise, Mistake, _normal

# Enough weights per case that the sample standard deviation is within about 1.5 % of the truth.
INIT_SHAPES = [(64, 48), (100, 30), (20, 200)]
INIT_SHAPES_HIDDEN = [(300, 10), (12, 400), (50, 50), (784, 16)]
SPREAD_TOLERANCE = 0.07  # relative; about 4 standard errors of the two estimates together


def _generator(rng):
    return np.random.default_rng(int(rng.integers(2**32)))


def initializer_cases(with_scale=False):
    def make(rng, hidden):
        cases = []
        for n_in, n_out in INIT_SHAPES + (INIT_SHAPES_HIDDEN if hidden else []):
            args = (n_in, n_out, _generator(rng))
            cases.append(args + (float(rng.choice([0.01, 0.1, 1.0, 0.05])),) if with_scale else args)
        return cases

    return make


def _draws_from_the_given_rng(args, again) -> bool:
    """Whether the learner's function takes its random numbers from the generator it is given
    (argument 3 in every case here): one that the call leaves in the same state was not used."""
    rng = np.random.default_rng(20261124)
    state = rng.bit_generator.state
    fresh = copy.deepcopy(args)
    again(fresh[:2] + (rng,) + fresh[3:])
    return rng.bit_generator.state != state


NOT_FROM_RNG = ("the rng argument was not used (its state did not change): take every random number from it, "
                "e.g. {example}; a generator of your own gives the same {what} whatever the seed")


# How far the sample excess kurtosis of a case's weights may be from a normal distribution's 0.
# With at least 2500 weights its standard error is at most sqrt(24 / 2500) = 0.1, so a correct normal
# draw fails with negligible probability (6 standard errors), and a uniform one (-1.2) never passes.
KURTOSIS_TOLERANCE = 0.6

IGNORES_THE_STATE = ("two different generator states gave the same {what}: every random number must come from "
                     "the rng argument (e.g. {example}), not from a generator of your own")


def _excess_kurtosis(array) -> float:
    """``E[(x - mean)^4] / Var(x)^2 - 3``: 0 for a normal distribution, -1.2 for a uniform one."""
    x = np.asarray(array, dtype=np.float64).ravel()
    centred = x - x.mean()
    variance = float(np.mean(centred**2))
    return float(np.mean(centred**4)) / variance**2 - 3.0 if variance > 0 else 0.0


def _ignores_the_generator_state(args, again) -> bool:
    """Whether generators in two different states give the learner's function the same output
    (it touched ``rng`` but drew from a generator of its own). For dropout, the masks are compared."""
    outputs = []
    for seed in (1, 2):
        fresh = copy.deepcopy(args)
        output = again(fresh[:2] + (np.random.default_rng(seed),) + fresh[3:])
        outputs.append(as_array(output[1] if isinstance(output, tuple) else output))
    return outputs[0] is not None and outputs[1] is not None and np.array_equal(outputs[0], outputs[1])


def _spread(array) -> float:
    return float(np.std(as_array(array)))


def _reference_spread(reference, args) -> float:
    """The reference's standard deviation over five draws of this shape (less noisy than one)."""
    rng = np.random.default_rng(12345)
    return float(np.std([reference(*(args[:2] + (rng,) + args[3:])) for _ in range(5)]))


def judge_initializer(reference):
    def judge(output, expected, args, again):
        weights = as_array(output)
        if weights is None or weights.shape != expected.shape or weights.dtype != expected.dtype:
            return compare_array("W", output, expected)  # says which of type, shape, dtype is off
        if np.allclose(weights, expected, rtol=1e-7, atol=1e-12):
            return None
        if not np.isfinite(weights).all():
            return "W contains NaN or infinity"
        if not np.array_equal(as_array(again()), weights):
            return ("two generators in the same state gave different weights: draw from the rng argument "
                    "(rng.standard_normal or rng.normal), not from np.random")
        if not _draws_from_the_given_rng(args, again):
            return NOT_FROM_RNG.format(example="rng.standard_normal((n_in, n_out))", what="weights")
        if _ignores_the_generator_state(args, again):
            return IGNORES_THE_STATE.format(what="weights", example="rng.standard_normal((n_in, n_out))")
        if np.unique(weights, axis=1).shape[1] < weights.shape[1] or np.unique(weights, axis=0).shape[0] < weights.shape[0]:
            return ("some columns of W are equal (or some rows): units that start with equal weights get equal "
                    "updates and stay copies of each other; draw every entry independently")
        wanted = _reference_spread(reference, args)
        got = _spread(weights)
        if abs(got / wanted - 1) > SPREAD_TOLERANCE:
            return f"the weights' standard deviation is {got:.4g}, but it should be about {wanted:.4g}"
        if abs(float(weights.mean())) > 5 * wanted / math.sqrt(weights.size):
            return f"the weights' mean is {float(weights.mean()):.3g}, but it should be close to 0"
        kurtosis = _excess_kurtosis(weights)
        if abs(kurtosis) > KURTOSIS_TOLERANCE:
            return (f"the weights do not look normally distributed: their excess kurtosis is {kurtosis:.2f}, where a "
                    f"normal distribution has 0 (a uniform distribution has -1.2); the notebook asks for normal draws, "
                    "rng.standard_normal or rng.normal")
        return None

    return judge


def same_spread(output, wrong) -> bool:
    """Whether the learner's weights have the spread that a known mistake gives."""
    a, b = as_array(output), as_array(wrong)
    if a is None or b is None or a.shape != b.shape:
        return False
    wanted = _spread(b)
    return wanted > 0 and abs(_spread(a) / wanted - 1) <= SPREAD_TOLERANCE


def _scaled(std):
    """An initializer with the standard deviation ``std(n_in, n_out[, scale])``, for known mistakes."""
    return lambda n_in, n_out, rng, *scale: rng.standard_normal((n_in, n_out)) * std(n_in, n_out, *scale)


# ----------------------------------------------------------------- dropout

DROPOUT_SPECS = [((50, 40), F64, 0.5), ((40, 60), F32, 0.2), ((30, 70), F64, 0.8), ((3, 4), F64, 0.0)]
DROPOUT_HIDDEN = [((100, 30), F32, 0.1), ((25, 80), F64, 0.65), ((60, 60), F64, 0.35)]


def dropout_cases(rng, hidden):
    return [(_normal(rng, shape, dtype), p, _generator(rng)) for shape, dtype, p in DROPOUT_SPECS + (DROPOUT_HIDDEN if hidden else [])]


def judge_dropout(output, expected, args, again):
    A, p_drop, _ = args
    if not isinstance(output, tuple) or len(output) != 2:
        got = f"a tuple of {len(output)}" if isinstance(output, tuple) else type(output).__name__
        return f"your function should return a tuple (A_out, mask), but it returned {got}"
    for name, value in zip(("A_out", "mask"), output):
        array = as_array(value)
        if name == "mask" and array is not None and array.dtype == np.bool_:
            return (f"mask should have dtype {A.dtype}, but yours is bool: a comparison gives booleans; convert "
                    "the mask with .astype(A.dtype)")
        if array is None or array.shape != A.shape or array.dtype != A.dtype:
            return compare_array(name, value, np.zeros_like(A))
    A_out, mask = (as_array(v) for v in output)
    if not np.isin(mask, (0, 1)).all():
        return "mask should hold only 0 (dropped) and 1 (kept)"
    rtol, atol = tolerance(A.dtype)
    if not np.allclose(A_out, A * mask / (1 - p_drop), rtol=rtol, atol=atol):
        return "A_out should be A * mask / (1 - p_drop): the kept units, scaled up so that the mean is unchanged"
    first = as_array(again()[1])
    if not np.array_equal(first, mask):
        return ("two generators in the same state gave different masks: draw from the rng argument "
                "(rng.random), not from np.random")
    if p_drop > 0 and not _draws_from_the_given_rng(args, again):  # with nothing to drop, no draw is needed
        return NOT_FROM_RNG.format(example="rng.random(A.shape)", what="mask")
    if p_drop > 0 and _ignores_the_generator_state(args, again):
        return IGNORES_THE_STATE.format(what="mask", example="rng.random(A.shape)")
    if p_drop > 0 and _same_count_every_time(args, again):
        return (f"the mask keeps exactly {int(mask.sum())} of {mask.size} units on every draw: each unit must be kept "
                "independently with probability 1 - p_drop (rng.random(A.shape) >= p_drop), so the number kept varies")
    kept = float(mask.mean())
    spread = math.sqrt(max(p_drop * (1 - p_drop), 1e-12) / mask.size)
    if abs(kept - (1 - p_drop)) > 5 * spread + 1e-12:
        return f"the mask keeps {kept:.1%} of the units, but with p_drop = {p_drop} it should keep about {1 - p_drop:.0%}"
    return None


def _same_count_every_time(args, again, draws=8) -> bool:
    """Whether the mask keeps the same number of units from generators in ``draws`` different states.
    Independent draws of even 12 units (the smallest case) all agree with probability below 1e-3;
    an exact kept fraction (a shuffled list of ones and zeros) agrees every time."""
    counts = set()
    for seed in range(draws):
        fresh = copy.deepcopy(args)
        counts.add(float(as_array(again(fresh[:2] + (np.random.default_rng(100 + seed),))[1]).sum()))
    return len(counts) == 1


def _kept_fraction(args, output, fraction) -> bool:
    A, p_drop, _ = args
    try:
        mask = as_array(output[1]).astype(np.float64)
    except (TypeError, IndexError, AttributeError):
        return False
    spread = math.sqrt(max(p_drop * (1 - p_drop), 1e-12) / mask.size)
    return p_drop != 0.5 and abs(float(mask.mean()) - fraction(p_drop)) <= 5 * spread


def _scaled_by(args, output, factor) -> bool:
    """Whether ``A_out = A * mask * factor(p_drop)`` with a 0/1 mask."""
    A, p_drop, _ = args
    try:
        A_out, mask = (as_array(v).astype(np.float64) for v in output)
    except (TypeError, ValueError, AttributeError):
        return False
    return (p_drop > 0 and A_out.shape == A.shape and mask.shape == A.shape and np.isin(mask, (0, 1)).all()
            and np.allclose(A_out, A * mask * factor(p_drop), rtol=1e-4, atol=1e-6))


def _scaled_mask(args, output) -> bool:
    """Whether the mask holds 0 and 1 / (1 - p_drop): the scale folded into the mask that was returned."""
    A, p_drop, _ = args
    try:
        mask = as_array(output[1]).astype(np.float64)
    except (TypeError, ValueError, AttributeError, IndexError):
        return False
    return p_drop > 0 and bool(np.isclose(mask, 0).any()) and np.isclose(mask, 0).sum() < mask.size and \
        bool(np.all(np.isclose(mask, 0) | np.isclose(mask, 1 / (1 - p_drop), rtol=1e-4)))


DRAW_EXERCISES = [
    Exercise("normal", init.normal, initializer_cases(with_scale=True), outputs=("W",),
             judge=judge_initializer(init.normal), match=same_spread, mistakes=(
        Mistake("the standard deviation is scale itself; multiplying by scale**2 makes it far too small",
                _scaled(lambda n_in, n_out, scale: scale**2)),
        Mistake("forgot to multiply by scale: standard normal draws have standard deviation 1",
                _scaled(lambda n_in, n_out, scale: 1.0)),
        Mistake("divided by scale instead of multiplying", _scaled(lambda n_in, n_out, scale: 1 / scale)),
    )),
    Exercise("xavier", init.xavier, initializer_cases(), outputs=("W",), judge=judge_initializer(init.xavier),
             match=same_spread, mistakes=(
        Mistake("Xavier's standard deviation is sqrt(2 / (n_in + n_out)); sqrt(1 / n_in) uses only the inputs",
                _scaled(lambda n_in, n_out: math.sqrt(1 / n_in))),
        Mistake("2 / (n_in + n_out) is the variance: the standard deviation is its square root",
                _scaled(lambda n_in, n_out: 2 / (n_in + n_out))),
        Mistake("the factor 2 is missing: std = sqrt(2 / (n_in + n_out))",
                _scaled(lambda n_in, n_out: math.sqrt(1 / (n_in + n_out)))),
        Mistake("that is He's scale sqrt(2 / n_in); Xavier averages fan-in and fan-out: sqrt(2 / (n_in + n_out))",
                _scaled(lambda n_in, n_out: math.sqrt(2 / n_in))),
    )),
    Exercise("he", init.he, initializer_cases(), outputs=("W",), judge=judge_initializer(init.he),
             match=same_spread, mistakes=(
        Mistake("He's standard deviation is sqrt(2 / n_in): the factor 2 makes up for ReLU zeroing half the inputs",
                _scaled(lambda n_in, n_out: math.sqrt(1 / n_in))),
        Mistake("2 / n_in is the variance: the standard deviation is its square root",
                _scaled(lambda n_in, n_out: 2 / n_in)),
        Mistake("He scales by the fan-in n_in (the number of inputs each unit sums), not n_out",
                _scaled(lambda n_in, n_out: math.sqrt(2 / n_out))),
        Mistake("that is Xavier's scale; He uses sqrt(2 / n_in)",
                _scaled(lambda n_in, n_out: math.sqrt(2 / (n_in + n_out)))),
    )),
    Exercise("dropout_forward", regularization.dropout_forward, dropout_cases, outputs=("A_out", "mask"),
             judge=judge_dropout, mistakes=(
        Mistake("returned the scaled mask: the mask holds 0 and 1, and the division by (1 - p_drop) belongs to "
                "A_out only", symptom=_scaled_mask),
        Mistake("no rescaling: inverted dropout divides the kept activations by (1 - p_drop)",
                symptom=lambda args, out: _scaled_by(args, out, lambda p: 1.0)),
        Mistake("multiplied by (1 - p_drop) instead of dividing by it",
                symptom=lambda args, out: _scaled_by(args, out, lambda p: 1 - p)),
        Mistake("the mask is inverted: it keeps a unit with probability p_drop instead of 1 - p_drop "
                "(keep where rng.random(shape) >= p_drop)", symptom=lambda args, out: _kept_fraction(args, out, lambda p: p)),
    )),
]

__all__ = ["DRAW_EXERCISES"]

EXERCISES = DRAW_EXERCISES  # what mlpcore.grading.registry loads from this source
