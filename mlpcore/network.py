"""The whole network as functions on a params dict, the form the course's notebooks use.

``params`` holds ``W1 (n_0, n_1), b1 (n_1,), ..., WL (n_{L-1}, n_L), bL (n_L,)``;
hidden layers apply ``activation``, the last layer gives the logits. These are
:class:`mlpcore.MLP`'s own forward and backward passes, so the notebooks' full
passes are checked against exactly what the model trains with.
:func:`loss_and_grads` is the closing project's form of :func:`backward_pass`:
ReLU hidden layers, and the arguments in the order ``(params, X, y)``.
"""

from __future__ import annotations

from .guard import reference
from .model import MLP


@reference
def forward_pass(X, params, activation="relu"):
    """Class probabilities of the network ``params`` for ``X``.

    Parameters
    ----------
    X : array, shape (batch, n_0)
    params : dict of arrays, "W1", "b1", ..., "WL", "bL"
    activation : "relu", "sigmoid" or "tanh", used by every hidden layer

    Returns
    -------
    P : array, shape (batch, n_L), rows summing to 1 (softmax of the logits)
    """
    return MLP.from_params(params, activation).predict_proba(X)


@reference
def backward_pass(X, y, params, activation="relu"):
    """Mean softmax cross-entropy of the network ``params`` on ``(X, y)`` and its gradients.

    Parameters
    ----------
    X : array, shape (batch, n_0)
    y : integer array, shape (batch,), labels in 0 .. n_L - 1
    params : dict of arrays, "W1", "b1", ..., "WL", "bL"
    activation : "relu", "sigmoid" or "tanh"

    Returns
    -------
    loss : float
    grads : dict with the keys and shapes of ``params``
    """
    return MLP.from_params(params, activation).loss_and_grads(X, y)


@reference
def loss_and_grads(params, X, y):
    """The closing project's network: ReLU on every hidden layer, softmax and the mean
    cross-entropy at the output; its loss on ``(X, y)`` and the gradients of every parameter.

    Parameters
    ----------
    params : dict of arrays, "W1", "b1", ..., "WL", "bL" (L >= 1; with L = 1 there is no hidden layer)
    X : array, shape (batch, n_0)
    y : integer array, shape (batch,), labels in 0 .. n_L - 1

    Returns
    -------
    loss : float, the mean over the batch
    grads : dict with the keys, shapes and dtypes of ``params``
    """
    return MLP.from_params(params, "relu").loss_and_grads(X, y)
