"""The table that drives every check: exercise name -> cases, reference, outputs, known mistakes.

A case is a tuple of arguments, drawn at random (never hard-coded numbers) in
several shapes: a batch of one, non-square and wide matrices, float64 and
float32. Hidden checks add more and harder cases. A known mistake is either a
wrong variant of the formula (if the learner's output equals the variant's, the
mistake is named) or a symptom seen in the output (such as NaN where the
reference is finite).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from collections.abc import Callable

import numpy as np

from .. import activations, gradcheck, layers, losses, regularization, shapes
from ..guard import reference
from .compare import compare_float, tolerance


@dataclass(frozen=True)
class Mistake:
    """A common mistake: ``wrong(*args)`` computes what the mistaken code returns (``variants``: the
    same mistake written in other ways a learner writes it, such as an update in place that raises
    where ``wrong`` builds a new array), or ``symptom(args, output)`` recognises it in the learner's
    output."""

    hint: str
    wrong: Callable | None = None
    symptom: Callable | None = None
    variants: tuple = ()

    @property
    def formulas(self) -> tuple:
        return (self.wrong, *self.variants) if self.wrong is not None else self.variants


@dataclass(frozen=True)
class Exercise:
    """One graded function. By default a case is checked by calling ``fn(*args)`` and comparing
    with ``reference(*args)`` (type, shape, dtype, values); ``run``, ``judge`` and ``match``
    change that for exercises that are classes, random, or plain Python values."""

    name: str
    reference: Callable
    cases: Callable  # (rng, hidden) -> list of argument tuples
    outputs: tuple = ("the result",)
    mistakes: tuple = field(default_factory=tuple)
    # (fn, args) -> output: how a learner's function or class is exercised on one case.
    run: Callable | None = None
    # (output, expected, args, again) -> problem or None, replacing the comparison with the
    # reference; ``again()`` runs the learner's code once more on a fresh copy of the case, and
    # ``again(other_args)`` on other arguments.
    judge: Callable | None = None
    # (output, mistaken_output) -> whether a known mistake explains the output.
    match: Callable | None = None
    # Names of the case's arguments in messages (default: the reference's parameter names).
    argument_names: tuple | None = None
    # For exercises whose point is computing without overflow: the learner's code runs with
    # NumPy's overflow turned into an error, and this names the mistake. Without it an overflow
    # can go unseen, because the answer after one may be right (1 / (1 + inf) is 0).
    overflow_hint: str | None = None
    # (arguments before the call, the same after it) -> the likely mistake of a function that
    # changed its input, or None.
    mutation_hint: Callable | None = None


# ------------------------------------------------------------------ case makers

F64, F32 = np.float64, np.float32


def _normal(rng, shape, dtype, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


def elementwise_cases(n_arrays, scale=2.0, with_zeros=False, large=None, any_shape=False):
    """Cases of ``n_arrays`` same-shaped arrays; ``large`` adds a case of values that big; ``any_shape``
    a vector and a 3-D array, for functions whose text promises any shape."""

    def make(rng, hidden):
        specs = [((1, 3), F64), ((4, 5), F64), ((3, 4), F32)]
        if any_shape:
            specs += [((5,), F32), ((2, 3, 4), F64)]
        if hidden:
            specs += [((7, 2), F64), ((2, 9), F32), ((6, 6), F64)]
        cases = [tuple(_normal(rng, shape, dtype, scale) for _ in range(n_arrays)) for shape, dtype in specs]
        if large is not None:
            # Row maxima far apart: shifting by the whole matrix's maximum instead of each row's
            # leaves the second row with nothing but exp(-1000) = 0. In float32 too, where exp
            # overflows beyond 88 (a clip at +-500 is safe only in float64).
            values = np.array([[-large, 0.5, large], [-large, -large / 2, -1.0]])
            for dtype in (F64, F32):
                cases.append(tuple(values.astype(dtype) if i == n_arrays - 1 else _normal(rng, values.shape, dtype)
                                   for i in range(n_arrays)))
        if with_zeros:
            arrays = [_normal(rng, (3, 5), F64) for _ in range(n_arrays)]
            arrays[-1][:, ::2] = 0.0  # exact zeros in the last argument (Z): where derivatives have a convention
            cases.append(tuple(arrays))
        return cases

    return make


DENSE_SHAPES = [(1, 4, 3, F64), (5, 3, 2, F64), (4, 6, 6, F32)]
DENSE_HIDDEN = [(8, 7, 7, F64), (2, 20, 13, F64), (16, 5, 5, F32), (3, 1, 4, F64)]


def dense_forward_cases(rng, hidden):
    return [(_normal(rng, (b, i), d), _normal(rng, (i, o), d), _normal(rng, (o,), d))
            for b, i, o, d in DENSE_SHAPES + (DENSE_HIDDEN if hidden else [])]


def dense_backward_cases(rng, hidden):
    return [(_normal(rng, (b, o), d), _normal(rng, (b, i), d), _normal(rng, (i, o), d))
            for b, i, o, d in DENSE_SHAPES + (DENSE_HIDDEN if hidden else [])]


def label_cases(kind):
    """(scores, labels) cases; ``kind`` "probabilities" gives softmax rows, "logits" raw scores."""

    def make(rng, hidden):
        specs = [(1, 3, F64), (6, 4, F64), (5, 10, F32)]
        if hidden:
            specs += [(9, 2, F64), (32, 10, F32), (4, 7, F64)]
        cases = []
        for batch, n_classes, dtype in specs:
            scores = _normal(rng, (batch, n_classes), dtype, 3.0)
            if kind == "probabilities":
                scores = activations.softmax(scores)
            cases.append((scores, rng.integers(0, n_classes, batch)))
        if kind == "probabilities":  # a true class with probability exactly 0: log(0) needs the guard
            P = activations.softmax(_normal(rng, (4, 3), F64, 3.0))
            y = rng.integers(0, 3, 4)
            P[1] = 0.0
            P[1, (y[1] + 1) % 3] = 1.0
            cases.append((P, y))
        if kind == "logits":  # large scores: exp overflows without the max shift, and the last row's
            # maximum is far below the others' (a shift by the whole matrix's maximum leaves it all zeros)
            cases.append((np.array([[800.0, 0.0, -800.0], [1.0, 1000.0, 2.0], [-1000.0, -999.0, -998.0]]),
                          np.array([0, 2, 1])))
        return cases

    return make


def l2_cases(rng, hidden):
    shapes = [(3, 4, 2, F64), (4, 3, 3, F32)] + ([(5, 6, 3, F64), (2, 9, 4, F32)] if hidden else [])
    cases = []
    for n_in, n_hidden, n_out, dtype in shapes:
        params = {"W1": _normal(rng, (n_in, n_hidden), dtype), "b1": _normal(rng, (n_hidden,), dtype),
                  "W2": _normal(rng, (n_hidden, n_out), dtype), "b2": _normal(rng, (n_out,), dtype)}
        cases += [(params, 0.1), (params, 0.003)]
    return cases


def dropout_backward_cases(rng, hidden):
    specs = [((4, 5), F64, 0.5), ((2, 3), F32, 0.2)] + ([((8, 6), F64, 0.8), ((1, 7), F32, 0.1)] if hidden else [])
    return [(_normal(rng, shape, dtype), (rng.random(shape) >= p).astype(dtype), p) for shape, dtype, p in specs]


def relative_error_cases(rng, hidden):
    cases = []
    for shape in [(5,), (3, 4)] + ([(2, 2, 3), (7, 1)] if hidden else []):
        a = rng.standard_normal(shape)
        # nearly equal, parallel, and unrelated (where ||a + b|| differs from ||a|| + ||b||)
        cases += [(a, a + 1e-3 * rng.standard_normal(shape)), (a, 2 * a), (a, rng.standard_normal(shape))]
    cases.append((np.zeros((2, 3)), np.zeros((2, 3))))  # both zero: the notebook asks for 0.0
    return cases


def wiggly(x):
    """A test function for gradient checks with a non-zero third derivative everywhere."""
    return float(np.sum(x**3) + np.sum(np.sin(3 * x)))


def wiggly_in_float64(x):
    """:func:`wiggly` computed in float64 whatever x's dtype, so that a float32 case differs from the
    reference only by how x's nudged entries round."""
    return wiggly(np.asarray(x, dtype=F64))


