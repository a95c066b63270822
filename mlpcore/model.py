"""The multilayer perceptron: the functional pieces put together.

For layer sizes ``[n_0, n_1, ..., n_L]`` the model holds ``W1 (n_0, n_1)``,
``b1 (n_1,)``, ..., ``WL (n_{L-1}, n_L)``, ``bL (n_L,)``. The forward pass is

    A0 = X
    Zi = A(i-1) @ Wi + bi,   Ai = g(Zi)      for the hidden layers i = 1 .. L-1
    ZL = A(L-1) @ WL + bL                    the logits; softmax gives probabilities

and training minimises the mean softmax cross-entropy (plus an optional L2
penalty) with mini-batches. The backward pass walks the same layers in
reverse, using what the forward pass cached instead of recomputing it.

The array namespace (NumPy or CuPy) is looked up once, when the model is built,
and kept in ``self.xp``.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from . import backend
from .activations import get_activation, softmax
from .init import get_initializer
from .layers import dense_backward, dense_forward
from .losses import _softmax_cross_entropy
from .optim import SGD
from .regularization import dropout_backward, dropout_forward, l2_grads, l2_penalty
from .rng import as_generator
from .shapes import parameter_shapes, require_layer_sizes
from .validation import (
    require_finite,
    require_labels,
    require_ndim,
    require_nonempty,
    require_positive_number,
    require_probability,
)

FILE_FORMAT = "mlpcore.MLP"
FILE_VERSION = 1
_META_KEY = "__mlpcore__"
DTYPES = ("float32", "float64")


def _read_npz(path: Path) -> dict:
    """Every array of an ``.npz`` file, or a ValueError that says why it cannot be read."""
    unreadable = (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError)
    try:
        archive = np.load(path, allow_pickle=False)
    except unreadable as exc:
        raise ValueError(f"MLP.load: {path} is not a readable .npz file ({exc}). It may be truncated or corrupt.") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"MLP.load: {path} holds a single array (.npy), not a model saved with MLP.save.")
    with archive:
        try:
            return {name: archive[name] for name in archive.files}
        except unreadable as exc:  # a damaged member only shows when it is read
            raise ValueError(f"MLP.load: {path} is not a readable .npz file ({exc}). It may be truncated or corrupt.") from None


def _regularization(fn, l2, dropout):
    """``(l2, dropout)`` checked: l2 >= 0, dropout a probability in [0, 1)."""
    return (require_positive_number(fn, "l2", l2, allow_zero=True), require_probability(fn, "dropout", dropout))


class MLP:
    """A multilayer perceptron classifier with softmax output.

    Parameters
    ----------
    layer_sizes : list of int
        ``[n_inputs, hidden_1, ..., n_classes]``, e.g. ``[784, 256, 128, 10]``.
    activation : {"relu", "sigmoid", "tanh"}
        Activation of every hidden layer.
    init : {"he", "xavier", "normal", "zeros"}
        Weight initializer (biases start at zero).
    dtype : {"float32", "float64"}
    seed : int or numpy.random.Generator
        Drives the initial weights, the shuffling in :meth:`fit` and dropout.
    device : {"cpu", "gpu", "auto"} or None
        ``None`` reads the ``MLPCORE_DEVICE`` environment variable (default "cpu").
    """

    def __init__(self, layer_sizes, activation="relu", init="he", dtype="float32", seed=0, device=None):
        sizes = require_layer_sizes(layer_sizes)
        initializer = get_initializer(init)
        get_activation(activation)  # fail now, not at the first forward pass
        if dtype not in DTYPES:
            raise ValueError(f"dtype should be one of {DTYPES}, but got {dtype!r}.")
        rng = as_generator(seed)
        params = {}
        for i, ((n_in, n_out), _) in enumerate(parameter_shapes(sizes), start=1):
            params[f"W{i}"] = initializer(n_in, n_out, rng)
            params[f"b{i}"] = np.zeros(n_out)
        where = backend.resolve_device(device)
        params = {name: backend.to_device(value.astype(dtype), where) for name, value in params.items()}
        self._setup(params, activation, rng)
        self.init = init

    @classmethod
    def from_params(cls, params, activation="relu", seed=0):
        """A model around existing arrays ``{"W1": ..., "b1": ..., ...}`` of any backend
        (NumPy, CuPy, array-api-strict). The arrays are used as they are, not copied."""
        model = cls.__new__(cls)
        model._setup(dict(params), activation, as_generator(seed))
        model.init = None
        return model

    def _setup(self, params, activation, rng):
        """Check that the params chain up and look up the array namespace once."""
        self.xp = backend.namespace_of(*params.values(), names=tuple(params))
        n_layers = len(params) // 2
        expected = [f"{kind}{i}" for i in range(1, n_layers + 1) for kind in "Wb"]
        if len(params) % 2 or sorted(params) != sorted(expected) or n_layers < 1:
            raise ValueError(f"params should hold W1, b1, ..., WL, bL, but has keys {sorted(params)}.")
        sizes = [int(params["W1"].shape[0])]
        for i in range(1, n_layers + 1):
            W, b = params[f"W{i}"], params[f"b{i}"]
            if W.ndim != 2 or int(W.shape[0]) != sizes[-1] or tuple(b.shape) != (int(W.shape[1]),):
                raise ValueError(
                    f"layer {i} does not fit: W{i} has shape {tuple(W.shape)} and b{i} has shape {tuple(b.shape)}, "
                    f"but its input has {sizes[-1]} features, so W{i} should be ({sizes[-1]}, n_out) and b{i} (n_out,)."
                )
            sizes.append(int(W.shape[1]))
        require_layer_sizes(sizes)  # e.g. at least two outputs, as the constructor asks
        self.params = params
        self.layer_sizes = sizes
        self.activation = activation
        self._activation = get_activation(activation)
        self.dtype = params["W1"].dtype
        self.device = backend.device_of(params["W1"])
        self._rng = rng

    @property
    def n_layers(self) -> int:
        """Number of dense layers (weight matrices)."""
        return len(self.layer_sizes) - 1

    def __repr__(self):
        n_params = sum(math.prod(int(n) for n in p.shape) for p in self.params.values())
        return (
            f"MLP({self.layer_sizes}, activation={self.activation!r}, dtype={str(self.dtype)!r}, "
            f"device={self.device!r}, parameters={n_params:,})"
        )

    # ------------------------------------------------------------------ data in

    def _to_model_namespace(self, a):
        """NumPy input (or a list) is accepted by every backend and moved to the model's
        device here, explicitly; arrays of another backend are left for the mixed-device check."""
        if isinstance(a, (list, tuple)):
            a = np.asarray(a)
        came_as_numpy = isinstance(a, np.ndarray)
        if came_as_numpy and self.device == "gpu":
            a = backend.to_device(a, "gpu")
        elif came_as_numpy and self.xp is not backend.namespace_of(a):
            a = self.xp.asarray(a)  # e.g. array-api-strict in the tests
        backend.namespace_of(a, self.params["W1"], names=("the input", "the model's W1"))
        return a, came_as_numpy

    def _inputs(self, X, fn, allow_empty=False):
        """``X`` checked and on the model's device and dtype, plus whether it came as NumPy.

        Only predictions may have no rows; a loss or accuracy over no samples is undefined.
        """
        X, came_as_numpy = self._to_model_namespace(X)
        require_ndim(fn, "X", X, 2, "(n_samples, n_features)")
        if not allow_empty:
            require_nonempty(fn, "X", X)
        if int(X.shape[1]) != self.layer_sizes[0]:
            raise ValueError(
                f"{fn}: layer 1 (W1 {tuple(self.params['W1'].shape)}) expects {self.layer_sizes[0]} input features "
                f"per row, but X has shape {tuple(X.shape)}."
            )
        require_finite(fn, "X", self.xp, X)
        if X.dtype != self.dtype:
            with np.errstate(over="ignore"):  # reported just below, with what to do about it
                X = self.xp.astype(X, self.dtype)
            if not bool(self.xp.all(self.xp.isfinite(X))):  # finite in float64, beyond float32's range
                raise ValueError(
                    f"{fn}: X holds values too large for this {self.dtype} model (its largest number is about "
                    f"{float(self.xp.finfo(X.dtype).max):.1e}); scale the data, e.g. to [0, 1]."
                )
        return X, came_as_numpy

    def _labels(self, y, n_samples, fn):
        y, _ = self._to_model_namespace(y)
        require_labels(fn, self.xp, y, n_samples, self.layer_sizes[-1])
        return y

    # ------------------------------------------------------------ forward/back

    def _forward(self, X, dropout=0.0):
        """Logits for ``X`` (batch, n_in), shape (batch, n_classes), and the cache the backward pass needs.

        ``cache[i - 1]`` belongs to layer i: its input, its pre-activation Z,
        its activation A before dropout, and its dropout mask (the last two are
        None for the output layer, and the mask is None without dropout).
        """
        cache = []
        A = X
        for i in range(1, self.n_layers + 1):
            Z = dense_forward(A, self.params[f"W{i}"], self.params[f"b{i}"])
            if i == self.n_layers:
                cache.append((A, Z, None, None))
                return Z, cache
            A_hidden = self._activation.forward(Z)
            A_next, mask = dropout_forward(A_hidden, dropout, self._rng) if dropout else (A_hidden, None)
            cache.append((A, Z, A_hidden, mask))
            A = A_next

    def _backward(self, dlogits, cache, dropout=0.0):
        """Gradients of every parameter from dLoss/dlogits, layer by layer in reverse."""
        grads = {}
        dZ = dlogits
        for i in range(self.n_layers, 0, -1):
            layer_input = cache[i - 1][0]
            # Layer 1's input is the data: its gradient is not needed.
            dA, grads[f"W{i}"], grads[f"b{i}"] = dense_backward(dZ, layer_input, self.params[f"W{i}"], input_grad=i > 1)
            if i == 1:
                break
            _, Z, A_hidden, mask = cache[i - 2]  # the hidden layer that produced this layer's input
            if mask is not None:
                dA = dropout_backward(dA, mask, dropout)
            dZ = self._activation.backward_given_output(dA, Z, A_hidden)
        return grads

    def loss_and_grads(self, X, y, l2=0.0, dropout=0.0):
        """Mean softmax cross-entropy on ``(X, y)`` (plus ``l2/2 * sum W**2``) and its gradients.

        Parameters
        ----------
        X : array, shape (batch, n_inputs)
        y : integer array, shape (batch,)
        l2 : float, L2 strength (0 = none)
        dropout : float, drop probability of hidden activations (0 = none)

        Returns
        -------
        loss : float
        grads : dict with the keys (and shapes) of ``params``
        """
        X, _ = self._inputs(X, "loss_and_grads")
        y = self._labels(y, int(X.shape[0]), "loss_and_grads")
        l2, dropout = _regularization("loss_and_grads", l2, dropout)
        loss, grads, _ = self._loss_grads_logits(X, y, l2, dropout)
        return loss, grads

    def _loss_grads_logits(self, X, y, l2, dropout):
        """:meth:`loss_and_grads` for inputs and settings that were already checked, plus the logits."""
        logits, cache = self._forward(X, dropout)
        loss, dlogits = _softmax_cross_entropy(self.xp, logits, y)
        grads = self._backward(dlogits, cache, dropout)
        if l2:
            loss += l2_penalty(self.params, l2)
            for name, g in l2_grads(self.params, l2).items():
                grads[name] += g
        return loss, grads, logits

    # ------------------------------------------------------------------ training

    def fit(
        self,
        X,
        y,
        epochs=5,
        batch_size=128,
        optimizer=None,
        l2=0.0,
        dropout=0.0,
        validation_data=None,
        shuffle=True,
        progress=True,
    ):
        """Train with mini-batches; returns the history of loss and accuracy per epoch.

        Parameters
        ----------
        X : array, shape (n_samples, n_inputs); y : integer array, shape (n_samples,)
        epochs : int, passes over the data
        batch_size : int, rows per gradient step (the last batch may be smaller)
        optimizer : an :mod:`mlpcore.optim` optimizer, default ``SGD(0.1)``
        l2, dropout : regularization strengths (0 = off)
        validation_data : optional ``(X_val, y_val)``, evaluated after each epoch
        shuffle : reshuffle the rows every epoch (with the model's seed)
        progress : show a progress bar

        Returns
        -------
        history : dict of lists, one entry per epoch: "loss", "accuracy" (training,
            averaged over the epoch's batches) and "val_loss", "val_accuracy"
            (empty without validation_data)
        """
        # Everything is checked once here, so the loop below runs unchecked internals.
        X, _ = self._inputs(X, "fit")
        y = self._labels(y, int(X.shape[0]), "fit")
        l2, dropout = _regularization("fit", l2, dropout)
        for name, value in (("epochs", epochs), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"fit: {name} should be a positive whole number, but got {value!r}.")
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise TypeError(f"fit: validation_data should be a pair (X_val, y_val), but got {type(validation_data).__name__}.")
            X_val, y_val = validation_data
            X_val, _ = self._inputs(X_val, "fit (validation_data)")
            y_val = self._labels(y_val, int(X_val.shape[0]), "fit (validation_data)")
        optimizer = optimizer if optimizer is not None else SGD(0.1)
        if not callable(getattr(optimizer, "step", None)):
            raise TypeError(
                "fit: optimizer should be an optimizer object with a step(params, grads) method, such as "
                f"mlpcore.optim.Adam(0.001), but got {type(optimizer).__name__} ({optimizer!r})."
            )
        n = int(X.shape[0])
        n_batches = math.ceil(n / batch_size)
        history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
        with tqdm(total=epochs * n_batches, disable=not progress, unit="batch", leave=True) as bar:
            for epoch in range(1, epochs + 1):
                bar.set_description(f"epoch {epoch}/{epochs}")
                order = self._to_model_namespace(self._rng.permutation(n) if shuffle else np.arange(n))[0]
                loss_sum = 0.0
                correct = 0  # stays on the device until the epoch ends: one wait for the GPU less per batch
                for start in range(0, n, batch_size):
                    rows = order[start : min(start + batch_size, n)]  # the array API allows no slice past the end
                    X_batch, y_batch = self.xp.take(X, rows, axis=0), self.xp.take(y, rows, axis=0)
                    loss, grads, logits = self._loss_grads_logits(X_batch, y_batch, l2, dropout)
                    if not math.isfinite(loss):  # checked before the step, so the weights stay usable
                        raise FloatingPointError(
                            f"fit: the loss became {loss} in epoch {epoch}; the learning rate "
                            f"({getattr(optimizer, 'lr', '?')}) is probably too large for this model. "
                            "The weights are left as they were before this step."
                        )
                    optimizer.step(self.params, grads)
                    loss_sum += loss * int(rows.shape[0])
                    correct += self.xp.count_nonzero(self.xp.argmax(logits, axis=1) == y_batch)
                    bar.update(1)
                history["loss"].append(loss_sum / n)
                history["accuracy"].append(int(correct) / n)
                postfix = {"loss": f"{history['loss'][-1]:.4f}", "acc": f"{history['accuracy'][-1]:.3f}"}
                if validation_data is not None:
                    val_loss, val_accuracy = self._evaluate(X_val, y_val)
                    history["val_loss"].append(val_loss)
                    history["val_accuracy"].append(val_accuracy)
                    postfix["val_acc"] = f"{val_accuracy:.3f}"
                bar.set_postfix(postfix)
        return history

    # ------------------------------------------------------------------ using it

    def _evaluate(self, X, y):
        logits, _ = self._forward(X)
        loss, _ = _softmax_cross_entropy(self.xp, logits, y)
        accuracy = int(self.xp.count_nonzero(self.xp.argmax(logits, axis=1) == y)) / int(X.shape[0])
        return loss, accuracy

    def evaluate(self, X, y):
        """``(mean cross-entropy, accuracy)`` on ``(X, y)``, without regularization terms."""
        X, _ = self._inputs(X, "evaluate")
        y = self._labels(y, int(X.shape[0]), "evaluate")
        return self._evaluate(X, y)

    def _output(self, array, came_as_numpy):
        # Results go back where the input came from: NumPy in, NumPy out.
        return backend.to_numpy(array) if came_as_numpy else array

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes); rows sum to 1."""
        X, came_as_numpy = self._inputs(X, "predict_proba", allow_empty=True)
        logits, _ = self._forward(X)
        return self._output(softmax(logits), came_as_numpy)

    def predict(self, X):
        """Most probable class per row, integer array of shape (n_samples,)."""
        X, came_as_numpy = self._inputs(X, "predict", allow_empty=True)
        logits, _ = self._forward(X)
        return self._output(self.xp.argmax(logits, axis=1), came_as_numpy)

    def hidden_activations(self, X):
        """``{"layer 1": A1, ...}``: each hidden layer's activation for ``X``, as NumPy arrays
        (for plots such as :func:`mlpcore.plots.plot_activation_histograms`)."""
        X, _ = self._inputs(X, "hidden_activations", allow_empty=True)
        _, cache = self._forward(X)
        return {f"layer {i}": backend.to_numpy(A_hidden) for i, (_, _, A_hidden, _) in enumerate(cache[:-1], start=1)}

    # ------------------------------------------------------------------ files

    def save(self, path):
        """Write the parameters and settings to an ``.npz`` file (".npz" is appended
        if missing) and return its path. The file is written next to the target and
        then renamed over it, so a failed save never destroys an earlier file."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        if not path.parent.is_dir():
            raise FileNotFoundError(f"save: the folder {path.parent} does not exist; create it first.")
        meta = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "layer_sizes": self.layer_sizes,
            "activation": self.activation,
            "dtype": str(self.dtype),
        }
        arrays = {name: backend.to_numpy(value) for name, value in self.params.items()}
        partial = path.with_name(path.name + ".partial")
        try:
            with open(partial, "wb") as handle:
                np.savez(handle, **{_META_KEY: np.array(json.dumps(meta))}, **arrays)
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)  # leave no half-written file; an earlier save stays intact
            raise
        return path

    @classmethod
    def load(cls, path, device=None):
        """A model from a file written by :meth:`save`, on ``device`` (see the constructor).

        Raises
        ------
        FileNotFoundError if there is no such file; ValueError if the file is not a
        readable ``.npz``, was not written by ``MLP.save``, or its arrays do not fit together.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"MLP.load: there is no file {path}.")
        contents = _read_npz(path)
        if _META_KEY not in contents:
            raise ValueError(
                f"MLP.load: {path} was not saved by MLP.save: it holds arrays {sorted(contents)}, "
                f"but a model file also holds {_META_KEY!r} with the model's settings."
            )
        try:
            meta = json.loads(str(contents.pop(_META_KEY)))
            if meta.get("format") != FILE_FORMAT:
                raise ValueError(f"format {meta.get('format')!r}")
            activation, dtype, sizes = meta["activation"], meta["dtype"], meta["layer_sizes"]
            if not isinstance(meta.get("version", 0), int):
                raise ValueError(f"version {meta['version']!r}")
            if not isinstance(sizes, list):
                raise ValueError(f"layer_sizes {sizes!r}")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"MLP.load: {path} has unreadable model settings ({exc}).") from None
        if meta.get("version", 0) > FILE_VERSION:
            raise ValueError(
                f"MLP.load: {path} was written by a newer mlpcore (file version {meta['version']}, "
                f"this one reads up to {FILE_VERSION}); upgrade mlpcore."
            )
        if dtype not in DTYPES:
            raise ValueError(f"MLP.load: {path} names dtype {dtype!r}; expected one of {DTYPES}.")
        for name, value in contents.items():
            if value.dtype != np.dtype(dtype):
                raise ValueError(f"MLP.load: {path}: array {name} has dtype {value.dtype}, but the settings say {dtype}.")
            if not np.isfinite(value).all():
                raise ValueError(f"MLP.load: {path}: {name} holds NaN or infinity; the model it was saved from had "
                                 "diverged, or the file is damaged.")
        where = backend.resolve_device(device)
        try:
            model = cls.from_params({name: backend.to_device(value, where) for name, value in contents.items()}, activation)
        except ValueError as exc:  # the arrays do not make a network: say which file
            raise ValueError(f"MLP.load: {path}: {exc}") from None
        if model.layer_sizes != list(sizes):
            raise ValueError(f"MLP.load: {path}: the arrays give layers {model.layer_sizes}, the settings {sizes}.")
        return model
