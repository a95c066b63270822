import math

import numpy as np
import pytest

import mlpcore
from mlpcore import MLP, data, optim
from mlpcore.gradcheck import numerical_gradient, relative_error
from conftest import assert_close, to_xp


def small_problem(rng, batch=6, n_in=4, n_classes=3):
    return rng.standard_normal((batch, n_in)), rng.integers(0, n_classes, batch)


# --------------------------------------------------------------- the numbers


def test_a_2_2_2_network_worked_by_hand(xp):
    params = {
        "W1": to_xp(xp, [[0.5, -1.0], [0.25, 0.5]]),
        "b1": to_xp(xp, [0.0, 0.5]),
        "W2": to_xp(xp, [[1.0, 0.0], [0.0, 2.0]]),
        "b2": to_xp(xp, [0.0, 0.0]),
    }
    model = MLP.from_params(params)
    X, y = to_xp(xp, [[1.0, 2.0]]), to_xp(xp, [0])
    # Z1 = [1*0.5 + 2*0.25, 1*-1 + 2*0.5 + 0.5] = [1, 0.5]; A1 = relu(Z1) = [1, 0.5]
    # logits = A1 @ W2 = [1, 1] -> P = [0.5, 0.5]; loss = -log(0.5) = ln 2
    # dlogits = P - onehot(0) = [-0.5, 0.5]
    # dW2 = A1.T @ dlogits = [[-0.5, 0.5], [-0.25, 0.25]];  db2 = [-0.5, 0.5]
    # dA1 = dlogits @ W2.T = [-0.5, 1];  dZ1 = dA1 (both Z1 > 0)
    # dW1 = X.T @ dZ1 = [[-0.5, 1], [-1, 2]];  db1 = [-0.5, 1]
    loss, grads = model.loss_and_grads(X, y)
    assert loss == pytest.approx(math.log(2))
    assert_close(grads["W2"], [[-0.5, 0.5], [-0.25, 0.25]])
    assert_close(grads["b2"], [-0.5, 0.5])
    assert_close(grads["W1"], [[-0.5, 1.0], [-1.0, 2.0]])
    assert_close(grads["b1"], [-0.5, 1.0])


@pytest.mark.parametrize("sizes", [[4, 3], [4, 5, 3], [4, 6, 5, 3]])
@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("l2", [0.0, 0.05])
def test_loss_and_grads_agree_with_central_differences(xp, rng, sizes, activation, l2):
    numpy_model = MLP(sizes, activation=activation, dtype="float64", seed=1)
    params = {name: to_xp(xp, value.copy()) for name, value in numpy_model.params.items()}
    model = MLP.from_params(params, activation=activation)
    X, y = small_problem(rng)
    X, y = to_xp(xp, X), to_xp(xp, y)
    _, grads = model.loss_and_grads(X, y, l2=l2)
    assert set(grads) == set(params)
    for name, value in model.params.items():
        numeric = numerical_gradient(lambda _: model.loss_and_grads(X, y, l2=l2)[0], value)
        assert relative_error(grads[name], numeric) < 1e-7, name


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_loss_and_grads_with_dropout_agree_with_central_differences(rng, activation):
    model = MLP([4, 6, 5, 3], activation=activation, dtype="float64", seed=1)
    X, y = small_problem(rng)
    for name in ("b1", "b2"):
        # A row whose inputs are all dropped has Z = b; with b = 0 that sits on ReLU's kink.
        model.params[name] += rng.uniform(0.1, 0.5, model.params[name].shape)

    def loss_and_grads():
        model._rng = np.random.default_rng(99)  # the same dropout masks at every evaluation
        return model.loss_and_grads(X, y, dropout=0.4)

    _, grads = loss_and_grads()
    for name, value in model.params.items():
        numeric = numerical_gradient(lambda _: loss_and_grads()[0], value)
        assert relative_error(grads[name], numeric) < 1e-7, name


def test_a_batch_of_one(rng):
    model = MLP([3, 4, 2], dtype="float64")
    X, y = rng.standard_normal((1, 3)), np.array([1])
    loss, grads = model.loss_and_grads(X, y)
    numeric = numerical_gradient(lambda _: model.loss_and_grads(X, y)[0], model.params["W1"])
    assert relative_error(grads["W1"], numeric) < 1e-7