def numerical_gradient_cases(rng, hidden):
    shapes = [(3,), (2, 3)] + ([(4, 2), (1, 5)] if hidden else [])
    cases = [(wiggly, rng.standard_normal(shape), eps) for shape in shapes for eps in (1e-3, 1e-4)]
    # float32 in, float32 out; a large eps, because float32 keeps only about 7 digits of x + eps
    return cases + [(wiggly_in_float64, rng.standard_normal((2, 2)).astype(F32), 1e-2)]


def layer_sizes_cases(rng, hidden):
    """Lists of layer sizes: the 4-3-2 network, a single layer, and random deeper ones."""
    cases = [([4, 3, 2],), ([2, 5],), ([int(n) for n in rng.integers(1, 20, 4)],)]
    if hidden:
        cases += [([784, 256, 128, 10],), ([int(n) for n in rng.integers(1, 50, 6)],), ([3, 3, 3],)]
    return cases


def matmul_shape_cases(rng, hidden):
    m, k, n = (int(v) for v in rng.integers(2, 9, 3))
    cases = [((m, k), (k, n)), ((m, k), (k + 1, n)), ((1, k), (k, 1)), ((k, m), (k, n))]
    if hidden:
        cases += [((n, m), (m, k)), ((5, 5), (5, 5)), ((m, 1), (1, n)), ((k, n), (m, k))]
    return cases


