"""Readers for real data on local disk: MNIST IDX files, LIBSVM/svmlight text, scikit-learn's bundled sets.

Every reader raises ``DataFileError`` (a ValueError) naming the file and the problem.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from .dataset import Dataset, encode_labels


class DataFileError(ValueError):
    """A data file is missing, truncated or malformed."""

    def __init__(self, path, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


# -- IDX (MNIST) -------------------------------------------------------------------

_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise DataFileError(path, "file not found") from None
    except (OSError, EOFError) as exc:  # bad gzip stream, permissions, a directory, ...
        raise DataFileError(path, f"cannot be read ({exc})") from None


def read_idx(path) -> np.ndarray:
    """Read one IDX file (optionally gzip-compressed, by a ``.gz`` suffix) into an ndarray."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataFileError(path, f"too short for an IDX header ({len(raw)} bytes, need at least 4)")
    if raw[0] != 0 or raw[1] != 0:
        raise DataFileError(path, f"not an IDX file: magic number starts with {raw[0]:#04x} {raw[1]:#04x}, expected 0x00 0x00")
    type_code, ndim = raw[2], raw[3]
    if type_code not in _IDX_TYPES:
        allowed = ", ".join(f"{k:#04x}" for k in _IDX_TYPES)
        raise DataFileError(path, f"unknown IDX data type {type_code:#04x} (allowed: {allowed})")
    if ndim == 0:
        raise DataFileError(path, "IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFileError(path, f"truncated IDX header: {ndim} dimensions need {header} bytes, file has {len(raw)}")
    shape = tuple(int(v) for v in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[type_code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(raw) - header
    if actual != expected:
        kind = "truncated" if actual < expected else "has trailing bytes"
        raise DataFileError(path, f"IDX data {kind}: shape {shape} of {dtype.str} needs {expected} bytes, found {actual}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _find(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        candidate = directory / name
        if candidate.exists():
            return candidate
    raise DataFileError(directory / stem, "file not found (also tried .gz and '.idx' spellings)")


def mnist(path, n: int | None = None, n_test: int | None = None, normalize: bool = True) -> Dataset:
    """MNIST (or Fashion-MNIST) from a directory holding the four standard IDX files.

    Files: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
    t10k-labels-idx1-ubyte (each may be .gz). Images are flattened to rows; with
    ``normalize`` pixels are divided by 255. ``n`` / ``n_test`` keep the first rows.
    """
    directory = Path(path)
    if not directory.is_dir():
        raise DataFileError(directory, "not a directory (mnist expects the folder holding the IDX files)")
    parts = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        img_path = _find(directory, f"{prefix}-images-idx3-ubyte")
        lab_path = _find(directory, f"{prefix}-labels-idx1-ubyte")
        images, labels = read_idx(img_path), read_idx(lab_path)
        if images.ndim < 2:
            raise DataFileError(img_path, f"expected images with at least 2 dimensions, got shape {images.shape}")
        if labels.ndim != 1:
            raise DataFileError(lab_path, f"expected a 1-D label vector, got shape {labels.shape}")
        if labels.shape[0] != images.shape[0]:
            raise DataFileError(lab_path, f"{labels.shape[0]} labels for {images.shape[0]} images in {img_path.name}")
        limit = n if split == "train" else n_test
        if limit is not None:
            images, labels = images[:limit], labels[:limit]
        X = images.reshape(images.shape[0], -1).astype(np.float64)
        parts[split] = (X / 255.0 if normalize else X, labels.astype(np.int64))
    (X, y), (X_test, y_test) = parts["train"], parts["test"]
    if X.shape[1] != X_test.shape[1]:
        raise DataFileError(directory, f"train images have {X.shape[1]} pixels, test images {X_test.shape[1]}")
    n_classes = int(max(y.max(), y_test.max())) + 1 if y.size else 0
    if y.size and y.min() < 0:
        raise DataFileError(directory, "negative class labels")
    params = dict(path=str(directory), n=n, n_test=n_test, normalize=normalize)
    return Dataset(X=X, y=y, X_test=X_test, y_test=y_test, n_classes=max(n_classes, 2),
                   classes=tuple(range(max(n_classes, 2))), name="mnist", params=params)


# -- svmlight / LIBSVM -------------------------------------------------------------


def read_svmlight(path, n_features: int | None = None, zero_based: bool = False):
    """Parse a LIBSVM/svmlight text file: ``label index:value ... [# comment]`` per line.

    Returns (X dense float64, raw labels float64). Indices are 1-based unless
    ``zero_based``; ``qid:`` tokens are ignored. Errors name the file and line.
    """
    path = Path(path)
    raw = _read_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataFileError(path, f"not UTF-8 text (byte {exc.start})") from None
    labels, rows, max_index = [], [], -1
    base = 0 if zero_based else 1
    for lineno, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        tokens = content.split()
        try:
            label = float(tokens[0])
        except ValueError:
            raise DataFileError(path, f"line {lineno}: label {tokens[0]!r} is not a number") from None
        entries = {}
        for token in tokens[1:]:
            key, sep, value = token.partition(":")
            if not sep:
                raise DataFileError(path, f"line {lineno}: token {token!r} is not index:value")
            if key == "qid":
                continue
            try:
                index, val = int(key) - base, float(value)
            except ValueError:
                raise DataFileError(path, f"line {lineno}: token {token!r} is not index:value with an integer index") from None
            if index < 0:
                raise DataFileError(path, f"line {lineno}: index {key} is below {base} ({'zero' if zero_based else 'one'}-based indices)")
            if not np.isfinite(val):
                raise DataFileError(path, f"line {lineno}: value {value!r} is not finite")
            if index in entries:
                raise DataFileError(path, f"line {lineno}: index {key} appears twice")
            entries[index] = val
            max_index = max(max_index, index)
        labels.append(label)
        rows.append(entries)
    if not rows:
        raise DataFileError(path, "no data lines")
    width = max_index + 1 if n_features is None else int(n_features)
    if max_index >= width:
        raise DataFileError(path, f"feature index {max_index + base} exceeds n_features={width}")
    X = np.zeros((len(rows), max(width, 1)))
    for r, entries in enumerate(rows):
        if entries:
            X[r, list(entries)] = list(entries.values())
    return X, np.asarray(labels, dtype=np.float64)


def svmlight(path, test_path=None, n_features: int | None = None, zero_based: bool = False,
             task: str = "auto") -> Dataset:
    """A Dataset from svmlight files. ``task``: "classification", "regression" or "auto"
    (classification when every label is an integer and there are at most 1000 distinct ones)."""
    if task not in ("auto", "classification", "regression"):
        raise ValueError(f"task must be 'auto', 'classification' or 'regression', got {task!r}")
    X, raw = read_svmlight(path, n_features, zero_based)
    X_test = raw_test = None
    if test_path is not None:
        X_test, raw_test = read_svmlight(test_path, n_features, zero_based)
        width = max(X.shape[1], X_test.shape[1])
        X, X_test = (np.pad(a, ((0, 0), (0, width - a.shape[1]))) for a in (X, X_test))
    all_labels = raw if raw_test is None else np.concatenate([raw, raw_test])
    if task == "auto":
        integral = np.all(all_labels == np.round(all_labels))
        task = "classification" if integral and np.unique(all_labels).size <= 1000 else "regression"
    params = dict(path=os.fspath(path), test_path=None if test_path is None else os.fspath(test_path),
                  n_features=n_features, zero_based=zero_based, task=task)
    if task == "regression":
        return Dataset(X=X, y=raw, X_test=X_test, y_test=raw_test, name="svmlight", params=params)
    idx, classes = encode_labels(all_labels)
    if len(classes) < 2:
        raise DataFileError(path, f"classification needs at least 2 distinct labels, found {classes}")
    y, y_test = idx[: raw.size], (None if raw_test is None else idx[raw.size:])
    return Dataset(X=X, y=y, X_test=X_test, y_test=y_test, n_classes=len(classes), classes=classes,
                   name="svmlight", params=params)


# -- scikit-learn's bundled datasets (optional extra) --------------------------------


def _sklearn_datasets():
    try:
        from sklearn import datasets
    except ImportError:
        raise ImportError(
            "the 'digits' and 'breast_cancer' datasets come bundled with scikit-learn, which is not "
            "installed; install the optional extra: pip install 'lpsim[datasets]'"
        ) from None
    return datasets


def _split(X, y, test_fraction: float, seed: int):
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction!r}")
    order = np.random.default_rng(seed).permutation(X.shape[0])
    n_test = int(round(test_fraction * X.shape[0]))
    test, train = order[:n_test], order[n_test:]
    if n_test == 0:
        return X[train], y[train], None, None
    return X[train], y[train], X[test], y[test]


def _bundled(name: str, loader: str, test_fraction: float, seed: int, standardize: bool) -> Dataset:
    bunch = getattr(_sklearn_datasets(), loader)()
    X = np.asarray(bunch.data, dtype=np.float64)
    y, classes = encode_labels(bunch.target)
    X, y, X_test, y_test = _split(X, y, test_fraction, seed)
    if standardize:  # statistics of the training rows only, so the test split stays unseen
        mean, std = X.mean(axis=0), X.std(axis=0)
        std[std == 0] = 1.0
        X = (X - mean) / std
        X_test = None if X_test is None else (X_test - mean) / std
    params = dict(test_fraction=test_fraction, seed=seed, standardize=standardize)
    return Dataset(X=X, y=y, X_test=X_test, y_test=y_test, n_classes=len(classes), classes=classes,
                   name=name, params=params)


def digits(test_fraction: float = 0.2, seed: int = 0, standardize: bool = True) -> Dataset:
    """scikit-learn's 8x8 digits (1797 x 64, 10 classes), shuffled split by ``seed``."""
    return _bundled("digits", "load_digits", test_fraction, seed, standardize)


def breast_cancer(test_fraction: float = 0.2, seed: int = 0, standardize: bool = True) -> Dataset:
    """scikit-learn's Wisconsin breast cancer data (569 x 30, 2 classes), shuffled split by ``seed``."""
    return _bundled("breast_cancer", "load_breast_cancer", test_fraction, seed, standardize)
