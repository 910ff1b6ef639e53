import numpy as np

from lpsim.nn import NetData


def blobs(n: int, d: int, classes: int, seed: int, n_test: int = 16) -> NetData:
    """Small separable-ish Gaussian blobs: a classification task cheap enough for the exact engine."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((classes, d)) * 2
    y = rng.integers(0, classes, size=n + n_test)
    X = centers[y] + rng.standard_normal((n + n_test, d))
    return NetData(X=X[:n], y=y[:n], X_test=X[n:], y_test=y[n:], n_classes=classes, name="blobs")
