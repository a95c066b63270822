"""Tests for mlpcore.plots: each function returns a Figure showing the data it got."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from mlpcore.plots import (
    plot_activation_histograms,
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_history,
    plot_weights,
)


def image_axes(fig):
    """Axes that show an image (the tiles / matrix), i.e. not the colorbar."""
    return [ax for ax in fig.axes if ax.get_images()]


def assert_saves_png(fig, tmp_path, name="fig.png"):
    path = tmp_path / name
    fig.savefig(path, dpi=50)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 1000


@pytest.fixture
def blobs():
    """Three separable 2-D clusters, 20 points each."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 4.0]])
    y = np.repeat(np.arange(3), 20)
    X = centres[y] + rng.normal(scale=0.5, size=(60, 2))
    return X, y


def nearest_centre(Xg):
    """A stand-in classifier for the blobs: label of the nearest centre."""
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 4.0]], dtype=np.float32)
    return np.argmin(((Xg[:, None, :] - centres) ** 2).sum(axis=2), axis=1)


# --------------------------------------------------------------------------- no pyplot


def test_module_does_not_import_pyplot():
    # pyplot would register figures with a GUI manager: double display in Jupyter.
    code = "import sys, mlpcore.plots; assert 'matplotlib.pyplot' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- plot_history


def test_history_lines_equal_values(tmp_path):
    history = {"loss": [1.0, 0.6, 0.4], "accuracy": [0.5, 0.7, 0.9]}
    fig = plot_history(history, title="run 1")
    assert isinstance(fig, Figure)
    ax_loss, ax_acc = fig.axes
    for ax, key in ((ax_loss, "loss"), (ax_acc, "accuracy")):
        (line,) = ax.get_lines()  # training only: no validation line
        np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
        np.testing.assert_allclose(line.get_ydata(), history[key])
        assert ax.get_xlabel() == "epoch"
        assert ax.get_legend() is None  # one line needs no legend
    assert ax_acc.get_ylim() == (0, 1)
    assert ax_acc.yaxis.get_major_formatter()(0.5, 0) == "50%"
    assert fig.get_suptitle() == "run 1"
    assert_saves_png(fig, tmp_path)


def test_history_validation_lines(tmp_path):
    history = {"loss": [1.0, 0.5], "accuracy": [0.6, 0.8], "val_loss": [1.1, 0.7], "val_accuracy": [0.55, 0.75]}
    fig = plot_history(history)
    for ax, key in zip(fig.axes, ("loss", "accuracy")):
        train, val = ax.get_lines()
        assert train.get_label() == "training" and val.get_label() == "validation"
        np.testing.assert_allclose(train.get_ydata(), history[key])
        np.testing.assert_allclose(val.get_ydata(), history["val_" + key])
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training", "validation"]
    assert_saves_png(fig, tmp_path)


def test_history_empty_validation_lists_mean_absent():
    fig = plot_history({"loss": [1.0, 0.5], "accuracy": [0.6, 0.8], "val_loss": [], "val_accuracy": []})
    assert [len(ax.get_lines()) for ax in fig.axes] == [1, 1]


def test_history_accepts_arrays_and_0d_array_entries():
    fig = plot_history({"loss": np.array([0.9, 0.3]), "accuracy": [np.float32(0.5), np.asarray(0.75)]})
    np.testing.assert_allclose(fig.axes[1].get_lines()[0].get_ydata(), [0.5, 0.75])


def test_history_without_accuracy_says_so(tmp_path):
    fig = plot_history({"loss": [3.0]})
    assert len(fig.axes) == 2
    assert fig.axes[1].get_lines() == []
    assert "no accuracy" in fig.axes[1].texts[0].get_text()
    assert_saves_png(fig, tmp_path)


def test_history_survives_diverged_loss(tmp_path):
    fig = plot_history({"loss": [1.0, np.inf, np.nan], "accuracy": [0.5, np.nan, np.nan]})
    assert_saves_png(fig, tmp_path)


