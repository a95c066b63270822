"""mlpcore: a multilayer perceptron built from matrix operations.

The reference answer of the course: every piece a learner writes in the
notebooks lives here as a small function (see the submodules), and
:class:`MLP` puts them together into a classifier that trains with
mini-batches on the CPU (NumPy) or on a GPU (CuPy).

>>> import mlpcore
>>> X, y = mlpcore.data.load_digits()
>>> model = mlpcore.MLP([64, 32, 10], seed=0)
>>> history = model.fit(X, y, epochs=1, progress=False)
"""

from . import (
    activations,
    backend,
    data,
    gradcheck,
    init,
    layers,
    losses,
    network,
    optim,
    regularization,
    shapes,
)
from .model import MLP

__version__ = "0.1.0"
__all__ = [
    "MLP",
    "activations",
    "backend",
    "data",
    "gradcheck",
    "init",
    "layers",
    "losses",
    "network",
    "optim",
    "regularization",
    "shapes",
]


def __getattr__(name):
    # matplotlib takes a while to import; load the plots module only when asked for.
    if name == "plots":
        import importlib

        return importlib.import_module(".plots", __name__)
    raise AttributeError(f"module 'mlpcore' has no attribute {name!r}")
