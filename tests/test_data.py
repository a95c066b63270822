"""Tests for mlpcore.data: bundled digits, toy generators, splitting, IDX files."""

import gzip
import pathlib

import numpy as np
import pytest

from mlpcore.data import (
    load_digits,
    load_idx,
    load_idx_dataset,
    make_moons,
    make_spirals,
    make_xor,
    train_test_split,
)

DIGIT_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


# ---------------------------------------------------------------------------
# load_digits
# ---------------------------------------------------------------------------

def test_digits_shapes_dtypes_and_range():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.bincount(y).tolist() == DIGIT_COUNTS


def test_digits_raw_values_are_whole_numbers_0_to_16():
    X_raw, _ = load_digits(normalize=False)
    X, _ = load_digits()
    assert X_raw.dtype == np.float32
    assert X_raw.min() == 0.0 and X_raw.max() == 16.0
    np.testing.assert_array_equal(X_raw, np.round(X_raw))
    np.testing.assert_allclose(X, X_raw / 16)


def test_digits_rows_are_row_major_flattened_images():
    # The first image of the UCI set is a zero: its centre column (pixels 3-4
    # of the middle rows) is the empty hole, its left/right edges are ink.
    X, y = load_digits(normalize=False)
    image = X[0].reshape(8, 8)
    assert y[0] == 0
    assert image[3:5, 3:5].sum() < image[3:5, [1, 2, 5, 6]].sum()
    assert image[0].sum() > 0 and image[:, 0].sum() == 0  # top row has ink; left column is blank


def test_digits_returns_fresh_copies():
    X, y = load_digits()
    X[:] = -1.0
    y[:] = 99
    X2, y2 = load_digits()
    assert X2.min() == 0.0 and X2.max() == 1.0
    assert np.bincount(y2).tolist() == DIGIT_COUNTS
    assert not np.shares_memory(X, X2)


# ---------------------------------------------------------------------------
# Toy generators
# ---------------------------------------------------------------------------

GENERATORS = [make_spirals, make_moons, make_xor]


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_shapes_and_dtypes(make):
    X, y = make(n_samples=101)
    assert X.shape == (101, 2) and X.dtype == np.float32
    assert y.shape == (101,) and y.dtype == np.int64


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_same_seed_same_data(make):
    X1, y1 = make(seed=3)
    X2, y2 = make(seed=3)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_different_seeds_differ(make):
    X1, _ = make(seed=1)
    X2, _ = make(seed=2)
    assert not np.array_equal(X1, X2)


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_accepts_a_generator(make):
    X1, _ = make(seed=np.random.default_rng(5))
    X2, _ = make(seed=np.random.default_rng(5))
    np.testing.assert_array_equal(X1, X2)


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_does_not_touch_global_random_state(make):
    np.random.seed(0)
    before = np.random.get_state()[1].copy()
    make(seed=None)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_output_is_shuffled(make):
    _, y = make(n_samples=200)
    # Built class by class, an unshuffled y would change label only once per class.
    assert np.count_nonzero(np.diff(y)) > 20


@pytest.mark.parametrize("n_samples", [7, 300, 301])
def test_spirals_class_balance(n_samples):
    _, y = make_spirals(n_samples=n_samples, n_classes=3)
    counts = np.bincount(y, minlength=3)
    assert counts.sum() == n_samples and counts.max() - counts.min() <= 1


@pytest.mark.parametrize("make", [make_moons, make_xor])
@pytest.mark.parametrize("n_samples", [2, 3, 200, 201])
def test_two_class_balance(make, n_samples):
    _, y = make(n_samples=n_samples)
    counts = np.bincount(y, minlength=2)
    assert len(counts) == 2 and counts.max() - counts.min() <= 1