def test_float32_model_stays_float32(rng):
    model = MLP([4, 5, 3])
    X, y = small_problem(rng)
    _, grads = model.loss_and_grads(X, y)  # float64 data is cast to the model's dtype
    assert all(g.dtype == np.float32 for g in grads.values())
    model.fit(X, y, epochs=2, batch_size=4, progress=False)
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert model.predict_proba(X).dtype == np.float32


def test_same_seed_same_model_after_training(rng):
    X, y = small_problem(rng, batch=40)
    runs = []
    for _ in range(2):
        model = MLP([4, 8, 3], seed=5)
        model.fit(X, y, epochs=3, batch_size=8, optimizer=optim.Adam(0.01), dropout=0.2, progress=False)
        runs.append(model.params)
    for name in runs[0]:
        np.testing.assert_array_equal(runs[0][name], runs[1][name])
    assert not np.array_equal(MLP([4, 8, 3], seed=6).params["W1"], MLP([4, 8, 3], seed=5).params["W1"])


# ----------------------------------------------------------------- training


@pytest.mark.slow
def test_digits_reach_95_percent_test_accuracy():
    X, y = data.load_digits()
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.2, seed=0)
    model = MLP([64, 128, 64, 10], seed=0)
    model.fit(X_train, y_train, epochs=30, batch_size=32, optimizer=optim.Adam(0.003), progress=False)
    assert np.mean(model.predict(X_test) == y_test) >= 0.95


@pytest.mark.slow
@pytest.mark.parametrize(
    "make,sizes",
    [(data.make_spirals, [2, 64, 64, 3]), (data.make_xor, [2, 16, 2]), (data.make_moons, [2, 32, 2])],
)
def test_toy_problems_are_learned_completely(make, sizes):
    X, y = make(n_samples=300, seed=0)
    model = MLP(sizes, seed=0)
    history = model.fit(X, y, epochs=300, batch_size=32, optimizer=optim.Adam(0.01), progress=False)
    assert history["accuracy"][-1] >= 0.99
    assert np.mean(model.predict(X) == y) >= 0.99


def test_history_has_one_entry_per_epoch(rng):
    X, y = small_problem(rng, batch=30)
    history = MLP([4, 6, 3]).fit(X, y, epochs=4, batch_size=7, validation_data=(X, y), progress=False)
    assert {k: len(v) for k, v in history.items()} == {"loss": 4, "accuracy": 4, "val_loss": 4, "val_accuracy": 4}
    assert history["loss"][-1] < history["loss"][0]
    assert all(0.0 <= a <= 1.0 for a in history["accuracy"])
    no_validation = MLP([4, 6, 3]).fit(X, y, epochs=2, progress=False)
    assert no_validation["val_loss"] == [] and len(no_validation["loss"]) == 2


def test_history_reports_the_loss_and_accuracy_before_each_step(rng):
    # One batch of the whole set, in order: the epoch's loss and accuracy are those of the weights before the step.
    X, y = small_problem(rng, batch=30)
    model = MLP([4, 6, 3], seed=0)
    loss_before, _ = model.loss_and_grads(X, y, l2=0.01)
    accuracy_before = float(np.mean(model.predict(X) == y))
    history = model.fit(X, y, epochs=1, batch_size=30, shuffle=False, l2=0.01, progress=False)
    assert history["loss"][0] == pytest.approx(loss_before, rel=1e-6)
    assert history["accuracy"][0] == accuracy_before
    assert isinstance(history["accuracy"][0], float)


def test_fit_on_every_backend_matches_numpy_with_a_short_last_batch(xp, rng):
    # 30 rows in batches of 8: the last batch has 6 rows.
    X, y = small_problem(rng, batch=30)
    start = MLP([4, 6, 3], dtype="float64").params
    reference = MLP.from_params({name: value.copy() for name, value in start.items()}, seed=1)
    model = MLP.from_params({name: to_xp(xp, value.copy()) for name, value in start.items()}, seed=1)  # the same shuffles
    settings = dict(epochs=2, batch_size=8, progress=False)
    expected = reference.fit(X, y, validation_data=(X, y), optimizer=optim.Momentum(0.05), **settings)
    history = model.fit(to_xp(xp, X), to_xp(xp, y), validation_data=(to_xp(xp, X), to_xp(xp, y)),
                        optimizer=optim.Momentum(0.05), **settings)
    for key in expected:
        np.testing.assert_allclose(history[key], expected[key], rtol=1e-9)
    for name in reference.params:
        assert_close(model.params[name], reference.params[name], rtol=1e-9, atol=1e-12)


