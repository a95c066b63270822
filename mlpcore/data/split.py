"""Splitting samples at random into a training part and a test part."""

from __future__ import annotations

import numbers

import numpy as np

from ..rng import as_generator


def _test_count(test_size, n_samples):
    """Turn ``test_size`` (a fraction or a count) into a number of test samples."""
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(
            "test_size should be a fraction between 0 and 1 or a whole number of samples, "
            f"but got {type(test_size).__name__} ({test_size!r})"
        )
    if isinstance(test_size, numbers.Integral):
        if not 1 <= test_size <= n_samples - 1:
            raise ValueError(
                f"test_size as a number of samples should be between 1 and {n_samples - 1} "
                f"(there are {n_samples} samples and both parts need at least one), but got {test_size}"
            )
        return int(test_size)
    if not 0 < test_size < 1:
        raise ValueError(
            "test_size should be a fraction between 0 and 1 or a whole number of samples, "
            f"but got {test_size}"
        )
    # Round to the nearest count, but keep at least one sample in each part.
    return min(max(round(test_size * n_samples), 1), n_samples - 1)


def _stratified_test_counts(class_counts, n_test):
    """How many samples of each class go to the test set.

    Each class gets as close as possible to its share ``n_test * count / n``
    while the total stays exactly ``n_test``, and every class with at least
    two samples keeps at least one sample in each part.

    Parameters
    ----------
    class_counts : ndarray of int, shape (n_classes,)
    n_test : int

    Returns
    -------
    test_counts : ndarray of int, shape (n_classes,)
    """
    n_samples = class_counts.sum()
    ideal = n_test * class_counts / n_samples
    # A class of one sample cannot be in both parts; it may go to either.
    low = np.where(class_counts >= 2, 1, 0)
    high = np.where(class_counts >= 2, class_counts - 1, 1)

    n_split = int(np.count_nonzero(class_counts >= 2))
    if n_test < low.sum() or n_samples - n_test < n_split:
        raise ValueError(
            f"a stratified split needs at least one sample of each of the {n_split} classes "
            f"(with 2 or more samples) in both parts, but the split asks for {n_test} test and "
            f"{n_samples - n_test} training samples. Use a larger data set, a different "
            "test_size, or stratify=False"
        )

    counts = np.clip(np.floor(ideal).astype(int), low, high)
    # Hand out (or take back) one sample at a time, always to the class
    # furthest from its ideal share, until the total is right.
    while counts.sum() < n_test:
        shortfall = np.where(counts < high, ideal - counts, -np.inf)
        counts[np.argmax(shortfall)] += 1
    while counts.sum() > n_test:
        excess = np.where(counts > low, counts - ideal, -np.inf)
        counts[np.argmax(excess)] -= 1
    return counts


def train_test_split(X, y, test_size=0.25, seed=0, stratify=True):
    """Split samples at random into a training part and a test part.

    Parameters
    ----------
    X : ndarray, shape (n_samples, ...)
        Features, one sample per row.
    y : ndarray, shape (n_samples,)
        Labels.
    test_size : float or int, default 0.25
        A float in (0, 1) is the fraction of samples for the test part
        (rounded to a whole number); an int is the number of test samples.
    seed : int, numpy.random.Generator or None, default 0
        Source of randomness; the same seed gives the same split.
    stratify : bool, default True
        If True, each class keeps (as closely as possible) the same proportion
        in both parts, and every class with at least two samples appears in
        both.

    Returns
    -------
    X_train : ndarray, shape (n_samples - n_test, ...)
    X_test : ndarray, shape (n_test, ...)
    y_train : ndarray, shape (n_samples - n_test,)
    y_test : ndarray, shape (n_test,)
        Every input sample is in exactly one of the two parts, each part in
        random order.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 0:
        raise ValueError("X should be an array with one sample per row, but got a single number")
    if y.ndim != 1:
        raise ValueError(f"y should be 1-D with one label per sample, but has shape {y.shape}")
    if len(X) != len(y):
        raise ValueError(
            f"X and y should have one row per sample, but X has {len(X)} samples and y has {len(y)}"
        )
    if len(y) < 2:
        raise ValueError(f"splitting needs at least 2 samples, but got {len(y)}")
    n_test = _test_count(test_size, len(y))
    rng = as_generator(seed)

    if stratify:
        classes, class_of_sample, class_counts = np.unique(y, return_inverse=True, return_counts=True)
        test_counts = _stratified_test_counts(class_counts, n_test)
        test_parts, train_parts = [], []
        for c in range(len(classes)):
            members = rng.permutation(np.flatnonzero(class_of_sample == c))
            test_parts.append(members[: test_counts[c]])
            train_parts.append(members[test_counts[c]:])
        # Shuffle again so the parts are not sorted by class.
        test_idx = rng.permutation(np.concatenate(test_parts))
        train_idx = rng.permutation(np.concatenate(train_parts))
    else:
        order = rng.permutation(len(y))
        test_idx, train_idx = order[:n_test], order[n_test:]

    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]