def test_spirals_have_one_arm_per_class():
    X, y = make_spirals(n_samples=500, n_classes=5, noise=0.0)
    assert set(np.unique(y)) == set(range(5))
    radius = np.linalg.norm(X, axis=1)
    angle = np.arctan2(X[:, 1], X[:, 0])
    for k in range(5):
        r, a = radius[y == k], angle[y == k]
        order = np.argsort(r)
        # Without noise each arm is one curve: the angle unwound along the
        # radius turns once, starting at the arm's own offset 2*pi*k/5.
        unwound = np.unwrap(a[order])
        assert np.all(np.diff(unwound) > 0)
        assert unwound[-1] - unwound[0] == pytest.approx(2 * np.pi, abs=0.05)
        start = np.exp(1j * unwound[0])
        assert start == pytest.approx(np.exp(2j * np.pi * k / 5), abs=1e-6)


def test_spirals_stay_within_unit_square_and_noise_is_used():
    X, _ = make_spirals(noise=0.2)
    assert np.abs(X).max() <= 1.0
    X0, _ = make_spirals(noise=0.0)
    assert not np.allclose(np.sort(X, axis=0), np.sort(X0, axis=0))


def _nearest_neighbour_accuracy(X, y):
    """Leave-one-out 1-nearest-neighbour accuracy: high means classes do not overlap."""
    d = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    return np.mean(y[d.argmin(axis=1)] == y)


@pytest.mark.parametrize("make", GENERATORS)
def test_default_problems_have_well_separated_classes(make):
    X, y = make()
    assert _nearest_neighbour_accuracy(X, y) >= 0.98


def test_moons_without_noise_lie_on_two_half_circles():
    X, y = make_moons(n_samples=101, noise=0.0)
    centred = X + [0.5, 0.25]  # undo the centring to get the textbook layout
    upper, lower = centred[y == 0], centred[y == 1]
    np.testing.assert_allclose(np.linalg.norm(upper, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(lower - [1.0, 0.5], axis=1), 1.0, atol=1e-6)
    assert upper[:, 1].min() >= -1e-6 and lower[:, 1].max() <= 0.5 + 1e-6
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=0.05)


def test_xor_labels_follow_sign_product():
    X, y = make_xor(n_samples=400, noise=0.1)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))
    # Every quadrant holds a cluster of about a quarter of the points.
    quadrant = 2 * (X[:, 0] > 0) + (X[:, 1] > 0)
    assert np.bincount(quadrant, minlength=4).tolist() == [100, 100, 100, 100]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_samples": 0}, ValueError, "n_samples should be at least"),
        ({"n_samples": 2.5}, TypeError, "n_samples should be a whole number"),
        ({"n_samples": True}, TypeError, "n_samples should be a whole number"),
        ({"noise": -0.1}, ValueError, "noise should be a finite number >= 0, but got -0.1"),
        ({"noise": float("nan")}, ValueError, "noise should be a finite number"),
        ({"noise": "0.1"}, TypeError, "noise should be a number"),
        ({"seed": "zero"}, TypeError, "Generator or an integer seed"),
    ],
)
@pytest.mark.parametrize("make", GENERATORS)
def test_generator_bad_arguments(make, kwargs, error, match):
    with pytest.raises(error, match=match):
        make(**kwargs)


def test_spirals_bad_class_arguments():
    with pytest.raises(ValueError, match="n_classes should be at least 2, but got 1"):
        make_spirals(n_classes=1)
    with pytest.raises(TypeError, match="n_classes should be a whole number"):
        make_spirals(n_classes=3.0)
    with pytest.raises(ValueError, match=r"n_samples should be at least 4 .*but got 3"):
        make_spirals(n_samples=3, n_classes=4)


# ---------------------------------------------------------------------------
# train_test_split
# ---------------------------------------------------------------------------

def _rows_as_set(X):
    return sorted(map(tuple, X.tolist()))