def add_bias_cases(rng, hidden):
    specs = [(3, 3, F64), (4, 2, F64), (1, 5, F32)] + ([(7, 3, F64), (2, 6, F32)] if hidden else [])
    return [(_normal(rng, (batch, n), dtype), _normal(rng, (n,), dtype)) for batch, n, dtype in specs]


def activation_bytes_cases(rng, hidden):
    cases = [([4, 3, 2], 1, "float64"), ([64, 32, 10], 128, "float32"), ([784, 256, 128, 10], 32, np.float32)]
    if hidden:
        cases += [([10, 7, 2], 5, np.dtype("float64")), ([3, 100, 100, 4], 512, "float32")]
    return cases


def one_hot_cases(rng, hidden):
    """Labels, some of which leave the top classes unused (so n_classes cannot be read off y)."""
    specs = [(5, 3), (1, 4), (8, 10)] + ([(12, 2), (30, 7)] if hidden else [])
    return [(rng.integers(0, max(n_classes - 1, 1), batch), n_classes) for batch, n_classes in specs]


# --------------------------------------------------------------------- helpers


# Guarded like the reference: with every switch off it is a plain-NumPy answer to an exercise.
@reference
def _sigmoid(Z):
    return 1.0 / (1.0 + np.exp(-Z))


def _overflowed(args, output):
    values = output[1] if isinstance(output, tuple) else output
    try:
        return not np.all(np.isfinite(np.asarray(values, dtype=float)))
    except (TypeError, ValueError):
        return False


def _shifted_by_the_matrix_maximum(args, output):
    """Symptom: exactly the rows whose maximum lies so far below the whole matrix's maximum that
    ``exp(row max - matrix max)`` underflows to 0 came out NaN or infinite (for the fused loss,
    in dlogits). A shift by each row's own maximum leaves every row with an exp of 1."""
    Z = np.asarray(args[0])
    values = output[1] if isinstance(output, tuple) else output
    try:
        values = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return False
    if Z.ndim != 2 or values.shape != Z.shape:
        return False
    with np.errstate(under="ignore"):
        far_below = np.exp(Z.max(axis=1) - Z.max()) == 0
    broken = ~np.isfinite(values).all(axis=1)
    return bool(broken.any()) and bool(np.array_equal(broken, far_below))


MATRIX_MAXIMUM = ("subtracted the maximum of the whole matrix, not each row's: a row whose scores all lie "
                  "far below it gets exp(...) = 0 everywhere; take the row maxima, .max(axis=1, keepdims=True)")


def exact_value(output, expected, args, again) -> str | None:
    """Judge for exercises whose answer is a plain Python value (a shape, a count). A count is an int:
    ``2048.0`` equals ``2048`` in Python, but the notebooks ask for a whole number of bytes or parameters."""
    if isinstance(expected, int) and (not isinstance(output, numbers.Integral) or isinstance(output, bool)):
        return (f"the answer should be an int ({expected!r}), but yours is {output!r} of type "
                f"{type(output).__name__}; a product of ints is an int, and / always gives a float (use // or int(...))")
    return None if same_value(output, expected) else f"the answer should be {expected!r}, but yours is {output!r}"


def float_value(output, expected, args, again) -> str | None:
    """Judge for exercises whose text asks for a Python ``float``."""
    return compare_float("the result", output, float(expected))


# A true class's probability of exactly 0 must cost at least this much once guarded: any guard
# up to 1e-6 does (the notebook's np.finfo(P.dtype).tiny costs about 708 in float64).
GUARDED_LOG_ZERO = -math.log(1e-6)