def test_l2_keeps_weights_smaller(rng):
    X, y = small_problem(rng, batch=60)
    norms = []
    for l2 in (0.0, 0.1):
        model = MLP([4, 16, 3], seed=0)
        model.fit(X, y, epochs=50, batch_size=20, l2=l2, progress=False)
        norms.append(float(np.sum(model.params["W1"] ** 2)))
    assert norms[1] < 0.7 * norms[0]


def test_progress_bar_can_be_turned_off(rng, capsys):
    X, y = small_problem(rng)
    MLP([4, 3]).fit(X, y, epochs=2, progress=True)
    assert "epoch 2/2" in capsys.readouterr().err
    MLP([4, 3]).fit(X, y, epochs=2, progress=False)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_predictions_and_hidden_activations(rng):
    model = MLP([4, 5, 6, 3])
    X, _ = small_problem(rng)
    P = model.predict_proba(X)
    assert P.shape == (6, 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(model.predict(X), P.argmax(axis=1))
    acts = model.hidden_activations(X)
    assert list(acts) == ["layer 1", "layer 2"] and acts["layer 2"].shape == (6, 6)
    assert (acts["layer 1"] >= 0).all()  # ReLU


def test_evaluate_matches_loss_and_grads_without_regularization(rng):
    model = MLP([4, 5, 3])
    X, y = small_problem(rng)
    loss, accuracy = model.evaluate(X, y)
    assert loss == pytest.approx(model.loss_and_grads(X, y)[0], rel=1e-6)
    assert accuracy == pytest.approx(np.mean(model.predict(X) == y))


def test_a_diverging_run_says_the_learning_rate_is_too_large(rng):
    X, y = small_problem(rng, batch=40)
    X = X * 1e3
    model = MLP([4, 64, 3], init="normal")
    with pytest.raises(FloatingPointError, match="learning rate .* is probably too large"):
        with np.errstate(all="ignore"):
            model.fit(X, y, epochs=20, optimizer=optim.SGD(1e6), progress=False)
    assert all(np.isfinite(p).all() for p in model.params.values())  # the model is still usable


def test_repr_mentions_the_essentials():
    assert repr(MLP([4, 5, 3])) == "MLP([4, 5, 3], activation='relu', dtype='float32', device='cpu', parameters=43)"


# --------------------------------------------------------------- bad input


def test_input_width_mismatch_names_the_layer_and_both_shapes():
    with pytest.raises(ValueError, match=r"layer 1 \(W1 \(784, 16\)\) expects 784 input features per row, but X has shape \(5, 64\)"):
        MLP([784, 16, 10]).fit(np.ones((5, 64)), np.zeros(5, dtype=int), progress=False)


def test_labels_out_of_range_in_fit():
    with pytest.raises(ValueError, match=r"labels should be integers from 0 to 2 \(there are 3 classes\), but y contains 3"):
        MLP([2, 3]).fit(np.ones((2, 2)), np.array([0, 3]), progress=False)


def test_wrong_number_of_labels():
    with pytest.raises(ValueError, match=r"labels y should have shape \(4,\), one label per row, but got shape \(3,\)"):
        MLP([2, 3]).loss_and_grads(np.ones((4, 2)), np.array([0, 1, 2]))


def test_values_beyond_float32_are_named_as_such():
    X = np.ones((4, 3))
    X[1, 2] = 1e300  # finite in float64, infinite in float32
    with pytest.raises(ValueError, match=r"fit: X holds values too large for this float32 model .* 3.4e\+38"):
        MLP([3, 2]).fit(X, np.zeros(4, dtype=int), progress=False)


def test_nan_in_the_data_is_located():
    X = np.ones((5, 3))
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"X contains 1 NaN or infinite value\(s\) \(the first in row 3\)"):
        MLP([3, 2]).fit(X, np.zeros(5, dtype=int), progress=False)


@pytest.mark.parametrize(
    "kwargs,error,message",
    [
        ({"activation": "softplus"}, ValueError, "unknown activation 'softplus'"),
        ({"init": "orthogonal"}, ValueError, "unknown initializer 'orthogonal'"),
        ({"dtype": "float16"}, ValueError, "dtype should be one of"),
        ({"device": "tpu"}, ValueError, "device should be one of 'cpu', 'gpu', 'auto', but got 'tpu'"),
        ({"seed": -1}, ValueError, "a seed should be a whole number >= 0, but got -1"),
    ],
)
def test_bad_settings(kwargs, error, message):
    with pytest.raises(error, match=message):
        MLP([3, 4, 2], **kwargs)