@pytest.mark.parametrize(
    "history, error, match",
    [
        ({"accuracy": [0.5]}, ValueError, r"'loss'.*keys found were: 'accuracy'"),
        ({"loss": []}, ValueError, r"non-empty list under 'loss'"),
        ({}, ValueError, r"keys found were: none"),
        ([1.0, 0.5], TypeError, r"history should be a dict.*got list"),
        ({"loss": [1.0, 0.5], "accuracy": [0.5]}, ValueError, r"'accuracy'.*\(2\), but has 1"),
        ({"loss": [1.0, 0.5], "val_loss": [1.0, 0.5, 0.2]}, ValueError, r"'val_loss'.*\(2\), but has 3"),
        ({"loss": [1.0], "accuracy": [85.0]}, ValueError, r"fractions in \[0, 1\].*Divide them by 100"),
        ({"loss": [[1.0, 2.0]]}, TypeError, r"history\['loss'\] should be a list of numbers"),
        ({"loss": np.ones((2, 2))}, ValueError, r"1-D array.*shape \(2, 2\)"),
    ],
)
def test_history_errors(history, error, match):
    with pytest.raises(error, match=match):
        plot_history(history)


# --------------------------------------------------------------------------- plot_decision_boundary


def test_decision_boundary_calls_predict_with_float32_grid(blobs, tmp_path):
    X, y = blobs
    calls = []

    def predict(Xg):
        calls.append(Xg)
        return nearest_centre(Xg)

    fig = plot_decision_boundary(predict, X, y, resolution=30, title="blobs")
    assert len(calls) == 1
    (grid,) = calls
    assert isinstance(grid, np.ndarray) and grid.dtype == np.float32 and grid.shape == (30 * 30, 2)
    # The grid covers every data point, with a margin.
    assert np.all(grid.min(axis=0) < X.min(axis=0)) and np.all(grid.max(axis=0) > X.max(axis=0))
    (ax,) = fig.axes
    assert ax.get_title() == "blobs"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1", "class 2"]
    # One scatter per class, holding exactly that class's points.
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert sorted(len(c.get_offsets()) for c in scatters) == [20, 20, 20]
    assert_saves_png(fig, tmp_path)


def test_decision_boundary_accepts_model_with_predict(blobs):
    X, y = blobs

    class Model:
        seen = None

        def predict(self, Xg):
            Model.seen = Xg.shape
            return nearest_centre(Xg)

    fig = plot_decision_boundary(Model(), X, y.astype(np.float64), resolution=10)  # float labels like 2.0 are fine
    assert Model.seen == (100, 2)
    assert len(fig.axes) == 1


def test_decision_boundary_accepts_array_api_arrays(blobs):
    xp = pytest.importorskip("array_api_strict")
    X, y = blobs
    fig = plot_decision_boundary(lambda g: xp.asarray(nearest_centre(g)), xp.asarray(X), xp.asarray(y), resolution=8)
    assert len(fig.axes) == 1


@pytest.mark.parametrize(
    "X, y, predict, error, match",
    [
        (np.zeros((5, 3)), np.zeros(5, int), nearest_centre, ValueError, r"shape \(n_samples, 2\).*got shape \(5, 3\)"),
        (np.zeros(5), np.zeros(5, int), nearest_centre, ValueError, r"got shape \(5,\)"),
        (np.zeros((5, 2)), np.zeros(4, int), nearest_centre, ValueError, r"one label per row of X \(5\), but has 4"),
        (np.zeros((5, 2)), np.eye(5), nearest_centre, ValueError, r"1-D class indices.*argmax"),
        (np.zeros((5, 2)), np.full(5, 0.5), nearest_centre, ValueError, r"whole-number class indices"),
        (np.zeros((5, 2)), np.zeros(5, int), "model", TypeError, r"function or a model with a \.predict.*got str"),
        (np.zeros((5, 2)), np.zeros(5, int), lambda g: np.zeros((len(g), 3)), ValueError, r"1-D class indices.*\(\d+, 3\)"),
        (np.zeros((5, 2)), np.zeros(5, int), lambda g: np.zeros(3, int), ValueError, r"one label per grid row"),
    ],
)
def test_decision_boundary_errors(X, y, predict, error, match):
    with pytest.raises(error, match=match):
        plot_decision_boundary(predict, X, y, resolution=5)


def test_decision_boundary_resolution_must_be_int(blobs):
    X, y = blobs
    with pytest.raises(TypeError, match=r"resolution should be an integer.*float"):
        plot_decision_boundary(nearest_centre, X, y, resolution=20.0)


