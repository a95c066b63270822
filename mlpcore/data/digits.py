"""The bundled digits: the UCI optical-digits set, 1797 images of 8x8 pixels (CC BY 4.0)."""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np


@functools.lru_cache(maxsize=1)
def _digits_arrays():
    """Decode ``digits.npz`` once; later calls reuse the arrays.

    Returns
    -------
    images : ndarray of uint8, shape (1797, 8, 8)
    labels : ndarray of uint8, shape (1797,)
    """
    # importlib.resources finds the file wherever the package is installed
    # (a checkout, site-packages, a zip), unlike a path built by hand.
    with resources.files(__package__).joinpath("digits.npz").open("rb") as f:
        with np.load(f) as archive:
            images, labels = archive["images"], archive["labels"]
    # The cached arrays are shared by every call, so make them read-only: an
    # accidental in-place change would otherwise corrupt all later loads.
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def load_digits(normalize=True):
    """The UCI optical-digits set: 1797 handwritten digits as 8x8 images.

    Parameters
    ----------
    normalize : bool, default True
        If True, divide the pixel values (0..16) by 16 so they lie in [0, 1].

    Returns
    -------
    X : ndarray of float32, shape (1797, 64)
        One image per row, its 8x8 pixels flattened row by row.
    y : ndarray of int64, shape (1797,)
        The digit (0..9) each image shows.

    Notes
    -----
    Source: UCI Machine Learning Repository, "Optical Recognition of
    Handwritten Digits" (CC BY 4.0). The arrays returned are fresh copies, so
    changing them does not affect later calls.
    """
    images, labels = _digits_arrays()
    # astype always copies here (uint8 -> float32 / int64), so callers get
    # arrays of their own.
    X = images.reshape(len(images), -1).astype(np.float32)
    if normalize:
        X /= 16.0
    y = labels.astype(np.int64)
    return X, y