def cross_entropy_value(output, expected, args, again) -> str | None:
    """A Python float equal to the reference's, except where a true class has probability 0: there
    any guard that keeps the loss finite and large is accepted."""
    P, y = args
    picked = P[np.arange(len(y)), y]
    problem = compare_float("the loss", output, float(expected))
    if problem is None or (picked > 0).all() or not isinstance(output, float) or not math.isfinite(output):
        return problem
    floor = (float(-np.log(picked[picked > 0]).sum()) + GUARDED_LOG_ZERO * int((picked == 0).sum())) / len(y)
    if output >= floor:
        return None
    return (f"the loss is {output:.6g}, but a true class with probability 0 must cost a large loss: at least "
            f"{floor:.6g} here (the reference gives {float(expected):.6g})")


def _restored_by_arithmetic(before, after) -> str | None:
    """Mutation hint for numerical_gradient: x came back only up to rounding."""
    x_before, x_after = before[1], after[1]
    if isinstance(x_after, np.ndarray) and x_after.shape == x_before.shape and \
            np.allclose(x_after, x_before, *tolerance(x_before.dtype)):
        return ("x was put back by arithmetic (x[i] += eps, then x[i] -= eps), which leaves rounding errors: "
                "save the value and assign it back (old = x[i] first, x[i] = old at the end)")
    return None


def same_value(a, b) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # e.g. comparing with an array
        return False


def _shifted(Z, axis=1):
    return Z - Z.max(axis=axis, keepdims=True)


def _rows_set(y, n_classes):
    Y = np.zeros((len(y), n_classes), dtype=np.float32)
    Y[y] = 1
    return Y


def _fused(logits, y, scale_gradient=1.0):
    loss, dlogits = losses.softmax_cross_entropy(logits, y)
    return loss, dlogits * scale_gradient


# ----------------------------------------------------------------------- table

DENSE_FORWARD_MISTAKES = (
    Mistake("forgot to add the bias b", lambda X, W, b: X @ W),
    Mistake("transposed weights: W has shape (n_in, n_out), so the product is X @ W",
            lambda X, W, b: X @ W.T + b),
    Mistake("subtracted the bias instead of adding it", lambda X, W, b: X @ W - b),
    Mistake("the result is transposed: with X (batch, n_in) and W (n_in, n_out), Z = X @ W + b "
            "has shape (batch, n_out)", lambda X, W, b: (X @ W + b).T),
    Mistake("b was made a column: broadcasting adds b, shape (n_out,), to every row of X @ W by itself; "
            "a column (n_out, 1) spreads it over the rows instead", lambda X, W, b: X @ W + b[:, None]),
)


