"""Figures for looking inside a trained network.

Every function here builds a :class:`matplotlib.figure.Figure` and *returns*
it. Nothing calls ``pyplot`` or ``show()``:

* In Jupyter, a Figure that is the last value of a cell is drawn once by
  IPython, as a PNG, in any kernel and with no ``%matplotlib`` magic first
  (:class:`NotebookFigure`). Going through ``pyplot`` as well would draw it twice.
* No GUI backend is needed, so the same code runs on a headless grading
  server. Save a figure with ``fig.savefig("name.png")``.

Arrays can come from NumPy, CuPy (GPU) or any array-api library: each one is
copied to the host with :func:`mlpcore.backend.to_numpy` before plotting.

Colours come from the Okabe-Ito palette, which stays distinguishable for the
common kinds of colour blindness. Where colour alone carries meaning, a second
cue (line style, marker shape) carries it too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import BoundaryNorm, ListedColormap, to_rgb
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from mlpcore.backend import to_numpy

__all__ = [
    "plot_history",
    "plot_decision_boundary",
    "plot_weights",
    "plot_activation_histograms",
    "plot_confusion_matrix",
]

# Okabe & Ito (2008), "Color Universal Design". Ordered so that the first two
# or three classes (the common case) get the most contrasting colours.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
# Marker shapes give every class a second cue besides colour.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
TRAIN_COLOUR, VAL_COLOUR = OKABE_ITO[0], OKABE_ITO[3]
# Red = positive, blue = negative, white = 0; ColorBrewer's RdBu is colour-blind safe.
DIVERGING_CMAP = "RdBu_r"


# --------------------------------------------------------------------------- helpers


class NotebookFigure(Figure):
    """A matplotlib Figure that IPython shows as a picture wherever it is a cell's value.

    IPython draws a plain Figure only after ``%matplotlib inline`` (or an import of
    pyplot) has registered a PNG formatter for it; before that, a fresh kernel shows
    the text ``<Figure size ...>``. ``_repr_png_`` is the hook IPython looks for on
    any object, so these figures need no magic. Everything else is a plain Figure.
    """

    def _repr_png_(self) -> bytes:
        from io import BytesIO

        buffer = BytesIO()
        # bbox_inches="tight" as the inline backend does, so both ways look the same.
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


def _new_figure(width: float, height: float) -> Figure:
    # Constrained layout makes room for titles, tick labels, colorbars and
    # legends outside the axes, so nothing is clipped.
    return NotebookFigure(figsize=(width, height), layout="constrained")


def _int_at_least(name: str, value, minimum: int) -> int:
    """``value`` as an int, checking it is a whole number ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} should be an integer, but got {type(value).__name__} ({value!r}).")
    if value < minimum:
        raise ValueError(f"{name} should be at least {minimum}, but got {value}.")
    return int(value)


def _numeric_array(name: str, x) -> np.ndarray:
    """``x`` on the host as a NumPy array of numbers (bool, int or float)."""
    try:
        a = to_numpy(x)
    except Exception as exc:
        raise TypeError(f"{name} should be an array of numbers, but got {type(x).__name__}: {exc}") from None
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} should hold numbers, but has dtype {a.dtype}.")
    return a


def _labels(name: str, y) -> np.ndarray:
    """``y`` as a 1-D array of class indices 0, 1, 2, ... (int64)."""
    a = _numeric_array(name, y)
    if a.ndim != 1:
        hint = " If it is one-hot encoded, pass y.argmax(axis=1)." if a.ndim == 2 else ""
        raise ValueError(f"{name} should be 1-D class indices of shape (n_samples,), but got shape {a.shape}.{hint}")
    if a.dtype.kind == "f":
        # Labels loaded from a file are often floats like 2.0; accept those.
        bad = ~np.isfinite(a) | (a != np.round(a))
        if bad.any():
            raise ValueError(f"{name} should hold whole-number class indices, but holds values such as {a[bad][:3]}.")
    if a.size and a.min() < 0:
        raise ValueError(f"{name} should hold class indices 0, 1, 2, ..., but its smallest value is {a.min()}.")
    return a.astype(np.int64)


def _class_colours(n_classes: int) -> list:
    """One RGB colour per class."""
    if n_classes <= len(OKABE_ITO):
        return [to_rgb(c) for c in OKABE_ITO[:n_classes]]
    # No palette keeps more than ~8 colours apart for everyone; the marker
    # shapes still tell classes apart.
    tab20 = colormaps["tab20"]
    return [tab20(i % 20)[:3] for i in range(n_classes)]


