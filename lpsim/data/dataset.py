"""The Dataset value: features and labels, read-only, with where they came from."""

from __future__ import annotations

import attrs
import numpy as np


def _frozen_array(value, name: str, dtype=None, ndim: int | None = None):
    if value is None:
        return None
    arr = np.array(value, dtype=dtype, copy=True)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"Dataset: {name} must be {ndim}-dimensional, got shape {arr.shape}")
    arr.setflags(write=False)
    return arr


def _labels(value, name: str):
    if value is None:
        return None
    arr = np.asarray(value)
    if arr.dtype.kind in "iub":
        return _frozen_array(arr, name, np.int64, 1)
    return _frozen_array(arr, name, np.float64, 1)


@attrs.frozen(kw_only=True, eq=False)
class Dataset:
    """A supervised dataset. Arrays are float64 features / labels, copied and made read-only.

    ``y`` holds class indices 0..n_classes-1 (int64) for classification and float64
    targets for regression (``n_classes`` is None). ``X_test``/``y_test`` are None when
    the source has no held-out split. ``classes`` maps class index -> original label.
    """

    X: np.ndarray = attrs.field(converter=lambda v: _frozen_array(v, "X", np.float64, 2))
    y: np.ndarray = attrs.field(converter=lambda v: _labels(v, "y"))
    X_test: np.ndarray | None = attrs.field(default=None, converter=lambda v: _frozen_array(v, "X_test", np.float64, 2))
    y_test: np.ndarray | None = attrs.field(default=None, converter=lambda v: _labels(v, "y_test"))
    n_classes: int | None = None
    classes: tuple | None = None
    name: str = ""
    params: dict = attrs.field(factory=dict, converter=dict)

    def __attrs_post_init__(self):
        n, d = self.X.shape
        if n == 0 or d == 0:
            raise ValueError(f"Dataset {self.name!r}: X must have at least one row and one column, got shape {self.X.shape}")
        if self.y.shape != (n,):
            raise ValueError(f"Dataset {self.name!r}: y has shape {self.y.shape}, expected ({n},) to match X")
        if not np.all(np.isfinite(self.X)):
            raise ValueError(f"Dataset {self.name!r}: X holds NaN or inf")
        if (self.X_test is None) != (self.y_test is None):
            raise ValueError(f"Dataset {self.name!r}: give X_test and y_test together")
        if self.X_test is not None:
            if self.X_test.shape[1] != d:
                raise ValueError(f"Dataset {self.name!r}: X_test has {self.X_test.shape[1]} columns, X has {d}")
            if self.y_test.shape != (self.X_test.shape[0],):
                raise ValueError(f"Dataset {self.name!r}: y_test has shape {self.y_test.shape}, expected ({self.X_test.shape[0]},)")
        if self.n_classes is not None:
            if not isinstance(self.n_classes, int) or self.n_classes < 2:
                raise ValueError(f"Dataset {self.name!r}: n_classes must be an integer >= 2 or None, got {self.n_classes!r}")
            for label, arr in (("y", self.y), ("y_test", self.y_test)):
                if arr is None:
                    continue
                if arr.dtype != np.int64 or arr.size and (arr.min() < 0 or arr.max() >= self.n_classes):
                    raise ValueError(
                        f"Dataset {self.name!r}: {label} must hold class indices in [0, {self.n_classes - 1}]"
                    )

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]


def encode_labels(raw) -> tuple[np.ndarray, tuple]:
    """Map arbitrary class labels to indices 0..K-1 in sorted label order."""
    classes, idx = np.unique(np.asarray(raw), return_inverse=True)
    return idx.astype(np.int64), tuple(c.item() for c in classes)
