"""The benchmark code must keep working and measure the right thing; no timing is asserted."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mlpcore
from benchmarks import common, loops, memory, throughput
from mlpcore import optim

ROOT = Path(__file__).resolve().parent.parent


def test_training_flops_by_hand():
    # layers 3-4-2, 5 samples: products 12 and 8; forward 2*5*(12+8), dW the same, dX only for layer 2: 2*5*8
    assert common.training_flops([3, 4, 2], 5) == 2 * 5 * (2 * 20 + 8)


def test_loop_versions_compute_the_same_as_numpy():
    rng = np.random.default_rng(1)
    X, W, b, dZ = rng.standard_normal((5, 6)), rng.standard_normal((6, 3)), rng.standard_normal(3), rng.standard_normal((5, 3))
    np.testing.assert_allclose(loops.loop_dense_forward(X.tolist(), W.tolist(), b.tolist()), X @ W + b)
    np.testing.assert_allclose(loops.per_sample_dense_forward(X, W, b), X @ W + b)
    for loop, per_sample, matrix in zip(loops.loop_dense_backward(dZ.tolist(), X.tolist(), W.tolist()),
                                        loops.per_sample_dense_backward(dZ, X, W), (dZ @ W.T, X.T @ dZ, dZ.sum(0))):
        np.testing.assert_allclose(loop, matrix)
        np.testing.assert_allclose(per_sample, matrix)


def test_the_three_training_steps_agree():
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    params = {"W1": rng.standard_normal((4, 5)), "b1": rng.standard_normal(5), "W2": rng.standard_normal((5, 3)), "b2": np.zeros(3)}
    lists = {k: v.tolist() for k, v in params.items()}
    per_sample = {k: v.copy() for k, v in params.items()}
    matrix = {k: v.copy() for k, v in params.items()}
    loops.loop_train_step(X.tolist(), y.tolist(), lists["W1"], lists["b1"], lists["W2"], lists["b2"], 0.1)
    loops.per_sample_train_step(X, y, per_sample, 0.1)
    loops.matrix_train_step(X, y, matrix, 0.1)
    for name in params:
        np.testing.assert_allclose(lists[name], matrix[name], rtol=1e-10)
        np.testing.assert_allclose(per_sample[name], matrix[name], rtol=1e-10)


def test_plain_numpy_script_trains_like_mlpcore():
    # One full-batch epoch: the row order does not matter, so both must reach the same weights.
    X, y = throughput.synthetic_data(64, 784, 10)
    model = mlpcore.MLP(throughput.LAYERS, seed=0)
    params = throughput.starting_params()
    model.fit(X, y, epochs=1, batch_size=64, optimizer=optim.SGD(0.1), progress=False)
    throughput.plain_numpy_epoch(X, y, params, 64, 0.1, np.random.default_rng(0))
    for name in params:
        np.testing.assert_allclose(params[name], model.params[name], rtol=1e-4, atol=1e-6)


def test_products_only_floor_does_the_training_products_and_leaves_the_weights_alone():
    X, _ = throughput.synthetic_data(100, 784, 10)
    params = throughput.starting_params()
    before = {k: v.copy() for k, v in params.items()}
    products = []

    class Counting(np.ndarray):  # counts the FLOPs of every matrix product on the gathered batches
        def __matmul__(self, other):
            products.append(2 * self.shape[0] * self.shape[1] * other.shape[1])
            return np.matmul(np.asarray(self), np.asarray(other)).view(Counting)

    throughput.products_only_epoch(X.view(Counting), params, 32, np.random.default_rng(0))
    assert sum(products) == common.training_flops(throughput.LAYERS, 100)
    for name in params:
        np.testing.assert_array_equal(params[name], before[name])


def test_cpu_runs_stay_on_the_cpu_when_the_environment_asks_for_a_gpu(monkeypatch):
    # MLPCORE_DEVICE is how a user sends their own models to a GPU; the CPU columns must not follow it
    # (here, with no GPU, a model that followed it would raise; on a GPU machine it would time the GPU).
    monkeypatch.setenv("MLPCORE_DEVICE", "gpu")
    X, y = throughput.synthetic_data(64, 784, 10)
    params = throughput.starting_params()
    assert all(type(value) is np.ndarray for value in params.values())
    for implementation in ("mlpcore", "numpy", "products"):
        throughput.epoch_runner(implementation, X, y, 32)()
    assert memory.measure("mlpcore", n_samples=64, batch_size=32)["peak_traced"] > 0


def test_required_memory_counts_data_params_grads_and_one_batch():
    need = memory.required_bytes(n_samples=10, batch_size=2)
    assert need["data"] == 10 * 784 * 4 + 10 * 8
    assert need["parameters"] == 2 * 4 * (784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10)
    assert need["activations"] == 2 * 2 * (256 + 128 + 10) * 4 + 2 * 784 * 4


def test_table_renders_every_row():
    table = common.Table("T", ["a", "b"], [[1, 0.5], ["x", float("nan")]], ["n"])
    assert table.render().splitlines() == ["T", "=", "a    b", "-  ---", "1  0.5", "x    -", "note: n"]


@pytest.mark.slow
def test_quick_run_writes_results_and_a_plot(tmp_path):
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--repeats", "1", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "results.json").read_text())
    assert set(record["tables"]) == {"loops", "throughput", "memory", "gpu", "similarity"}
    similarity = record["tables"]["similarity"]["rows"][0]  # 40 students, 5 of them copiers, 7 exercises
    # the copies of the long answers at least (backward_pass, softmax_cross_entropy); nothing else flagged
    assert similarity[0] == 40 and similarity[5].endswith("of 35") and int(similarity[5].split()[0]) >= 10
    assert similarity[6] == 0
    assert record["machine"]["cores"] >= 1 and record["gemm_peak_gflops"] > 0
    throughput_rows = record["tables"]["throughput"]["rows"]
    assert [row[0] for row in throughput_rows] == [32, 256] and all(row[1] > 0 for row in throughput_rows)
    assert all(row[4] < 1.5 for row in record["tables"]["memory"]["rows"] if row[0] == "mlpcore")
    assert (tmp_path / "benchmarks.png").stat().st_size > 10_000
    assert "Training throughput" in done.stdout and "wrote" in done.stdout


def test_mlpcore_bench_forwards_its_arguments(capsys):
    from mlpcore.cli import main

    assert main(["bench", "--help"]) == 0
    assert "--quick" in capsys.readouterr().out


def test_the_notebook_benchmark_times_a_run_and_stops_one_at_its_limit(tmp_path):
    from benchmarks import notebooks
    import nbformat

    path = tmp_path / "nap.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time\ntime.sleep(1)")]), path)
    run = notebooks.run_notebook(path, "1", limit=60)
    assert run["finished"] and run["seconds"] >= run["slowest_cell_seconds"] >= 1.0
    stopped = notebooks.run_notebook(path, "all", limit=0.5)  # the one-second cell outlasts the limit
    assert not stopped["finished"]
    with notebooks.busy_processes(2):
        pass  # they start, and are stopped when the block ends
    notebooks.plot([{**run, "notebook": "nap", "load": "idle", "blas_threads": "one"}], tmp_path / "chart.png")
    assert (tmp_path / "chart.png").stat().st_size > 1000
