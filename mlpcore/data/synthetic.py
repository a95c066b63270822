"""Toy 2-D problems a small MLP can learn and a plot can show: spirals, moons and XOR."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..rng import as_generator


def _check_int(value, name, minimum, why=""):
    """Raise a learner-readable error unless ``value`` is an int >= ``minimum``."""
    # bool is a subclass of int, but True samples is certainly a mistake.
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} should be a whole number, but got {type(value).__name__} ({value!r})")
    if value < minimum:
        raise ValueError(f"{name} should be at least {minimum}{why}, but got {value}")


def _check_noise(noise):
    """Raise unless ``noise`` is a finite real number >= 0."""
    if not isinstance(noise, numbers.Real) or isinstance(noise, bool):
        raise TypeError(f"noise should be a number >= 0, but got {type(noise).__name__} ({noise!r})")
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise should be a finite number >= 0, but got {noise}")


def _split_evenly(n_samples, n_parts):
    """How many samples each part gets when ``n_samples`` are shared out evenly.

    Returns
    -------
    counts : ndarray of int, shape (n_parts,)
        The first ``n_samples % n_parts`` parts get one extra sample.
    """
    counts = np.full(n_parts, n_samples // n_parts)
    counts[: n_samples % n_parts] += 1
    return counts


def _shuffled(X, y, rng):
    """``X`` as float32 and ``y`` as int64, both in the same random order.

    The generators build the samples class by class; shuffling stops a model
    trained on the first rows from seeing only one class.
    """
    order = rng.permutation(len(y))
    return X[order].astype(np.float32), y[order].astype(np.int64)


def make_spirals(n_samples=300, n_classes=3, noise=0.2, seed=0):
    """Interleaved spiral arms, one arm per class.

    Each arm winds once around the origin, its radius growing from 0.1 to 1.
    The arms start at evenly spaced angles, so neighbouring arms are
    ``1 / n_classes`` apart along the radius.

    Parameters
    ----------
    n_samples : int, default 300
        Total number of points, shared as evenly as possible between classes.
    n_classes : int, default 3
        Number of arms (classes), at least 2.
    noise : float, default 0.2
        Standard deviation, in radians, of gaussian noise added to each point's
        angle. The noise moves points along the circle they lie on, so every
        point stays inside the unit disc.
    seed : int, numpy.random.Generator or None, default 0
        Source of randomness; the same seed gives the same data.

    Returns
    -------
    X : ndarray of float32, shape (n_samples, 2)
        Point coordinates, within [-1, 1].
    y : ndarray of int64, shape (n_samples,)
        Arm index, 0 .. n_classes - 1.
    """
    _check_int(n_classes, "n_classes", 2)
    _check_int(n_samples, "n_samples", n_classes, why=f" (one per class, n_classes={n_classes})")
    _check_noise(noise)
    rng = as_generator(seed)

    X_parts, y_parts = [], []
    for k, count in enumerate(_split_evenly(n_samples, n_classes)):
        t = np.linspace(0.0, 1.0, count)  # position along the arm
        # Starting at radius 0.1 rather than 0 keeps the arms apart near the
        # centre, where they would otherwise all meet in one point.
        radius = 0.1 + 0.9 * t
        angle = 2 * np.pi * (k / n_classes + t) + noise * rng.standard_normal(count)
        X_parts.append(np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]))
        y_parts.append(np.full(count, k))
    return _shuffled(np.concatenate(X_parts), np.concatenate(y_parts), rng)


def make_moons(n_samples=200, noise=0.1, seed=0):
    """Two interleaving half circles (2 classes).

    Class 0 is the upper half of a unit circle, class 1 the lower half of a
    unit circle shifted right and down so that each half reaches into the
    other's hollow. The whole picture is centred on the origin.

    Parameters
    ----------
    n_samples : int, default 200
        Total number of points, at least 2; class 0 gets the extra one when
        the number is odd.
    noise : float, default 0.1
        Standard deviation of gaussian noise added to each coordinate.
    seed : int, numpy.random.Generator or None, default 0
        Source of randomness; the same seed gives the same data.

    Returns
    -------
    X : ndarray of float32, shape (n_samples, 2)
        Point coordinates; without noise x lies in [-1.5, 1.5], and y in
        [-0.75, 0.75].
    y : ndarray of int64, shape (n_samples,)
        Which half circle (0 or 1) the point was drawn from.
    """
    _check_int(n_samples, "n_samples", 2, why=" (one per class)")
    _check_noise(noise)
    rng = as_generator(seed)

    n_upper, n_lower = _split_evenly(n_samples, 2)
    upper = np.linspace(0.0, np.pi, n_upper)
    lower = np.linspace(0.0, np.pi, n_lower)
    X = np.concatenate([
        np.column_stack([np.cos(upper), np.sin(upper)]),
        np.column_stack([1.0 - np.cos(lower), 0.5 - np.sin(lower)]),
    ])
    # Centring on the origin (the moons span x in [-1, 2], y in [-0.5, 1])
    # gives inputs with mean near zero, which is what an MLP trains best on.
    X -= [0.5, 0.25]
    X += noise * rng.standard_normal(X.shape)
    y = np.concatenate([np.zeros(n_upper), np.ones(n_lower)])
    return _shuffled(X, y, rng)


def make_xor(n_samples=200, noise=0.1, seed=0):
    """Four gaussian clusters at (+-1, +-1), labelled by XOR of the signs.

    A point's label is 1 when its two coordinates have different signs and 0
    when they have the same sign, so no straight line separates the classes.

    Parameters
    ----------
    n_samples : int, default 200
        Total number of points, at least 2, shared as evenly as possible
        between the four clusters (and so between the two classes).
    noise : float, default 0.1
        Standard deviation of each cluster. Below about 0.3 practically no
        point crosses an axis, so the classes are separable.
    seed : int, numpy.random.Generator or None, default 0
        Source of randomness; the same seed gives the same data.

    Returns
    -------
    X : ndarray of float32, shape (n_samples, 2)
        Point coordinates.
    y : ndarray of int64, shape (n_samples,)
        The label of the cluster the point was drawn from: 1 for centres
        (-1, 1) and (1, -1), 0 for (1, 1) and (-1, -1).
    """
    _check_int(n_samples, "n_samples", 2, why=" (one per class)")
    _check_noise(noise)
    rng = as_generator(seed)

    # Clusters alternate between the classes, so when the samples do not
    # divide by 4 the extra ones still go to both classes in turn.
    centres = np.array([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])
    labels = np.array([0, 1, 0, 1])
    counts = _split_evenly(n_samples, 4)
    X = np.repeat(centres, counts, axis=0) + noise * rng.standard_normal((n_samples, 2))
    y = np.repeat(labels, counts)
    return _shuffled(X, y, rng)
