"""Data sets for the course: a bundled digits set, toy 2-D problems, splitting, IDX files.

Every function returns NumPy arrays in the package's layout: features ``X`` of
shape ``(n_samples, n_features)`` (float32) and labels ``y`` of shape
``(n_samples,)`` (int64 class indices). Functions that draw random numbers take
a ``seed`` (an int, a ``numpy.random.Generator`` or ``None``), so the same seed
always gives the same data.

Nothing here downloads anything. The digits set ships inside the package; MNIST
or Fashion-MNIST you download yourself and read with :func:`load_idx_dataset`.
"""

from .digits import load_digits
from .idx import load_idx, load_idx_dataset
from .split import train_test_split
from .synthetic import make_moons, make_spirals, make_xor

__all__ = [
    "load_digits",
    "make_spirals",
    "make_moons",
    "make_xor",
    "train_test_split",
    "load_idx",
    "load_idx_dataset",
]