@pytest.mark.parametrize("sizes", [[10], [3, 0, 2], [3, 4, 1], [3, 2.5, 2]])
def test_bad_layer_sizes(sizes):
    with pytest.raises(ValueError, match="layer_sizes|output layer needs at least 2 units"):
        MLP(sizes)


@pytest.mark.parametrize("sizes", ["32", [3, True, 2], 5])
def test_layer_sizes_that_int_would_misread_are_refused(sizes):
    # int() reads "32" as the sizes 3 and 2, and True as 1
    with pytest.raises(TypeError, match=r"layer_sizes should be a list of whole numbers like \[64, 32, 10\]"):
        MLP(sizes)


def test_bad_fit_arguments(rng):
    X, y = small_problem(rng)
    with pytest.raises(TypeError, match=r"validation_data should be a pair \(X_val, y_val\), but got ndarray"):
        MLP([4, 3]).fit(X, y, validation_data=X, progress=False)
    with pytest.raises(ValueError, match="batch_size should be a positive whole number, but got 0"):
        MLP([4, 3]).fit(X, y, batch_size=0, progress=False)
    model = MLP([4, 3])
    before = model.params["W1"].copy()
    with pytest.raises(ValueError, match=r"^fit: dropout should be in \[0, 1\), but got 1"):
        model.fit(X, y, dropout=1, progress=False)
    with pytest.raises(ValueError, match=r"^fit: l2 should be"):
        model.fit(X, y, l2=-0.1, progress=False)
    empty = (np.zeros((0, 4), np.float32), np.zeros(0, np.int64))
    with pytest.raises(ValueError, match=r"^fit \(validation_data\): X should hold at least one sample, but got shape \(0, 4\)"):
        model.fit(X, y, validation_data=empty, progress=False)
    with pytest.raises(TypeError, match=r"^fit: optimizer should be an optimizer object .* but got str \('adam'\)"):
        model.fit(X, y, optimizer="adam", progress=False)
    np.testing.assert_array_equal(model.params["W1"], before)  # refused before the first step
    # ... and before the shuffle: the model's random stream is where a fresh model's is
    assert model.fit(X, y, epochs=1, progress=False) == MLP([4, 3]).fit(X, y, epochs=1, progress=False)


def test_a_loss_over_no_samples_is_refused_but_predicting_none_is_fine():
    model, empty = MLP([4, 3]), np.zeros((0, 4), np.float32)
    for call in (lambda: model.evaluate(empty, np.zeros(0, np.int64)),
                 lambda: model.loss_and_grads(empty, np.zeros(0, np.int64)),
                 lambda: model.fit(empty, np.zeros(0, np.int64), progress=False)):
        with pytest.raises(ValueError, match=r"X should hold at least one sample, but got shape \(0, 4\)"):
            call()
    assert model.predict(empty).shape == (0,) and model.predict_proba(empty).shape == (0, 3)


def test_params_that_do_not_chain_up():
    params = MLP([4, 5, 3]).params
    params["W2"] = np.ones((6, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"layer 2 does not fit: W2 has shape \(6, 3\)"):
        MLP.from_params(params)


def test_input_from_another_backend_is_refused():
    # NumPy input is moved to the model's device; any other foreign array is an error
    # (on a GPU machine: a CuPy array given to a CPU model, or the other way round).
    import array_api_strict as strict

    with pytest.raises(TypeError, match=r"the input is Array \(array-api-strict\), the model's W1 is ndarray \(NumPy, CPU\)"):
        MLP([3, 2]).predict(strict.ones((2, 3)))


# ----------------------------------------------------------- save and load


def test_save_and_load_round_trip(tmp_path, rng):
    model = MLP([4, 5, 3], activation="tanh", dtype="float64", seed=3)
    X, _ = small_problem(rng)
    path = model.save(tmp_path / "model")
    assert path.name == "model.npz" and not list(tmp_path.glob("*.partial"))
    loaded = MLP.load(path)
    assert loaded.layer_sizes == [4, 5, 3] and loaded.activation == "tanh" and loaded.dtype == np.float64
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_load_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="there is no file"):
        MLP.load(tmp_path / "nope.npz")