# --------------------------------------------------------------------------- plot_weights


def test_weights_matrix(tmp_path):
    W = np.random.default_rng(1).normal(size=(12, 5))
    W[3, 2] = -4.0  # largest |w| is negative: the scale must still be symmetric
    fig = plot_weights(W)
    (ax,) = image_axes(fig)
    assert len(fig.axes) == 2  # the matrix and its colorbar
    (im,) = ax.get_images()
    np.testing.assert_array_equal(im.get_array(), W)
    assert im.get_clim() == (-4.0, 4.0)
    assert "input" in ax.get_ylabel() and "output" in ax.get_xlabel()
    assert_saves_png(fig, tmp_path)


@pytest.mark.parametrize("n_out, max_units, expected", [(10, 64, 10), (30, 12, 12), (7, 3, 3)])
def test_weights_tiles(n_out, max_units, expected, tmp_path):
    W = np.random.default_rng(2).normal(size=(8 * 8, n_out))
    fig = plot_weights(W, image_shape=(8, 8), max_units=max_units, title="first layer")
    tiles = image_axes(fig)
    assert len(tiles) == expected
    assert len(fig.axes) == expected + 1  # plus one shared colorbar
    limit = np.abs(W[:, :expected]).max()
    for j, ax in enumerate(tiles):
        (im,) = ax.get_images()
        np.testing.assert_array_equal(im.get_array(), W[:, j].reshape(8, 8))
        assert im.get_clim() == (-limit, limit)
    assert fig.get_suptitle() == "first layer"
    assert_saves_png(fig, tmp_path)


def test_weights_all_zero_still_has_a_scale():
    (ax,) = image_axes(plot_weights(np.zeros((3, 2))))
    assert ax.get_images()[0].get_clim() == (-1.0, 1.0)


@pytest.mark.parametrize(
    "W, kwargs, error, match",
    [
        (np.zeros(4), {}, ValueError, r"2-D matrix.*got shape \(4,\)"),
        (np.zeros((2, 2, 2)), {}, ValueError, r"got shape \(2, 2, 2\)"),
        (np.zeros((0, 3)), {}, ValueError, r"not be empty"),
        (np.zeros((64, 5)), {"image_shape": (7, 7)}, ValueError, r"\(7, 7\) has 49 pixels, but W has 64 inputs"),
        (np.zeros((5, 64)), {"image_shape": (8, 8)}, ValueError, r"Is W transposed"),
        (np.zeros((64, 5)), {"image_shape": 64}, TypeError, r"pair \(height, width\)"),
        (np.zeros((64, 5)), {"image_shape": (8, 8), "max_units": 0}, ValueError, r"max_units should be at least 1"),
        (np.array([["a"]]), {}, TypeError, r"W should hold numbers"),
    ],
)
def test_weights_errors(W, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot_weights(W, **kwargs)


# --------------------------------------------------------------------------- plot_activation_histograms


def test_activation_histograms_dict(tmp_path):
    rng = np.random.default_rng(3)
    relu = np.maximum(rng.normal(size=(100, 8)), 0)
    tanh = np.tanh(rng.normal(size=(100, 4)))
    fig = plot_activation_histograms({"hidden 1 (ReLU)": relu, "hidden 2 (tanh)": tanh}, bins=20, title="acts")
    assert len(fig.axes) == 2
    ax_relu, ax_tanh = fig.axes
    assert ax_relu.get_title() == "hidden 1 (ReLU)"
    assert len(ax_relu.patches) == 20
    assert sum(p.get_height() for p in ax_relu.patches) == relu.size  # every value counted once
    relu_text = ax_relu.texts[0].get_text()
    assert f"mean {relu.mean():.3g}" in relu_text and f"std {relu.std():.3g}" in relu_text
    assert f"zeros {np.mean(relu == 0):.1%}" in relu_text
    assert "zeros" not in ax_tanh.texts[0].get_text()  # no exact zeros: not mentioned
    assert fig.get_suptitle() == "acts"
    assert_saves_png(fig, tmp_path)


def test_activation_histograms_list_names_and_grid(tmp_path):
    layers = [np.full((4, 3), float(i)) for i in range(6)]  # constant layers, including all-zero
    fig = plot_activation_histograms(layers)
    assert [ax.get_title() for ax in fig.axes] == [f"layer {i}" for i in range(1, 7)]
    assert "zeros 100.0%" in fig.axes[0].texts[0].get_text()
    assert_saves_png(fig, tmp_path)


def test_activation_histograms_non_finite_values():
    fig = plot_activation_histograms([np.array([np.nan, np.nan, 1.0, 2.0]), np.array([np.inf])])
    assert "NaN/inf 50.0%" in fig.axes[0].texts[0].get_text()
    assert "no finite values" in fig.axes[1].texts[0].get_text()


@pytest.mark.parametrize(
    "activations, kwargs, error, match",
    [
        ({}, {}, ValueError, r"at least one layer"),
        ([], {}, ValueError, r"at least one layer"),
        (np.zeros((3, 3)), {}, TypeError, r"dict \{name: array\} or a list.*got ndarray"),
        ({"h": np.zeros((0, 4))}, {}, ValueError, r"activations\['h'\] should hold values"),
        ([np.zeros(3)], {"bins": 0}, ValueError, r"bins should be at least 1"),
    ],
)
def test_activation_histogram_errors(activations, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot_activation_histograms(activations, **kwargs)


# --------------------------------------------------------------------------- plot_confusion_matrix


def test_confusion_matrix_cell_texts_equal_counts(tmp_path):
    y_true = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 0, 2, 2, 2, 1])
    expected = np.array([[1, 1, 0], [1, 2, 0], [0, 1, 3]])
    fig = plot_confusion_matrix(y_true, y_pred)
    assert len(fig.axes) == 2  # matrix and colorbar
    (ax,) = image_axes(fig)
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), expected)
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert cells == {(i, j): str(expected[i, j]) for i in range(3) for j in range(3)}
    assert ax.get_xlabel() == "predicted label" and ax.get_ylabel() == "true label"
    assert "66.7%" in ax.get_title()  # 6 of 9 correct
    assert_saves_png(fig, tmp_path)


