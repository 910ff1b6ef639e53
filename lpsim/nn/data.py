"""Data for networks: lpsim's datasets with their sample shape, and a generated sequence task."""

from __future__ import annotations

import attrs
import numpy as np

from ..data import DATASETS, make_dataset
from ..data.dataset import Dataset


@attrs.frozen(kw_only=True, eq=False)
class NetData:
    """Training and test samples shaped for a network: X is (N, *sample_shape), y holds class indices."""

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    name: str = ""

    @property
    def sample_shape(self) -> tuple:
        return self.X.shape[1:]


# the 8 x 8 images of scikit-learn's digits, as (channels, height, width) for convolutions
_IMAGE_SHAPES = {"digits": (1, 8, 8)}


def from_dataset(data: Dataset, sample_shape: tuple | None = None) -> NetData:
    """Wrap an lpsim Dataset (it must have a test split), reshaping each row to ``sample_shape``."""
    if data.n_classes is None:
        raise ValueError(f"dataset {data.name!r} is a regression set; lpsim.nn trains classifiers")
    if data.X_test is None:
        raise ValueError(f"dataset {data.name!r} has no test split; give it test_fraction > 0")
    shape = (data.d,) if sample_shape is None else tuple(sample_shape)
    if int(np.prod(shape)) != data.d:
        raise ValueError(f"dataset {data.name!r}: sample_shape {shape} does not hold its {data.d} features")
    return NetData(X=np.asarray(data.X).reshape(-1, *shape), y=np.asarray(data.y),
                   X_test=np.asarray(data.X_test).reshape(-1, *shape), y_test=np.asarray(data.y_test),
                   n_classes=data.n_classes, name=data.name)


def load(name: str, *, images: bool = False, **params) -> NetData:
    """``digits``, ``breast_cancer``, ``mnist`` or ``svmlight`` through lpsim.data (``images=True`` shapes
    digits as 1 x 8 x 8 images), or ``sequence`` (see ``sequence_task``)."""
    if name == "sequence":
        return sequence_task(**params)
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join([*DATASETS, 'sequence'])}")
    data = make_dataset(name, **params)
    shape = None
    if images:
        shape = _IMAGE_SHAPES.get(name)
        if shape is None and name == "mnist":
            shape = (1, 28, 28)
        if shape is None:
            raise ValueError(f"dataset {name!r} has no image shape; images=True applies to digits and mnist")
    return from_dataset(data, shape)


def sequence_task(n: int = 1000, n_test: int = 200, length: int = 10, seed: int = 0) -> NetData:
    """The adding problem as a classification: each step carries (value, marker) with value ~ U[0, 1);
    exactly two steps are marked, and the label is 1 when their values sum to more than 1 (balanced classes).
    A network must remember the marked values across the sequence."""
    for label, value, low in (("n", n, 1), ("n_test", n_test, 1), ("length", length, 2), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"sequence_task: {label} must be an integer >= {low}, got {value!r}")
    rng = np.random.default_rng(seed)
    total = n + n_test
    values = rng.random((total, length))
    marks = np.zeros((total, length))
    first = rng.integers(0, length, size=total)
    second = (first + rng.integers(1, length, size=total)) % length  # a different step
    marks[np.arange(total), first] = 1.0
    marks[np.arange(total), second] = 1.0
    y = ((values * marks).sum(axis=1) > 1.0).astype(np.int64)
    X = np.stack([values, marks], axis=2)
    return NetData(X=X[:n], y=y[:n], X_test=X[n:], y_test=y[n:], n_classes=2, name="sequence")
