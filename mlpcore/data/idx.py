"""IDX files, the format of MNIST and Fashion-MNIST (which you download yourself)."""

from __future__ import annotations

import gzip
import math
import os
import zlib

import numpy as np

# IDX type byte -> element type as stored (multi-byte types are big-endian).
_IDX_TYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_WHERE_TO_GET_DATA = (
    "mlpcore never downloads data. Download the MNIST or Fashion-MNIST IDX files "
    "(e.g. train-images-idx3-ubyte.gz) yourself and pass their paths."
)


def load_idx(path):
    """Read an array from an IDX file (the format of MNIST and Fashion-MNIST).

    Parameters
    ----------
    path : str or os.PathLike
        The file, gzip-compressed or not (recognised by its content, not its
        name).

    Returns
    -------
    array : ndarray, shape as stored in the file
        uint8, int8, int16, int32, float32 or float64 depending on the file,
        in the machine's native byte order. MNIST image files give shape
        (n, 28, 28), label files shape (n,).

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not IDX, or has fewer or more data bytes than its
        header promises.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path should be a str or pathlib.Path, but got {type(path).__name__} ({path!r})")
    if not os.path.exists(path):
        raise FileNotFoundError(f"no IDX file at {os.fspath(path)!r}. {_WHERE_TO_GET_DATA}")
    if os.path.isdir(path):
        raise ValueError(f"{os.fspath(path)!r} is a folder: give the path of an IDX file, e.g. train-images-idx3-ubyte.gz")
    with open(path, "rb") as f:
        content = f.read()
    # gzip files start with the bytes 1f 8b whatever they are called.
    if content[:2] == b"\x1f\x8b":
        try:
            content = gzip.decompress(content)
        except (EOFError, OSError, zlib.error) as exc:  # cut short, or bytes changed on the way
            raise ValueError(
                f"{os.fspath(path)!r} is a damaged gzip file ({exc}); download it again"
            ) from None

    # Header: two zero bytes, the type byte, the number of dimensions.
    if len(content) < 4 or content[:2] != b"\x00\x00" or content[2] not in _IDX_TYPES:
        raise ValueError(
            f"{os.fspath(path)!r} is not an IDX file: it should start with 00 00, a type byte "
            f"(08, 09, 0b, 0c, 0d or 0e) and the number of dimensions, but its first bytes "
            f"are {content[:4].hex(' ') or 'missing (the file is empty)'}"
        )
    stored_type = _IDX_TYPES[content[2]]
    ndim = content[3]
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise ValueError(
            f"{os.fspath(path)!r} is truncated: its header needs {header_size} bytes for "
            f"{ndim} dimensions, but the file has only {len(content)}"
        )
    shape = tuple(int(d) for d in np.frombuffer(content, dtype=">u4", count=ndim, offset=4))

    expected = math.prod(shape) * stored_type.itemsize
    actual = len(content) - header_size
    if actual != expected:
        problem = "truncated" if actual < expected else "longer than its header says"
        raise ValueError(
            f"{os.fspath(path)!r} is {problem}: shape {shape} of {stored_type.name} needs "
            f"{expected} data bytes, but the file has {actual}"
        )
    data = np.frombuffer(content, dtype=stored_type, offset=header_size).reshape(shape)
    # astype to the native byte order makes a writable copy that NumPy (and a
    # GPU library) can compute with at full speed.
    return data.astype(stored_type.newbyteorder("="))


def load_idx_dataset(images_path, labels_path, flatten=True, normalize=True):
    """Load an IDX image file and its label file as ``(X, y)``.

    Parameters
    ----------
    images_path : str or os.PathLike
        IDX file of images, shape (n, rows, cols), e.g.
        ``train-images-idx3-ubyte.gz``.
    labels_path : str or os.PathLike
        IDX file of labels, shape (n,), e.g. ``train-labels-idx1-ubyte.gz``.
    flatten : bool, default True
        If True, each image becomes one row of ``rows * cols`` pixels.
    normalize : bool, default True
        If True, divide pixel values by 255 so 8-bit images lie in [0, 1].

    Returns
    -------
    X : ndarray of float32, shape (n, rows * cols), or (n, rows, cols) when
        ``flatten`` is False
    y : ndarray of int64, shape (n,)
    """
    images = load_idx(images_path)
    labels = load_idx(labels_path)
    if images.ndim != 3:
        raise ValueError(
            f"the images file should hold an array of shape (n, rows, cols), but "
            f"{os.fspath(images_path)!r} holds shape {images.shape}. Are the images and labels "
            "paths the right way round?"
        )
    if labels.ndim != 1:
        raise ValueError(
            f"the labels file should hold a 1-D array of shape (n,), but "
            f"{os.fspath(labels_path)!r} holds shape {labels.shape}. Are the images and labels "
            "paths the right way round?"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"the images and labels files should describe the same samples, but there are "
            f"{len(images)} images and {len(labels)} labels. Do the two files belong together "
            "(both training or both test)?"
        )
    if labels.dtype.kind not in "iu" or (labels.size and int(labels.min()) < 0):
        found = f"dtype {labels.dtype}" if labels.dtype.kind not in "iu" else f"a smallest label of {int(labels.min())}"
        raise ValueError(
            f"the labels file should hold class numbers 0, 1, 2, ... (whole numbers, none negative), but "
            f"{os.fspath(labels_path)!r} holds {found}. Is it a labels file?"
        )
    X = images.astype(np.float32)
    if normalize:
        X /= 255.0
    if flatten:
        X = X.reshape(len(X), -1)
    return X, labels.astype(np.int64)