def test_confusion_matrix_n_classes_adds_empty_rows():
    fig = plot_confusion_matrix([0, 1], [0, 1], n_classes=4, title="t")
    (ax,) = image_axes(fig)
    assert ax.get_images()[0].get_array().shape == (4, 4)
    assert len(ax.texts) == 16
    assert ax.get_title() == "t"


@pytest.mark.parametrize(
    "y_true, y_pred, n_classes, error, match",
    [
        ([0, 1, 2], [0, 1], None, ValueError, r"same length, but have 3 and 2"),
        ([], [], None, ValueError, r"at least one sample"),
        ([0, 3], [0, 1], 3, ValueError, r"below n_classes=3, but the largest label is 3"),
        ([0, -1], [0, 1], None, ValueError, r"smallest value is -1"),
        ([[0, 1]], [[0, 1]], None, ValueError, r"1-D class indices.*\(1, 2\)"),
        ([0, 1], [0, 1], 2.5, TypeError, r"n_classes should be an integer"),
    ],
)
def test_confusion_matrix_errors(y_true, y_pred, n_classes, error, match):
    with pytest.raises(error, match=match):
        plot_confusion_matrix(np.array(y_true, dtype=np.int64), np.array(y_pred, dtype=np.int64), n_classes)


def test_a_figure_shows_as_a_picture_in_a_fresh_kernel_without_a_magic():
    """The README's example in a real notebook kernel: the last value of the cell is a Figure,
    and IPython must send a PNG of it, not only the text ``<Figure size ...>``."""
    import os

    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from mlpcore import plots\n"
        "plots.plot_history({'loss': [1.0, 0.5, 0.25], 'accuracy': [0.5, 0.75, 0.9]})")])
    # A kernel as JupyterLab starts it: no MPLBACKEND from the test run's environment.
    environment = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute(env=environment)
    outputs = notebook.cells[0].outputs
    assert [output.output_type for output in outputs] == ["execute_result"], outputs
    png = outputs[0].data.get("image/png")
    assert png, f"the figure came back as {sorted(outputs[0].data)}: {outputs[0].data.get('text/plain')}"
    import base64

    assert base64.b64decode(png).startswith(b"\x89PNG")