def test_split_sizes_and_order_of_outputs():
    X = np.arange(200, dtype=np.float32).reshape(100, 2)
    y = np.arange(100) % 4
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25)
    assert X_train.shape == (75, 2) and X_test.shape == (25, 2)
    assert y_train.shape == (75,) and y_test.shape == (25,)
    # Rows and labels stay paired: row i of X is [2i, 2i+1] and has label i % 4.
    np.testing.assert_array_equal(y_train, (X_train[:, 0] // 2).astype(int) % 4)
    np.testing.assert_array_equal(y_test, (X_test[:, 0] // 2).astype(int) % 4)


@pytest.mark.parametrize("stratify", [True, False])
@pytest.mark.parametrize("test_size", [0.25, 0.5, 0.1, 1, 37])
def test_split_loses_and_duplicates_nothing(stratify, test_size):
    X = np.arange(300, dtype=np.float32).reshape(150, 2)
    y = np.repeat([0, 1, 2], [90, 45, 15])
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, stratify=stratify and test_size != 1
    )
    assert _rows_as_set(np.concatenate([X_train, X_test])) == _rows_as_set(X)
    assert len(np.intersect1d(X_train[:, 0], X_test[:, 0])) == 0
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == sorted(y.tolist())
    expected_test = test_size if isinstance(test_size, int) else round(test_size * 150)
    assert len(X_test) == expected_test


def test_split_stratifies_digits():
    X, y = load_digits()
    _, _, y_train, y_test = train_test_split(X, y, test_size=0.2)
    assert len(y_test) == round(0.2 * 1797)
    for c, count in enumerate(DIGIT_COUNTS):
        assert abs(np.count_nonzero(y_test == c) - 0.2 * count) < 1
    assert np.bincount(y_train).tolist() == [c - t for c, t in zip(DIGIT_COUNTS, np.bincount(y_test))]


def test_split_keeps_small_classes_in_both_parts():
    y = np.array([0] * 95 + [1] * 3 + [2] * 2)
    X = np.arange(100).reshape(100, 1)
    _, _, y_train, y_test = train_test_split(X, y, test_size=0.1)
    assert set(y_train) == {0, 1, 2} and set(y_test) == {0, 1, 2}
    assert len(y_test) == 10


def test_split_single_sample_class_goes_to_one_part():
    y = np.array([0] * 10 + [1] * 10 + [2])
    X = np.arange(21).reshape(21, 1)
    X_train, X_test, _, _ = train_test_split(X, y, test_size=0.3)
    assert len(X_test) == 6
    assert _rows_as_set(np.concatenate([X_train, X_test])) == _rows_as_set(X)


def test_split_is_deterministic_and_seed_dependent():
    X, y = make_moons(n_samples=60)
    a = train_test_split(X, y, seed=1)
    b = train_test_split(X, y, seed=1)
    c = train_test_split(X, y, seed=2)
    for part_a, part_b in zip(a, b):
        np.testing.assert_array_equal(part_a, part_b)
    assert not np.array_equal(a[1], c[1])


def test_split_parts_are_shuffled_not_sorted_by_class():
    y = np.repeat([0, 1], 100)
    X = np.arange(200).reshape(200, 1)
    _, _, y_train, y_test = train_test_split(X, y)
    assert np.count_nonzero(np.diff(y_train)) > 10 and np.count_nonzero(np.diff(y_test)) > 5


def test_split_unstratified_can_use_unlabelled_order():
    X = np.arange(40).reshape(20, 2)
    y = np.zeros(20, dtype=np.int64)
    X_train, X_test, _, _ = train_test_split(X, y, test_size=5, stratify=False)
    assert len(X_test) == 5 and len(X_train) == 15


@pytest.mark.parametrize(
    "test_size, error, match",
    [
        (1.5, ValueError, "fraction between 0 and 1 or a whole number of samples, but got 1.5"),
        (0.0, ValueError, "but got 0.0"),
        (-3, ValueError, r"between 1 and 19 .*but got -3"),
        (20, ValueError, r"between 1 and 19 .*but got 20"),
        ("0.2", TypeError, "but got str"),
        (True, TypeError, "but got bool"),
    ],
)
def test_split_bad_test_size(test_size, error, match):
    X = np.zeros((20, 2))
    y = np.arange(20) % 2
    with pytest.raises(error, match=match):
        train_test_split(X, y, test_size=test_size)


def test_split_length_mismatch_names_both_lengths():
    with pytest.raises(ValueError, match="X has 10 samples and y has 9"):
        train_test_split(np.zeros((10, 3)), np.zeros(9))


def test_split_rejects_2d_labels():
    with pytest.raises(ValueError, match=r"y should be 1-D .*shape \(10, 1\)"):
        train_test_split(np.zeros((10, 3)), np.zeros((10, 1)))


def test_split_too_small_for_stratification():
    X = np.zeros((20, 1))
    y = np.arange(20) % 5
    with pytest.raises(ValueError, match=r"5 classes .*2 test .*stratify=False"):
        train_test_split(X, y, test_size=2)
    # The same request works without stratification.
    assert len(train_test_split(X, y, test_size=2, stratify=False)[1]) == 2


# ---------------------------------------------------------------------------
# IDX files
# ---------------------------------------------------------------------------

IDX_TYPE_CODES = {
    np.dtype(np.uint8): 0x08,
    np.dtype(np.int8): 0x09,
    np.dtype(np.int16): 0x0B,
    np.dtype(np.int32): 0x0C,
    np.dtype(np.float32): 0x0D,
    np.dtype(np.float64): 0x0E,
}


def write_idx(path, array, compress=False, extra=b""):
    """Write ``array`` as an IDX file (big-endian, as the format says)."""
    array = np.asarray(array)
    header = bytes([0, 0, IDX_TYPE_CODES[array.dtype], array.ndim])
    header += np.array(array.shape, dtype=">u4").tobytes()
    content = header + array.astype(array.dtype.newbyteorder(">")).tobytes() + extra
    pathlib.Path(path).write_bytes(gzip.compress(content) if compress else content)
    return path


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype", list(IDX_TYPE_CODES))
def test_idx_round_trip(tmp_path, dtype, compress):
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    if info is not None:
        array = rng.integers(info.min, info.max, size=(3, 4, 5), endpoint=True).astype(dtype)
    else:
        array = rng.standard_normal((3, 4, 5)).astype(dtype) * 1e3
    path = write_idx(tmp_path / "data.idx", array, compress=compress)
    loaded = load_idx(path)
    assert loaded.dtype == dtype and loaded.dtype.isnative
    assert loaded.shape == (3, 4, 5)
    np.testing.assert_array_equal(loaded, array)
    loaded[0, 0, 0] = 0  # a normal, writable array


def test_idx_accepts_str_and_1d(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    path = write_idx(tmp_path / "labels", labels)
    np.testing.assert_array_equal(load_idx(str(path)), labels)


def test_idx_gzip_detected_by_content_not_name(tmp_path):
    array = np.arange(6, dtype=np.int16).reshape(2, 3)
    compressed = write_idx(tmp_path / "plain-name.idx", array, compress=True)
    plain = write_idx(tmp_path / "looks-compressed.gz", array, compress=False)
    np.testing.assert_array_equal(load_idx(compressed), array)
    np.testing.assert_array_equal(load_idx(plain), array)


def test_idx_missing_file(tmp_path):
    missing = tmp_path / "train-images-idx3-ubyte.gz"
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte\.gz.*never downloads"):
        load_idx(missing)


def test_idx_bad_magic(tmp_path):
    path = tmp_path / "picture.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    with pytest.raises(ValueError, match="not an IDX file.*89 50 4e 47"):
        load_idx(path)


def test_idx_unknown_type_byte(tmp_path):
    path = tmp_path / "odd.idx"
    path.write_bytes(bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]))
    with pytest.raises(ValueError, match="not an IDX file.*00 00 07 01"):
        load_idx(path)


def test_idx_empty_file(tmp_path):
    path = tmp_path / "empty.idx"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="not an IDX file.*empty"):
        load_idx(path)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_truncated_data(tmp_path, compress):
    array = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    full = tmp_path / "full.idx"
    write_idx(full, array)
    cut = tmp_path / "cut.idx"
    content = full.read_bytes()[:-10]
    cut.write_bytes(gzip.compress(content) if compress else content)
    with pytest.raises(ValueError, match=r"truncated.*needs 96 data bytes, but the file has 86"):
        load_idx(cut)


def test_idx_damaged_gzip_and_a_folder_are_value_errors(tmp_path):
    packed = gzip.compress(bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 1, 2, 3]))
    (tmp_path / "cut.gz").write_bytes(packed[:-6])  # the gzip stream itself is cut short
    with pytest.raises(ValueError, match=r"cut.gz' is a damaged gzip file .*download it again"):
        load_idx(tmp_path / "cut.gz")
    with pytest.raises(ValueError, match="is a folder: give the path of an IDX file"):
        load_idx(tmp_path)