def test_load_a_corrupt_file_keeps_it(tmp_path):
    path = MLP([4, 3]).save(tmp_path / "m.npz")
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(ValueError, match="is not a readable .npz file"):
        MLP.load(path)
    assert path.read_bytes() == content[: len(content) // 2]  # nothing deleted or overwritten


def test_load_text_that_is_not_an_archive(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("hello")
    with pytest.raises(ValueError, match="is not a readable .npz file"):
        MLP.load(path)


def test_load_a_foreign_npz(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, weights=np.ones(3))
    with pytest.raises(ValueError, match=r"was not saved by MLP.save: it holds arrays \['weights'\]"):
        MLP.load(path)


def test_load_a_npy_file(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.ones(3))
    with pytest.raises(ValueError, match=r"single array \(.npy\)"):
        MLP.load(path)


def test_load_a_file_with_inconsistent_arrays(tmp_path):
    path = MLP([4, 5, 3]).save(tmp_path / "m.npz")
    with np.load(path) as archive:
        contents = dict(archive)
    contents["W2"] = np.ones((7, 3), dtype=np.float32)
    np.savez(path, **contents)
    with pytest.raises(ValueError, match=r"MLP.load: .*m.npz: layer 2 does not fit"):
        MLP.load(path)


def _edited_model_file(tmp_path, edit):
    path = MLP([4, 3]).save(tmp_path / "m.npz")
    with np.load(path) as archive:
        contents = dict(archive)
    edit(contents)
    np.savez(path, **contents)
    return path


@pytest.mark.parametrize("edit,message", [
    (lambda c: c.__setitem__("W1", np.full((4, 3), np.nan, np.float32)), "W1 holds NaN or infinity"),
    (lambda c: c.update(W1=np.ones((4, 1), np.float32), b1=np.ones(1, np.float32)), "output layer needs at least 2 units"),
    (lambda c: c.__setitem__("__mlpcore__", np.array(str(c["__mlpcore__"]).replace('"version": 1', '"version": "2"'))),
     r"unreadable model settings \(version '2'\)"),
    (lambda c: c.__setitem__("__mlpcore__", np.array(str(c["__mlpcore__"]).replace('"layer_sizes": [4, 3]', '"layer_sizes": null'))),
     r"unreadable model settings \(layer_sizes None\)"),
])
def test_load_refuses_a_file_that_would_not_make_a_working_model(tmp_path, edit, message):
    with pytest.raises(ValueError, match=rf"MLP.load: .*m.npz.*{message}"):
        MLP.load(_edited_model_file(tmp_path, edit))


def test_load_a_file_from_a_newer_version(tmp_path):
    path = MLP([4, 3]).save(tmp_path / "m.npz")
    with np.load(path) as archive:
        contents = dict(archive)
    contents["__mlpcore__"] = np.array(str(contents["__mlpcore__"]).replace('"version": 1', '"version": 99'))
    np.savez(path, **contents)
    with pytest.raises(ValueError, match="written by a newer mlpcore"):
        MLP.load(path)


def test_a_failed_save_keeps_the_earlier_file_and_leaves_no_partial(tmp_path, monkeypatch):
    path = MLP([4, 3], seed=1).save(tmp_path / "m.npz")
    before = path.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError, match="No space left"):
        MLP([4, 3], seed=2).save(path)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.partial"))


def test_save_into_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        MLP([4, 3]).save(tmp_path / "missing" / "m.npz")


# --------------------------------------------------------------------- GPU


@pytest.mark.gpu
def test_gpu_model_matches_the_cpu_model(cupy_xp, rng):
    X, y = small_problem(rng, batch=64)
    cpu, gpu = MLP([4, 16, 3], dtype="float64", seed=2), MLP([4, 16, 3], dtype="float64", seed=2, device="gpu")
    assert gpu.device == "gpu" and mlpcore.backend.device_of(gpu.params["W1"]) == "gpu"
    for model in (cpu, gpu):
        model.fit(X, y, epochs=3, batch_size=16, optimizer=optim.Adam(0.01), progress=False)
    for name in cpu.params:
        assert_close(gpu.params[name], cpu.params[name], rtol=1e-9, atol=1e-12)
    predictions = gpu.predict(X)  # NumPy in, NumPy out
    assert isinstance(predictions, np.ndarray)