def _lighten(rgb, amount: float = 0.65):
    """Blend a colour towards white, for backgrounds that data is drawn on."""
    return tuple(1 - (1 - c) * (1 - amount) for c in rgb)


def _symmetric_limit(values: np.ndarray) -> float:
    """Largest |value| (ignoring NaN/inf), so that 0 sits mid-colormap."""
    finite = np.abs(values[np.isfinite(values)])
    limit = float(finite.max()) if finite.size else 0.0
    return limit if limit > 0 else 1.0  # an all-zero matrix still needs a scale


def _grid_shape(n: int, max_cols: int) -> tuple[int, int]:
    """(rows, cols) for ``n`` panels, at most ``max_cols`` wide."""
    cols = min(n, max_cols)
    return math.ceil(n / cols), cols


# --------------------------------------------------------------------------- history


def _series(key: str, values) -> np.ndarray:
    """One history entry (a list of numbers or a 1-D array) as float64."""
    if isinstance(values, (list, tuple)):
        try:
            # Each entry may be a 0-d array, possibly on the GPU.
            return np.array([float(to_numpy(v)) for v in values], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"history[{key!r}] should be a list of numbers, but converting it failed: {exc}") from None
    a = _numeric_array(f"history[{key!r}]", values)
    if a.ndim != 1:
        raise ValueError(f"history[{key!r}] should be a list or 1-D array (one value per epoch), but got shape {a.shape}.")
    return a.astype(np.float64)