FUNCTION_EXERCISES = [
    Exercise("parameter_shapes", shapes.parameter_shapes, layer_sizes_cases, judge=exact_value, match=same_value,
             mistakes=(
        Mistake("W is (n_in, n_out), one row per input and one column per unit; yours are transposed",
                lambda sizes: [((o, i), (o,)) for i, o in zip(sizes[:-1], sizes[1:])]),
        Mistake("b has one entry per unit of the layer (n_out,), not per input",
                lambda sizes: [((i, o), (i,)) for i, o in zip(sizes[:-1], sizes[1:])]),
        Mistake("b is a vector of shape (n_out,), not a column (n_out, 1)",
                lambda sizes: [((i, o), (o, 1)) for i, o in zip(sizes[:-1], sizes[1:])]),
    )),
    Exercise("count_parameters", shapes.count_parameters, layer_sizes_cases, judge=exact_value, match=same_value,
             mistakes=(
        Mistake("the biases are parameters too: add n_out per layer",
                lambda sizes: sum(i * o for i, o in zip(sizes[:-1], sizes[1:]))),
        Mistake("each layer has n_out biases (one per unit), not n_in",
                lambda sizes: sum(i * o + i for i, o in zip(sizes[:-1], sizes[1:]))),
        Mistake("counted the units, not the weights and biases that connect them", lambda sizes: sum(sizes)),
    )),
    Exercise("matmul_shape", shapes.matmul_shape, matmul_shape_cases, judge=exact_value, match=same_value, mistakes=(
        Mistake("when A's columns differ from B's rows the product is undefined: return None",
                lambda a, b: (a[0], b[1])),
        Mistake("the inner dimensions are A's columns and B's rows (shape_a[1] and shape_b[0])",
                lambda a, b: (a[0], b[1]) if a[0] == b[1] else None),
        Mistake("(m, k) @ (k, n) has shape (m, n), the outer dimensions",
                lambda a, b: (a[1], b[0]) if a[1] == b[0] else None),
    )),
    Exercise("add_bias", shapes.add_bias, add_bias_cases, outputs=("Z + b",), mistakes=(
        Mistake("b was added as a column (b[:, None]): it must be added to every row, as Z + b",
                lambda Z, b: Z + b[:, None]),
        Mistake("added the sum of b to every entry instead of b[j] to column j", lambda Z, b: Z + b.sum()),
        Mistake("subtracted the bias instead of adding it", lambda Z, b: Z - b),
    )),
    Exercise("activation_bytes", shapes.activation_bytes, activation_bytes_cases, judge=exact_value, match=same_value,
             mistakes=(
        Mistake("the input X is not a pre-activation: count layer_sizes[1:] only",
                lambda sizes, batch, dtype: batch * sum(sizes) * np.dtype(dtype).itemsize),
        Mistake("counted numbers, not bytes: multiply by the itemsize (4 for float32, 8 for float64)",
                lambda sizes, batch, dtype: batch * sum(sizes[1:])),
        Mistake("a float32 takes 4 bytes and a float64 8: use np.dtype(dtype).itemsize",
                lambda sizes, batch, dtype: batch * sum(sizes[1:]) * 8),
        Mistake("itemsize is in bytes already; multiplying by 8 gives bits",
                lambda sizes, batch, dtype: batch * sum(sizes[1:]) * np.dtype(dtype).itemsize * 8),
    )),
    Exercise("relu", activations.relu, elementwise_cases(1, any_shape=True), mistakes=(
        Mistake("np.minimum instead of np.maximum: ReLU keeps the positive part", lambda Z: np.minimum(Z, 0)),
        Mistake("returned the 0/1 mask (Z > 0) instead of the values max(Z, 0)", lambda Z: (Z > 0).astype(Z.dtype)),
        Mistake("took the absolute value: negative inputs must become 0", lambda Z: np.abs(Z)),
    )),
    Exercise("sigmoid", activations.sigmoid, elementwise_cases(1, large=1e3, any_shape=True), mistakes=(
        Mistake("the sign in the exponent: sigmoid is 1 / (1 + exp(-Z))", lambda Z: 1 / (1 + np.exp(Z))),
        Mistake("tanh is a different function: sigmoid's values lie in (0, 1)", lambda Z: np.tanh(Z)),
        Mistake("the 1 + is missing from the denominator: 1 / exp(-Z) is just exp(Z)", lambda Z: np.exp(Z)),
    ), overflow_hint="exp overflowed for large |Z| (1 / (1 + inf) happens to give 0, but exp(Z) / (1 + exp(Z)) "
                     "gives NaN): use e = exp(-|Z|) in both branches"),
    Exercise("tanh", activations.tanh, elementwise_cases(1, large=1e3, any_shape=True), mistakes=(
        Mistake("that is the sigmoid: tanh's values lie in (-1, 1)", lambda Z: _sigmoid(Z)),
        Mistake("tanh(Z) = 2 * sigmoid(2 Z) - 1, not 2 * sigmoid(Z) - 1", lambda Z: 2 * _sigmoid(Z) - 1),
        Mistake("that is sinh(Z): tanh(Z) = sinh(Z) / cosh(Z)", lambda Z: np.sinh(Z)),
    ), overflow_hint="exp overflowed for large |Z|: use np.tanh, or exponentiate only -2|Z| "
                     "(tanh(Z) = sign(Z) * (1 - exp(-2|Z|)) / (1 + exp(-2|Z|)))"),
    Exercise("softmax", activations.softmax, elementwise_cases(1, large=1e3), mistakes=(
        Mistake("Z.max(axis=1) and .sum(axis=1) give shape (batch,), which broadcasts along the columns, not the "
                "rows: keep the reduced axis with keepdims=True (or index the result with [:, None])",
                lambda Z: np.exp(_shifted(Z)) / np.exp(_shifted(Z)).sum(axis=1)),
        Mistake("normalised over the wrong axis: each row (axis=1) should sum to 1",
                lambda Z: np.exp(Z - Z.max(axis=0)) / np.exp(Z - Z.max(axis=0)).sum(axis=0)),
        Mistake("divided by the sum of the whole matrix instead of each row's sum",
                lambda Z: np.exp(Z - Z.max()) / np.exp(Z - Z.max()).sum()),
        Mistake(MATRIX_MAXIMUM, symptom=_shifted_by_the_matrix_maximum),
        Mistake("exp overflows without the max shift: subtract each row's maximum first", symptom=_overflowed),
    )),
    Exercise("log_softmax", activations.log_softmax, elementwise_cases(1, large=1e3), outputs=("log_P",), mistakes=(
        Mistake("Z.max(axis=1) and .sum(axis=1) give shape (batch,), which does not line up with the rows of Z: "
                "keep the reduced axis with keepdims=True, so that they stay columns of shape (batch, 1)",
                lambda Z: (Z - Z.max(axis=1)) - np.log(np.exp(Z - Z.max(axis=1)).sum(axis=1)),
                variants=(lambda Z: _shifted(Z) - np.log(np.exp(_shifted(Z)).sum(axis=1)),)),
        Mistake("forgot to subtract the maximum from Z itself: log_softmax = Z - m - log(sum(exp(Z - m)))",
                lambda Z: Z - np.log(np.exp(_shifted(Z)).sum(axis=1, keepdims=True))),
        Mistake("normalised over the wrong axis: each row (axis=1) is one sample",
                lambda Z: _shifted(Z, 0) - np.log(np.exp(_shifted(Z, 0)).sum(axis=0, keepdims=True))),
        Mistake("that is the softmax itself: take its logarithm with the log-sum-exp trick",
                lambda Z: np.exp(_shifted(Z)) / np.exp(_shifted(Z)).sum(axis=1, keepdims=True)),
        Mistake(MATRIX_MAXIMUM, symptom=_shifted_by_the_matrix_maximum),
        Mistake("not finite for large scores: np.log(softmax(Z)) underflows to log(0) and an unshifted exp "
                "overflows; compute Z - m - log(sum(exp(Z - m))) with m the row maximum", symptom=_overflowed),
    )),
    Exercise("relu_backward", activations.relu_backward, elementwise_cases(2, with_zeros=True), mistakes=(
        Mistake("returned the derivative mask without multiplying by dA (chain rule: dZ = dA * relu'(Z))",
                lambda dA, Z: (Z > 0).astype(dA.dtype)),
        Mistake("multiplied by Z instead of by the 0/1 derivative of ReLU", lambda dA, Z: dA * Z),
        Mistake("multiplied by relu(Z) instead of by its 0/1 derivative", lambda dA, Z: dA * np.maximum(Z, 0)),
        Mistake("ReLU's derivative at Z = 0 is taken as 0 here (use Z > 0, not Z >= 0)", lambda dA, Z: dA * (Z >= 0)),
    )),
    Exercise("sigmoid_backward", activations.sigmoid_backward, elementwise_cases(2), mistakes=(
        Mistake("derivative taken at the activation: Z is the pre-activation, so first compute s = sigmoid(Z)",
                lambda dA, Z: dA * Z * (1 - Z)),
        Mistake("missing the factor (1 - s): sigmoid'(Z) = s * (1 - s)", lambda dA, Z: dA * _sigmoid(Z)),
        Mistake("forgot to multiply by dA (chain rule)", lambda dA, Z: _sigmoid(Z) * (1 - _sigmoid(Z))),
        Mistake("derivative taken at the activation: s = sigmoid(Z) already is the activation; do not apply "
                "sigmoid to it again", lambda dA, Z: dA * _sigmoid(_sigmoid(Z)) * (1 - _sigmoid(_sigmoid(Z)))),
    )),
    Exercise("tanh_backward", activations.tanh_backward, elementwise_cases(2), mistakes=(
        Mistake("derivative taken at the activation: Z is the pre-activation, so first compute t = tanh(Z)",
                lambda dA, Z: dA * (1 - Z**2)),
        Mistake("tanh'(Z) = 1 - tanh(Z)**2: the square is missing", lambda dA, Z: dA * (1 - np.tanh(Z))),
        Mistake("forgot to multiply by dA (chain rule)", lambda dA, Z: 1 - np.tanh(Z) ** 2),
        Mistake("derivative taken at the activation: t = tanh(Z) already is the activation; do not apply "
                "tanh to it again", lambda dA, Z: dA * (1 - np.tanh(np.tanh(Z)) ** 2)),
    )),
    Exercise("dense_forward", layers.dense_forward, dense_forward_cases, outputs=("Z",), mistakes=DENSE_FORWARD_MISTAKES),
    Exercise("dense_forward_loops", layers.dense_forward, dense_forward_cases, outputs=("Z",), mistakes=DENSE_FORWARD_MISTAKES),
    Exercise("dense_backward", layers.dense_backward, dense_backward_cases, outputs=("dX", "dW", "db"), mistakes=(
        Mistake("divided db by the batch size: dZ already holds the mean's 1/batch, so db = dZ.sum(axis=0)",
                lambda dZ, X, W: (dZ @ W.T, X.T @ dZ, dZ.mean(axis=0))),
        Mistake("divided dW (and db) by the batch size a second time",
                lambda dZ, X, W: (dZ @ W.T, X.T @ dZ / len(X), dZ.mean(axis=0))),
        Mistake("divided dW by the batch size: dZ already holds the mean's 1/batch, so dW = X.T @ dZ",
                lambda dZ, X, W: (dZ @ W.T, X.T @ dZ / len(X), dZ.sum(axis=0))),
        Mistake("transposed weights in dX: dX = dZ @ W.T", lambda dZ, X, W: (dZ @ W, X.T @ dZ, dZ.sum(axis=0))),
        Mistake("dW should be X.T @ dZ (shape (n_in, n_out)), not its transpose",
                lambda dZ, X, W: (dZ @ W.T, (X.T @ dZ).T, dZ.sum(axis=0))),
    )),
    Exercise("mse", losses.mse, elementwise_cases(2), outputs=("the loss",), judge=float_value, mistakes=(
        Mistake("summed instead of averaging: the loss is the mean over every entry",
                lambda Y_hat, Y: float(np.sum((Y_hat - Y) ** 2))),
        Mistake("averaged over the batch only: divide by the number of entries, Y.size",
                lambda Y_hat, Y: float(np.sum((Y_hat - Y) ** 2) / len(Y))),
        Mistake("a factor 1/2 was added: this course's MSE is mean((Y_hat - Y)**2)",
                lambda Y_hat, Y: float(0.5 * np.mean((Y_hat - Y) ** 2))),
        Mistake("the errors were not squared", lambda Y_hat, Y: float(np.mean(np.abs(Y_hat - Y)))),
        Mistake("took the square root of the mean: that is the root mean squared error (RMSE); the MSE is the "
                "mean of the squared errors itself", lambda Y_hat, Y: float(np.sqrt(np.mean((Y_hat - Y) ** 2)))),
    )),
    Exercise("mse_backward", losses.mse_backward, elementwise_cases(2), outputs=("dY_hat",), mistakes=(
        Mistake("missing the factor 2 from the derivative of the square", lambda Y_hat, Y: (Y_hat - Y) / Y.size),
        Mistake("divided by the batch size instead of the number of entries Y.size",
                lambda Y_hat, Y: 2 * (Y_hat - Y) / len(Y)),
        Mistake("the sign is flipped: the gradient w.r.t. Y_hat is 2 (Y_hat - Y) / size",
                lambda Y_hat, Y: 2 * (Y - Y_hat) / Y.size),
        Mistake("did not divide by the number of entries (the loss is a mean)", lambda Y_hat, Y: 2 * (Y_hat - Y)),
    )),
    Exercise("one_hot", losses.one_hot, one_hot_cases, outputs=("Y",), mistakes=(
        Mistake("Y[y] = 1 sets whole rows; set one entry per row with Y[np.arange(batch), y] = 1",
                lambda y, n: _rows_set(y, n)),
        Mistake("the result is transposed: one row per sample, shape (batch, n_classes)",
                lambda y, n: (y[None, :] == np.arange(n)[:, None]).astype(np.float32)),
        Mistake("use the n_classes argument for the width, not y.max() + 1 (the largest class may be missing from y)",
                lambda y, n: (y[:, None] == np.arange(y.max() + 1)).astype(np.float32)),
    )),
    Exercise("cross_entropy", losses.cross_entropy, label_cases("probabilities"), outputs=("the loss",),
             judge=cross_entropy_value, mistakes=(
        Mistake("the minus sign is missing: log-probabilities are negative, the loss is -mean(log p)",
                lambda P, y: float(np.mean(np.log(P[np.arange(len(y)), y])))),
        Mistake("summed over the batch instead of averaging",
                lambda P, y: float(-np.sum(np.log(P[np.arange(len(y)), y])))),
        Mistake("P[y] picks whole rows: the true class's probability of sample i is P[i, y[i]], "
                "i.e. P[np.arange(batch), y]", lambda P, y: float(-np.mean(np.log(P[y])))),
        Mistake("averaged the one-hot form over all batch * n_classes entries: sum Y * log(P) over the classes "
                "first (only the true class's term is left), then take the mean over the batch",
                lambda P, y: float(-np.mean(np.eye(P.shape[1])[y] * np.log(P)))),
        Mistake("a true class with probability exactly 0 gives log(0) = -inf: raise each picked probability to "
                "at least np.finfo(P.dtype).tiny (np.maximum does it)", symptom=_overflowed),
    )),
    Exercise("softmax_cross_entropy", losses.softmax_cross_entropy, label_cases("logits"),
             outputs=("loss", "dlogits"), mistakes=(
        Mistake("dlogits is not divided by the batch size: the loss is a mean", lambda z, y: _fused(z, y, len(y))),
        Mistake("dlogits is divided by the batch size twice", lambda z, y: _fused(z, y, 1 / len(y))),
        Mistake("the sign of dlogits is flipped: it is (P - Y) / batch", lambda z, y: _fused(z, y, -1.0)),
        Mistake("the loss is summed over the batch: it is the mean, -mean(log P[i, y[i]])",
                lambda z, y: (_fused(z, y)[0] * len(y), _fused(z, y)[1])),
        Mistake("log_P[y] picks whole rows: the true class's log-probability of sample i is log_P[i, y[i]], "
                "i.e. log_P[np.arange(batch), y]",
                lambda z, y: (float(-np.mean(activations.log_softmax(z)[y])), _fused(z, y)[1])),
        Mistake(MATRIX_MAXIMUM, symptom=_shifted_by_the_matrix_maximum),
        Mistake("exp overflows without the max shift: subtract each row's maximum before exp", symptom=_overflowed),
    )),
    Exercise("l2_penalty", regularization.l2_penalty, l2_cases, outputs=("the penalty",), mistakes=(
        Mistake("the factor 1/2 is missing: the penalty is lam / 2 * sum of W**2",
                lambda p, lam: 2 * regularization.l2_penalty(p, lam)),
        Mistake("the biases were penalised too: only the weight matrices (keys starting with W) are",
                lambda p, lam: 0.5 * lam * sum(float(np.sum(v**2)) for v in p.values())),
        Mistake("used the norm instead of the squared norm",
                lambda p, lam: 0.5 * lam * sum(float(np.linalg.norm(v)) for k, v in p.items() if k.startswith("W"))),
    )),
    Exercise("l2_grads", regularization.l2_grads, l2_cases, outputs=("the gradients",), mistakes=(
        Mistake("a factor 2 too many: the derivative of lam / 2 * W**2 is lam * W",
                lambda p, lam: {k: (2 * lam * v if k.startswith("W") else 0 * v) for k, v in p.items()}),
        Mistake("the biases got a gradient too: only weights are penalised, bias gradients are zeros",
                lambda p, lam: {k: lam * v for k, v in p.items()}),
    )),
    Exercise("dropout_backward", regularization.dropout_backward, dropout_backward_cases, outputs=("dA_prev",), mistakes=(
        Mistake("no rescaling: inverted dropout divides by (1 - p_drop) in the backward pass too",
                lambda dA, mask, p: dA * mask),
        Mistake("the mask is inverted: gradient flows only through the units that were kept (mask == 1)",
                lambda dA, mask, p: dA * (1 - mask) / (1 - p)),
        Mistake("multiplied by (1 - p_drop) instead of dividing", lambda dA, mask, p: dA * mask * (1 - p)),
    )),
    Exercise("relative_error", gradcheck.relative_error, relative_error_cases, outputs=("the error",),
             judge=float_value, mistakes=(
        Mistake("not relative: divide ||a - b|| by ||a|| + ||b||", lambda a, b: float(np.linalg.norm(a - b))),
        Mistake("divided by ||a|| only: the denominator is ||a|| + ||b||",
                lambda a, b: float(np.linalg.norm(a - b) / np.linalg.norm(a))),
        Mistake("the largest entry-wise difference is not the relative error of the norms",
                lambda a, b: float(np.max(np.abs(a - b)))),
        Mistake("the denominator is ||a|| + ||b||, not ||a + b|| (they differ unless a and b point the same way)",
                lambda a, b: float(np.linalg.norm(a - b) / np.linalg.norm(a + b))),
        Mistake("when both arrays are all zeros the denominator is 0: return 0.0 in that case (they agree)",
                symptom=lambda args, out: not np.any(args[0]) and not np.any(args[1]) and _overflowed(args, out)),
    )),
    Exercise("numerical_gradient", gradcheck.numerical_gradient, numerical_gradient_cases, outputs=("grad",),
             mutation_hint=_restored_by_arithmetic, mistakes=(
        Mistake("a one-sided difference (f(x + eps) - f(x)) / eps: use the central difference "
                "(f(x + eps) - f(x - eps)) / (2 eps), whose error shrinks like eps**2",
                lambda f, x, eps: _one_sided(f, x, eps)),
        Mistake("divided by eps instead of 2 * eps", lambda f, x, eps: 2 * gradcheck.numerical_gradient(f, x.copy(), eps)),
    )),
]


def _one_sided(f, x, eps):
    x = x.copy()
    base = f(x)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + eps
        grad[index] = (f(x) - base) / eps
        x[index] = old
    return grad

EXERCISES = FUNCTION_EXERCISES  # what mlpcore.grading.registry loads from this source