def test_idx_truncated_header(tmp_path):
    path = tmp_path / "short.idx"
    path.write_bytes(bytes([0, 0, 0x08, 3, 0, 0, 0, 2]))
    with pytest.raises(ValueError, match="header needs 16 bytes .* only 8"):
        load_idx(path)


def test_idx_extra_data(tmp_path):
    path = write_idx(tmp_path / "long.idx", np.zeros((2, 2), np.float64), extra=b"\x00" * 3)
    with pytest.raises(ValueError, match="longer than its header says.*needs 32 data bytes, but the file has 35"):
        load_idx(path)


def test_idx_rejects_non_path():
    with pytest.raises(TypeError, match="str or pathlib.Path"):
        load_idx(42)


def _fake_mnist(tmp_path, n_images=5, n_labels=5):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n_images, 4, 3), dtype=np.uint8)
    images[0, 0, 0] = 255
    labels = rng.integers(0, 10, size=n_labels, dtype=np.uint8)
    images_path = write_idx(tmp_path / "images-idx3-ubyte.gz", images, compress=True)
    labels_path = write_idx(tmp_path / "labels-idx1-ubyte.gz", labels, compress=True)
    return images, labels, images_path, labels_path


def test_idx_dataset_flat_and_normalized(tmp_path):
    images, labels, images_path, labels_path = _fake_mnist(tmp_path)
    X, y = load_idx_dataset(images_path, labels_path)
    assert X.shape == (5, 12) and X.dtype == np.float32
    assert y.shape == (5,) and y.dtype == np.int64
    assert X.min() >= 0.0 and X.max() == 1.0
    np.testing.assert_allclose(X, images.reshape(5, 12) / 255, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)


