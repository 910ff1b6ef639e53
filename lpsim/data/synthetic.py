"""Synthetic problems with known structure: least squares of a chosen condition number, logistic data."""

from __future__ import annotations

import numpy as np

from .dataset import Dataset


def _check_int(name, value, low, high=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low or (high is not None and value > high):
        bound = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be an integer {bound}, got {value!r}")
    return int(value)


def _check_float(name, value, low, *, inclusive=True):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(v) or v < low or (not inclusive and v == low):
        raise ValueError(f"{name} must be a finite number {'>=' if inclusive else '>'} {low}, got {value!r}")
    return v


def _orthonormal_columns(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((rows, cols)))
    return q * np.sign(np.diag(r))  # sign fix: a Haar-distributed basis


def least_squares(n: int = 1000, d: int = 10, condition_number: float = 10.0, noise: float = 0.1,
                  seed: int = 0, n_test: int = 0) -> Dataset:
    """Least squares whose Hessian X^T X / n has eigenvalues log-spaced in [1/condition_number, 1].

    X = sqrt(n) U diag(sqrt(lambda)) V^T with U (n x d) orthonormal columns and V orthogonal,
    so the unregularized objective has L_f = 1 and mu = 1 / condition_number exactly (up to
    float64 rounding). y = X w_true + noise * N(0, 1), with w_true ~ N(0, I / d). Test rows
    (n_test) are drawn from the same row distribution: sqrt(d)-scaled rows of a fresh basis.
    """
    n = _check_int("n", n, 1)
    d = _check_int("d", d, 1)
    if d > n:
        raise ValueError(f"d must be <= n for a full-rank least-squares problem, got d={d}, n={n}")
    kappa = _check_float("condition_number", condition_number, 1.0)
    noise = _check_float("noise", noise, 0.0)
    n_test = _check_int("n_test", n_test, 0)
    rng = np.random.default_rng(_check_int("seed", seed, 0))
    eigs = np.logspace(0.0, -np.log10(kappa), d) if d > 1 else np.ones(1)
    basis = _orthonormal_columns(rng, d, d)
    w_true = rng.standard_normal(d) / np.sqrt(d)

    def rows(count):
        u = _orthonormal_columns(rng, count, d) if count >= d else rng.standard_normal((count, d)) / np.sqrt(d)
        return np.sqrt(count) * (u * np.sqrt(eigs)) @ basis.T

    X = rows(n)
    y = X @ w_true + noise * rng.standard_normal(n)
    X_test = y_test = None
    if n_test:
        X_test = rows(n_test)
        y_test = X_test @ w_true + noise * rng.standard_normal(n_test)
    params = dict(n=n, d=d, condition_number=kappa, noise=noise, seed=int(seed), n_test=n_test)
    return Dataset(X=X, y=y, X_test=X_test, y_test=y_test, name="least_squares", params=params)


def _sigmoid(t):
    return 0.5 * (1.0 + np.tanh(0.5 * t))


def logistic(n: int = 1000, d: int = 10, separable: bool = False, seed: int = 0, signal: float = 2.0,
             margin: float = 0.0, n_test: int = 0) -> Dataset:
    """Binary classification data for logistic regression; labels are class indices 0/1.

    x ~ N(0, I). Not separable: P(y = 1 | x) = sigmoid(signal * x . u) with u a random unit
    vector, so labels are noisy. Separable: y = [x . u > 0], and points closer than
    ``margin`` to the plane are pushed out to it (margin >= 0).
    """
    n = _check_int("n", n, 2)
    d = _check_int("d", d, 1)
    if not isinstance(separable, (bool, np.bool_)):
        raise TypeError(f"separable must be a bool, got {separable!r}")
    signal = _check_float("signal", signal, 0.0)
    margin = _check_float("margin", margin, 0.0)
    n_test = _check_int("n_test", n_test, 0)
    rng = np.random.default_rng(_check_int("seed", seed, 0))
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)

    def draw(count):
        X = rng.standard_normal((count, d))
        t = X @ u
        if separable:
            y = (t > 0).astype(np.int64)
            push = np.where(np.abs(t) < margin, np.where(y == 1, margin, -margin) - t, 0.0)
            X = X + push[:, None] * u
        else:
            y = (rng.random(count) < _sigmoid(signal * t)).astype(np.int64)
        return X, y

    X, y = draw(n)
    X_test, y_test = draw(n_test) if n_test else (None, None)
    params = dict(n=n, d=d, separable=bool(separable), seed=int(seed), signal=signal, margin=margin, n_test=n_test)
    return Dataset(X=X, y=y, X_test=X_test, y_test=y_test, n_classes=2, classes=(0, 1), name="logistic", params=params)