def plot_history(history: Mapping, title: str | None = None) -> Figure:
    """Loss and accuracy per epoch, side by side.

    Parameters
    ----------
    history : dict
        ``"loss"``: one value per epoch, shape (n_epochs,). Optional, with
        the same length: ``"accuracy"`` (fractions in [0, 1]),
        ``"val_loss"`` and ``"val_accuracy"``. A missing key, ``None`` or an
        empty list means "not recorded".
    title : str, optional
        Title above both panels.

    Returns
    -------
    Figure
        Two axes: loss (left) and accuracy in percent (right). Validation
        curves are dashed and a legend tells them apart. If no accuracy was
        recorded the right panel says so.
    """
    if not isinstance(history, Mapping):
        raise TypeError(f"history should be a dict such as {{'loss': [...], 'accuracy': [...]}}, but got {type(history).__name__}.")
    found = ", ".join(repr(k) for k in history) or "none"
    if history.get("loss") is None or len(history["loss"]) == 0:
        raise ValueError(f"history should have a non-empty list under 'loss', but the keys found were: {found}.")

    # Keep only the entries that were recorded, converted to float arrays.
    keys = ("loss", "accuracy", "val_loss", "val_accuracy")
    series = {k: _series(k, history[k]) for k in keys if history.get(k) is not None and len(history[k]) > 0}
    n_epochs = len(series["loss"])
    for k, v in series.items():
        if len(v) != n_epochs:
            raise ValueError(f"history[{k!r}] should have one value per epoch like 'loss' ({n_epochs}), but has {len(v)}.")
    for k in ("accuracy", "val_accuracy"):
        finite = series[k][np.isfinite(series[k])] if k in series else np.empty(0)
        if finite.size and (finite.min() < 0 or finite.max() > 1):
            hint = " Percentages? Divide them by 100." if finite.max() <= 100 else ""
            raise ValueError(f"history[{k!r}] should hold fractions in [0, 1], but ranges from {finite.min()} to {finite.max()}.{hint}")

    epochs = np.arange(1, n_epochs + 1)
    # With few epochs a line alone is hard to see (one epoch draws nothing): add dots.
    marker = "o" if n_epochs <= 50 else None
    fig = _new_figure(10, 4)
    ax_loss, ax_acc = fig.subplots(1, 2)
    for ax, metric, label in ((ax_loss, "loss", "loss"), (ax_acc, "accuracy", "accuracy")):
        ax.set_title(label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        # Whole epochs only (no "epoch 2.5"), even when there are just one or two.
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.set_xlim(0.5, n_epochs + 0.5)
        ax.grid(alpha=0.3)
        lines = [(metric, "training", TRAIN_COLOUR, "-"), ("val_" + metric, "validation", VAL_COLOUR, "--")]
        drawn = 0
        for key, name, colour, style in lines:
            if key in series:
                # clip_on=False: a 100 % accuracy dot sits on the top edge and would be cut in half.
                ax.plot(epochs, series[key], style, color=colour, marker=marker, markersize=3, label=name,
                        clip_on=(metric == "loss"))
                drawn += 1
        if drawn > 1:
            ax.legend()
        if metric == "accuracy":
            ax.set_ylim(0, 1)
            ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
            if drawn == 0:
                ax.text(0.5, 0.5, "no accuracy recorded", transform=ax.transAxes, ha="center", va="center", color="0.4")
    if title is not None:
        fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------- decision boundary


def plot_decision_boundary(predict, X, y, resolution: int = 200, title: str | None = None) -> Figure:
    """Class regions of a 2-D classifier, with the data drawn on top.

    Parameters
    ----------
    predict : callable or object with a ``.predict`` method
        Maps a float32 NumPy array of shape (m, 2) to integer class labels of
        shape (m,). A trained model can be passed directly.
    X : array, shape (n_samples, 2)
        The data points; the grid covers their range plus a 10 % margin.
    y : array of int, shape (n_samples,)
        True class index of each point; it colours the points.
    resolution : int
        Grid points per axis (``resolution**2`` predictions in total).
    title : str, optional
        Axes title (default "decision boundary").

    Returns
    -------
    Figure
        One axes. The light background is the predicted class; each point is
        coloured (and shaped) by its true class, so misclassified points show
        up as a colour that differs from the background around it.
    """
    # Prefer .predict: a model's __call__ may return probabilities, not labels.
    fn = getattr(predict, "predict", predict)
    if not callable(fn):
        raise TypeError(f"predict should be a function or a model with a .predict method, but got {type(predict).__name__}.")
    X = _numeric_array("X", X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X should have shape (n_samples, 2): two features to plot, but got shape {X.shape}.")
    if X.shape[0] == 0:
        raise ValueError("X should have at least one sample, but got shape (0, 2).")
    if not np.all(np.isfinite(X)):
        raise ValueError("X should hold finite numbers, but contains NaN or inf.")
    y = _labels("y", y)
    if len(y) != len(X):
        raise ValueError(f"y should have one label per row of X ({len(X)}), but has {len(y)}.")
    resolution = _int_at_least("resolution", resolution, 2)

    # A grid over the data's range plus a margin, so points never sit on the edge.
    lo, hi = X.min(axis=0).astype(np.float64), X.max(axis=0).astype(np.float64)
    margin = np.where(hi > lo, 0.1 * (hi - lo), 0.5)  # constant feature: still a visible strip
    xs = np.linspace(lo[0] - margin[0], hi[0] + margin[0], resolution)
    ys = np.linspace(lo[1] - margin[1], hi[1] + margin[1], resolution)
    xx, yy = np.meshgrid(xs, ys)  # shape (resolution, resolution); row = y value
    grid = np.column_stack([xx.ravel(), yy.ravel()]).astype(np.float32)  # (m, 2), the model's input dtype

    regions = _labels("the predictions on the grid", fn(grid))
    if regions.shape != (len(grid),):
        raise ValueError(f"predict should return one label per grid row, shape ({len(grid)},), but returned shape {regions.shape}.")
    regions = regions.reshape(xx.shape)

    n_classes = int(max(y.max(), regions.max())) + 1
    colours = _class_colours(n_classes)
    # Class k gets the colour interval [k - 0.5, k + 0.5): exact, no blending between classes.
    cmap = ListedColormap([_lighten(c) for c in colours])
    norm = BoundaryNorm(np.arange(n_classes + 1) - 0.5, n_classes)

    fig = _new_figure(6.5, 5)
    ax = fig.add_subplot()
    # pcolormesh, not contourf: contourf would draw a thin band of class 1
    # between regions of class 0 and class 2.
    ax.pcolormesh(xx, yy, regions, cmap=cmap, norm=norm, shading="nearest", rasterized=True)
    for k in np.unique(y):
        ax.scatter(*X[y == k].T, color=colours[k], marker=MARKERS[k % len(MARKERS)], s=28,
                   edgecolors="0.15", linewidths=0.7, label=f"class {k}")
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_xlabel("feature 0  (X[:, 0])")
    ax.set_ylabel("feature 1  (X[:, 1])")
    ax.set_title("decision boundary" if title is None else title)
    # Outside the axes so the legend never hides data.
    ax.legend(title="true class", loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0)
    return fig


# --------------------------------------------------------------------------- weights


def plot_weights(W, title: str | None = None, image_shape: tuple[int, int] | None = None,
                 max_units: int = 64) -> Figure:
    """A weight matrix as a picture, red for positive and blue for negative.

    Parameters
    ----------
    W : array, shape (n_in, n_out)
        Weights of one layer: column j holds the incoming weights of unit j.
    title : str, optional
        Figure title (default says what is shown).
    image_shape : (h, w), optional
        If the inputs are image pixels (h * w == n_in), draw each unit's
        incoming weights as an h-by-w image: the pattern that unit responds
        to. Pixels are assumed flattened row-major, as ``image.ravel()`` does.
    max_units : int
        At most this many units (the first columns) are drawn as tiles.

    Returns
    -------
    Figure
        Without ``image_shape``: one axes with the matrix (rows = inputs,
        columns = outputs) and a colorbar. With it: ``min(max_units, n_out)``
        tile axes and one colorbar. The colour scale is symmetric around 0
        (``vmin == -vmax``), so white always means a weight of 0.
    """
    W = _numeric_array("W", W)
    if W.ndim != 2:
        raise ValueError(f"W should be a 2-D matrix of shape (n_in, n_out), but got shape {W.shape}.")
    if W.size == 0:
        raise ValueError(f"W should not be empty, but got shape {W.shape}.")
    W = W.astype(np.float64)
    n_in, n_out = W.shape

    if image_shape is None:
        limit = _symmetric_limit(W)
        fig = _new_figure(6.5, 5)
        ax = fig.add_subplot()
        # aspect="auto": a 784 x 10 matrix would otherwise be a thin strip.
        im = ax.imshow(W, cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest")
        ax.set_xlabel("output unit (column)")
        ax.set_ylabel("input (row)")
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(MaxNLocator(integer=True))
        fig.colorbar(im, ax=ax, label="weight")
        fig.suptitle(title if title is not None else f"weights W: {n_in} inputs × {n_out} outputs")
        return fig

    if not (isinstance(image_shape, (tuple, list)) and len(image_shape) == 2):
        raise TypeError(f"image_shape should be a pair (height, width), but got {image_shape!r}.")
    h = _int_at_least("image_shape[0]", image_shape[0], 1)
    w = _int_at_least("image_shape[1]", image_shape[1], 1)
    if h * w != n_in:
        hint = " Is W transposed? It should be (n_in, n_out)." if h * w == n_out else ""
        raise ValueError(f"image_shape {(h, w)} has {h * w} pixels, but W has {n_in} inputs (rows); they must match.{hint}")
    max_units = _int_at_least("max_units", max_units, 1)

    shown = min(max_units, n_out)
    limit = _symmetric_limit(W[:, :shown])  # one scale for all tiles, so they compare
    rows, cols = _grid_shape(shown, max_cols=math.ceil(math.sqrt(shown)))
    fig = _new_figure(max(3.0, 1.1 * cols + 1.2), max(2.5, 1.1 * rows + 0.6))
    tiles = []
    for j in range(shown):
        ax = fig.add_subplot(rows, cols, j + 1)
        im = ax.imshow(W[:, j].reshape(h, w), cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_title(f"unit {j}", fontsize=7, pad=2)
        ax.set_xticks([])
        ax.set_yticks([])
        tiles.append(ax)
    fig.colorbar(im, ax=tiles, label="weight", shrink=0.8)
    which = f"all {n_out} units" if shown == n_out else f"the first {shown} of {n_out} units"
    default = f"incoming weights of {which}, as {h}×{w} images"
    fig.suptitle(title if title is not None else default)
    return fig


# --------------------------------------------------------------------------- activations


def plot_activation_histograms(activations, bins: int = 50, title: str | None = None) -> Figure:
    """One histogram of activation values per layer.

    Parameters
    ----------
    activations : dict of name -> array, or list/tuple of arrays
        Each array (any shape, e.g. (n_samples, n_units)) is flattened. A list
        gets the names "layer 1", "layer 2", ... ``model.hidden_activations(X)``
        returns such a dict.
    bins : int
        Number of histogram bins.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
        One axes per layer (four per row). Each shows the mean and standard
        deviation and, when some values are exactly 0, the fraction of zeros:
        for ReLU layers these are units that did not fire ("dead" if always).
    """
    if isinstance(activations, Mapping):
        items = [(str(name), a) for name, a in activations.items()]
    elif isinstance(activations, (list, tuple)):
        items = [(f"layer {i + 1}", a) for i, a in enumerate(activations)]
    else:
        raise TypeError(
            f"activations should be a dict {{name: array}} or a list of arrays, but got {type(activations).__name__}. "
            "For a single array, wrap it in a list: [a]."
        )
    if not items:
        raise ValueError("activations should hold at least one layer, but is empty.")
    bins = _int_at_least("bins", bins, 1)

    rows, cols = _grid_shape(len(items), max_cols=4)
    fig = _new_figure(3.2 * cols, 2.7 * rows)
    for i, (name, a) in enumerate(items):
        values = _numeric_array(f"activations[{name!r}]", a).ravel().astype(np.float64)
        if values.size == 0:
            raise ValueError(f"activations[{name!r}] should hold values, but is empty.")
        finite = values[np.isfinite(values)]
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.hist(finite, bins=bins, color=OKABE_ITO[0])
        ax.set_title(name)
        ax.set_xlabel("activation value")
        if i % cols == 0:
            ax.set_ylabel("count")
        if finite.size:
            lines = [f"mean {finite.mean():.3g}", f"std {finite.std():.3g}"]
        else:
            lines = ["no finite values"]
        zeros = np.mean(values == 0)
        if zeros > 0:
            lines.append(f"zeros {zeros:.1%}")
        if finite.size < values.size:
            lines.append(f"NaN/inf {1 - finite.size / values.size:.1%}")
        ax.text(0.97, 0.95, "\n".join(lines), transform=ax.transAxes, ha="right", va="top", fontsize=8,
                bbox=dict(boxstyle="round", facecolor="white", edgecolor="0.7", alpha=0.85))
    if title is not None:
        fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------- confusion matrix


def plot_confusion_matrix(y_true, y_pred, n_classes: int | None = None, title: str | None = None) -> Figure:
    """How often each true class was predicted as each class.

    Parameters
    ----------
    y_true, y_pred : array of int, shape (n_samples,)
        True and predicted class indices.
    n_classes : int, optional
        Number of classes (default: largest label + 1). Give it when some
        class may be absent from both arrays.
    title : str, optional
        Axes title (default shows the accuracy).

    Returns
    -------
    Figure
        The count matrix C (C[i, j] = samples of true class i predicted as j;
        the diagonal is the correct ones) as an image with the count written
        in each cell (up to 30 classes; beyond that they would not fit),
        plus a colorbar.
    """
    y_true = _labels("y_true", y_true)
    y_pred = _labels("y_pred", y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true and y_pred should have the same length, but have {len(y_true)} and {len(y_pred)}.")
    if len(y_true) == 0:
        raise ValueError("y_true and y_pred should hold at least one sample, but are empty.")
    largest = int(max(y_true.max(), y_pred.max()))
    if n_classes is None:
        n_classes = largest + 1
    n_classes = _int_at_least("n_classes", n_classes, 1)
    if largest >= n_classes:
        raise ValueError(f"labels should be below n_classes={n_classes}, but the largest label is {largest}.")

    # Pair (i, j) -> one index i * n + j, so a single bincount counts all cells.
    counts = np.bincount(y_true * n_classes + y_pred, minlength=n_classes**2).reshape(n_classes, n_classes)

    side = min(12.0, max(4.5, 0.45 * n_classes + 2.5))
    fig = _new_figure(side + 1, side)
    ax = fig.add_subplot()
    im = ax.imshow(counts, cmap="Blues", vmin=0, interpolation="nearest")
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    ticks = np.arange(n_classes) if n_classes <= 30 else MaxNLocator(integer=True).tick_values(0, n_classes - 1)
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    if n_classes <= 30:
        # White text on dark cells, black on light ones, so every number is
        # readable: judge each cell by the brightness of its colour.
        r, g, b, _ = np.moveaxis(im.cmap(im.norm(counts)), -1, 0)
        dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
        fontsize = 10 if n_classes <= 12 else 7
        for i in range(n_classes):
            for j in range(n_classes):
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=fontsize,
                        color="white" if dark[i, j] else "black")
    fig.colorbar(im, ax=ax, label="count", shrink=0.8)
    accuracy = np.trace(counts) / counts.sum()
    ax.set_title(title if title is not None else f"confusion matrix (accuracy {accuracy:.1%})")
    return fig