def test_idx_dataset_unflattened_raw(tmp_path):
    images, _, images_path, labels_path = _fake_mnist(tmp_path)
    X, _ = load_idx_dataset(str(images_path), str(labels_path), flatten=False, normalize=False)
    assert X.shape == (5, 4, 3) and X.dtype == np.float32
    np.testing.assert_array_equal(X, images)


def test_idx_dataset_count_mismatch(tmp_path):
    _, _, images_path, labels_path = _fake_mnist(tmp_path, n_images=5, n_labels=4)
    with pytest.raises(ValueError, match="5 images and 4 labels"):
        load_idx_dataset(images_path, labels_path)


def test_idx_dataset_swapped_paths(tmp_path):
    _, _, images_path, labels_path = _fake_mnist(tmp_path)
    with pytest.raises(ValueError, match=r"shape \(n, rows, cols\).*right way round"):
        load_idx_dataset(labels_path, images_path)


def test_idx_dataset_labels_must_be_1d(tmp_path):
    _, _, images_path, _ = _fake_mnist(tmp_path)
    labels_path = write_idx(tmp_path / "labels2d", np.zeros((5, 2), np.uint8))
    with pytest.raises(ValueError, match=r"labels file should hold a 1-D array.*\(5, 2\)"):
        load_idx_dataset(images_path, labels_path)


@pytest.mark.parametrize("labels", [np.array([0.0, 1.5, 2.0]), np.array([0, -1, 2], dtype=np.int8)])
def test_idx_dataset_labels_must_be_class_numbers(tmp_path, labels):
    images_path = write_idx(tmp_path / "images.idx", np.zeros((3, 2, 2), np.uint8))
    labels_path = write_idx(tmp_path / "labels.idx", labels)
    with pytest.raises(ValueError, match=r"should hold class numbers 0, 1, 2, .* holds (dtype float64|a smallest label of -1)"):
        load_idx_dataset(images_path, labels_path)
