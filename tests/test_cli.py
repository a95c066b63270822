import gzip
import struct

import numpy as np
import pytest

from mlpcore import MLP
from mlpcore.cli import main


def test_train_with_the_defaults_learns_the_digits(capsys):
    assert main(["train", "--no-progress"]) == 0
    out = capsys.readouterr().out
    accuracy = float(out.strip().splitlines()[-1].split()[2].rstrip("%"))
    assert out.strip().splitlines()[-1].startswith("test accuracy: ") and accuracy >= 95


def test_train_a_synthetic_set_saving_the_model_and_curves(tmp_path, capsys):
    code = main([
        "train", "--dataset", "xor", "--hidden", "8", "--epochs", "40", "--optimizer", "adam", "--lr", "0.02",
        "--save", str(tmp_path / "xor"), "--plot", str(tmp_path / "curves.png"), "--no-progress",
    ])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "model saved to" in out and (tmp_path / "curves.png").stat().st_size > 1000
    assert MLP.load(tmp_path / "xor.npz").layer_sizes == [2, 8, 2]


def test_progress_bar_goes_to_stderr(capsys):
    main(["train", "--dataset", "moons", "--epochs", "2"])
    assert "epoch 2/2" in capsys.readouterr().err


def write_idx(path, array):
    codes = {np.dtype(np.uint8): 0x08}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.tobytes())


def test_train_on_idx_files(tmp_path, capsys):
    # Two easy "image" classes: bright top half or bright bottom half.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 120).astype(np.uint8)
    images = (rng.random((120, 4, 4)) * 60).astype(np.uint8)
    images[y == 0, :2] += 150
    images[y == 1, 2:] += 150
    write_idx(tmp_path / "img.gz", images)
    write_idx(tmp_path / "lbl.gz", y)
    code = main(["train", "--dataset", "idx", "--train-images", str(tmp_path / "img.gz"),
                 "--train-labels", str(tmp_path / "lbl.gz"), "--epochs", "30", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0 and "test accuracy: 100.00%" in out


def test_idx_without_files_is_a_clear_error(capsys):
    assert main(["train", "--dataset", "idx"]) == 2
    assert "needs --train-images and --train-labels" in capsys.readouterr().err


def test_a_missing_output_folder_is_refused_before_training(tmp_path, capsys):
    assert main(["train", "--save", str(tmp_path / "nowhere" / "model.npz")]) == 2
    captured = capsys.readouterr()
    assert "--save" in captured.err and "does not exist; create it first" in captured.err
    assert "trained in" not in captured.out  # nothing was trained, so nothing was lost


def test_a_damaged_idx_file_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "images.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x03abc")[:-6])
    assert main(["train", "--dataset", "idx", "--train-images", str(tmp_path / "images.gz"),
                 "--train-labels", str(tmp_path / "images.gz")]) == 2
    assert "is a damaged gzip file" in capsys.readouterr().err


def test_gpu_without_a_gpu_is_a_clear_error(capsys):
    from mlpcore import backend

    if backend.gpu_available():
        pytest.skip("a GPU is usable here")
    assert main(["train", "--device", "gpu", "--epochs", "1"]) == 2
    assert "device='gpu' was asked for" in capsys.readouterr().err


def test_bad_arguments_exit_with_usage(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--epochs", "0"])
    assert exit_info.value.code == 2
    assert "should be a positive whole number" in capsys.readouterr().err


def test_python_dash_m_mlpcore_is_the_mlpcore_command():
    """``python -m mlpcore`` runs the same entry point, exit status included."""
    import subprocess
    import sys

    ran = subprocess.run([sys.executable, "-m", "mlpcore", "train", "--dataset", "xor", "--hidden", "4",
                          "--epochs", "1", "--no-progress"], capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip().splitlines()[-1].startswith("test accuracy: ")
    refused = subprocess.run([sys.executable, "-m", "mlpcore", "grade"], capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "ASSIGNMENT" in refused.stderr
